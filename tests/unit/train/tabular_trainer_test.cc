// The tabular trainer on demo data with planted signal: it must beat its baseline clearly,
// serve the same transformation it trained with, report progress, and stop when cancelled.
#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <thread>

#include "support/recording_sink.h"
#include "common/strings.h"
#include "data/demo_data.h"
#include "store/sql.h"
#include "support/test_server.h"
#include "train/eval/metrics.h"
#include "train/tabular/tabular_model.h"
#include "train/tabular/tabular_trainer.h"

namespace tsml::train::tabular {
namespace {

using test::RecordingSink;

class TabularTrainerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    auto db = store::OpenDatabase("sqlite://" + dir_->path() + "/data.db");
    ASSERT_TRUE(db.ok());
    db_ = db->release();
    data::DemoOptions o;
    o.events = 60000;  // 3,000 users, 12,000 bookings
    ASSERT_TRUE(data::SeedDemo(*db_, o).ok());
  }
  static void TearDownTestSuite() {
    delete db_;
    delete dir_;
  }

  absl::StatusOr<TrainResult> Run(const std::string& type, Json training_data, Json hp = {},
                                  const std::string& strategy = "train_test_split",
                                  common::CancellationToken* token = nullptr) {
    TrainSpec spec;
    spec.job_id = "job";
    spec.model_type = type;
    spec.training_data = std::move(training_data);
    common::ValidationErrors errors;
    spec.hyperparameters = ValidateHyperparameters(TabularHyperparams(), hp.is_null() ? Json::object() : hp, errors);
    EXPECT_TRUE(errors.empty()) << errors.ToStatus();
    spec.validation_strategy = strategy;
    spec.cpu = 2;
    spec.artifact_dir = common::StrCat(dir_->path(), "/art/", counter_++);
    TrainContext ctx{&sink_, token ? token : &token_, common::SystemClock::Default(), db_};
    return TabularTrainer().Train(spec, ctx);
  }

  // Raw rows of a source as JSON objects, with the target column.
  std::pair<Json, std::vector<int>> Rows(const std::string& source, const std::string& target,
                                         int limit) {
    Json rows = Json::array();
    std::vector<int> labels;
    // Column names come from the catalog; values by position (skipping the hidden _row key).
    auto catalog_rows = Select(common::StrCat("SELECT name FROM tsml_columns WHERE source = '",
                                              source, "' ORDER BY position"));
    std::vector<std::string> names;
    for (const auto& r : catalog_rows) names.push_back(r.Str(0));
    std::string cols;
    for (const auto& n : names) cols += (cols.empty() ? "\"" : ", \"") + n + "\"";
    for (const auto& r : Select(common::StrCat("SELECT ", cols, " FROM \"", source, "\" LIMIT ", limit))) {
      Json row = Json::object();
      for (size_t i = 0; i < names.size(); ++i) {
        const auto& v = r.Raw(i);
        if (std::holds_alternative<int64_t>(v)) row[names[i]] = std::get<int64_t>(v);
        if (std::holds_alternative<double>(v)) row[names[i]] = std::get<double>(v);
        if (std::holds_alternative<std::string>(v)) row[names[i]] = std::get<std::string>(v);
        if (names[i] == target) labels.push_back(static_cast<int>(r.Int(i)));
      }
      row.erase(target);
      rows.push_back(row);
    }
    return {rows, labels};
  }

  store::SqlRows Select(const std::string& sql) {
    store::SqlRows rows;
    EXPECT_TRUE(db_->Run([&](store::SqlConnection& c) -> absl::Status {
      auto r = c.Query(sql);
      if (!r.ok()) return r.status();
      rows = *std::move(r);
      return absl::OkStatus();
    }).ok());
    return rows;
  }

  static inline test::TempDir* dir_ = nullptr;
  static inline store::Database* db_ = nullptr;
  static inline int counter_ = 0;
  RecordingSink sink_;
  common::CancellationToken token_;
};

TEST_F(TabularTrainerTest, ChurnBeatsTheClassPriorAndServesTheSameTransformation) {
  auto r = Run("churn_prediction", {{"source", "user_profiles"}});
  ASSERT_TRUE(r.ok()) << r.status();
  const Json& e = r->evaluation;
  EXPECT_EQ(e["task"], "binary_classification");
  const double auc = e["metrics"]["rocAuc"], base_auc = e["baseline"]["metrics"]["rocAuc"];
  EXPECT_GT(auc, 0.75) << e["metrics"].dump();
  EXPECT_NEAR(base_auc, 0.5, 1e-9);
  EXPECT_LT(e["metrics"]["logLoss"].get<double>(), e["baseline"]["metrics"]["logLoss"].get<double>() - 0.05);
  EXPECT_EQ(e["baseline"]["name"], "class_prior");
  for (const char* key : {"confusionMatrix", "rocCurve", "prCurve", "featureImportance",
                          "errorAnalysis", "warnings", "visualizations", "dataSummary"}) {
    EXPECT_TRUE(e.contains(key)) << key;
  }
  EXPECT_LE(e["rocCurve"].size(), 200u);
  EXPECT_GE(e["visualizations"].size(), 3u);
  EXPECT_FALSE(e["featureImportance"].empty());
  EXPECT_TRUE(e["featureImportance"][0].contains("meanAbsShap"));
  // PII never becomes a feature.
  for (const auto& f : e["featureImportance"]) {
    const std::string name = f["feature"];
    const std::string column = name.substr(0, std::min(name.find('='), name.find("__")));
    for (const char* pii : {"email", "first_name", "last_name", "phone", "user_id"}) {
      EXPECT_NE(column, pii) << name;
    }
  }
  // Monotonic progress ending at 100.
  auto values = sink_.values();
  ASSERT_FALSE(values.empty());
  for (size_t i = 1; i < values.size(); ++i) EXPECT_GE(values[i], values[i - 1]);
  EXPECT_EQ(values.back(), 100);

  // Load the artifact and predict on raw rows: the served transformation must match.
  ASSERT_TRUE(r->model.has_value());
  auto predictor = LoadTabularPredictor(r->model->file_path);
  ASSERT_TRUE(predictor.ok()) << predictor.status();
  auto [rows, labels] = Rows("user_profiles", "churned", 3000);
  auto preds = (*predictor)->Predict(rows, Json::object());
  ASSERT_TRUE(preds.ok()) << preds.status();
  std::vector<double> p;
  for (const auto& x : *preds) p.push_back(x["probability"].get<double>());
  auto served_auc = eval::RocAuc(labels, p);
  ASSERT_TRUE(served_auc.ok());
  EXPECT_GT(**served_auc, 0.75);
  // Reloading gives identical predictions.
  auto again = LoadTabularPredictor(r->model->file_path);
  EXPECT_EQ((*again)->Predict(rows, Json::object())->dump(), preds->dump());
  // Wrong types are refused with the instance and column named.
  auto bad = (*predictor)->Predict(Json::array({{{"age", "old"}}}), Json::object());
  EXPECT_TRUE(absl::IsInvalidArgument(bad.status()));
  EXPECT_NE(bad.status().message().find("instances[0].age"), std::string::npos) << bad.status();
  // Missing columns are missing values, not errors.
  EXPECT_TRUE((*predictor)->Predict(Json::array({Json::object()}), Json::object()).ok());
}

TEST_F(TabularTrainerTest, BookingCancellationAndAmountRegression) {
  auto r = Run("predictive_analytics", {{"source", "bookings"}});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->evaluation["task"], "binary_classification");
  EXPECT_GT(r->evaluation["metrics"]["rocAuc"].get<double>(), 0.7);

  auto reg = Run("predictive_analytics", {{"source", "bookings"}, {"target", "amount"}});
  ASSERT_TRUE(reg.ok()) << reg.status();
  EXPECT_EQ(reg->evaluation["task"], "regression");
  EXPECT_GT(reg->evaluation["metrics"]["r2"].get<double>(), 0.5) << reg->evaluation["metrics"].dump();
  EXPECT_LT(reg->evaluation["metrics"]["rmse"].get<double>(),
            0.7 * reg->evaluation["baseline"]["metrics"]["rmse"].get<double>());
  EXPECT_TRUE(reg->evaluation["errorAnalysis"].contains("residualQuantiles"));
  auto predictor = LoadTabularPredictor(reg->model->file_path);
  ASSERT_TRUE(predictor.ok());
  auto out = (*predictor)->Predict(Json::array({{{"nights", 3}, {"price_per_night", 120.0}}}), Json::object());
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE((*out)[0]["value"].is_number());
}

TEST_F(TabularTrainerTest, MulticlassTarget) {
  auto r = Run("predictive_analytics", {{"source", "user_profiles"}, {"target", "loyalty_tier"}});
  ASSERT_TRUE(r.ok()) << r.status();
  const Json& e = r->evaluation;
  EXPECT_EQ(e["task"], "multiclass_classification");
  EXPECT_GT(e["metrics"]["accuracy"].get<double>(), e["baseline"]["metrics"]["accuracy"].get<double>() + 0.05);
  EXPECT_EQ(e["confusionMatrix"]["labels"].size(), 4u);
  auto predictor = LoadTabularPredictor(r->model->file_path);
  auto out = (*predictor)->Predict(Json::array({{{"total_spend", 5000.0}}}), Json::object());
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)[0]["probabilities"].size(), 4u);
}

TEST_F(TabularTrainerTest, LinearModelKFoldAndTimeSeriesSplit) {
  auto lin = Run("user_behavior", {{"source", "user_profiles"}}, {{"algorithm", "linear"}});
  ASSERT_TRUE(lin.ok()) << lin.status();
  EXPECT_GT(lin->evaluation["metrics"]["rocAuc"].get<double>(), 0.75);
  auto predictor = LoadTabularPredictor(lin->model->file_path);
  ASSERT_TRUE(predictor.ok()) << predictor.status();

  auto kf = Run("churn_prediction", {{"source", "user_profiles"}}, {{"folds", 3}}, "k_fold");
  ASSERT_TRUE(kf.ok()) << kf.status();
  EXPECT_EQ(kf->evaluation["folds"].size(), 3u);
  EXPECT_TRUE(kf->evaluation["foldSummary"]["std"].contains("rocAuc"));
  EXPECT_GT(kf->evaluation["metrics"]["rocAuc"].get<double>(), 0.75);

  auto ts = Run("churn_prediction", {{"source", "user_profiles"}}, {{"folds", 2}}, "time_series_split");
  ASSERT_TRUE(ts.ok()) << ts.status();
  EXPECT_EQ(ts->evaluation["folds"].size(), 2u);
  // Expanding window: each fold trains on more rows than the one before.
  EXPECT_LT(ts->evaluation["folds"][0]["trainRows"].get<int>(), ts->evaluation["folds"][1]["trainRows"].get<int>());
}

TEST_F(TabularTrainerTest, TuningRunsTrials) {
  auto r = Run("churn_prediction", {{"source", "user_profiles"}},
               {{"tuning", {{"trials", 3}, {"timeBudgetSeconds", 60}}}, {"nEstimators", 50}});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->evaluation["tuning"]["trials"], 3);
  EXPECT_TRUE(r->evaluation["tuning"]["best"].contains("maxDepth"));
}

TEST_F(TabularTrainerTest, CancelledWithinTwoSeconds) {
  common::CancellationToken token;
  absl::StatusOr<TrainResult> result;
  std::thread t([&] {
    result = Run("churn_prediction", {{"source", "user_profiles"}},
                 {{"nEstimators", 5000}, {"earlyStoppingRounds", 0}, {"learningRate", 0.001}},
                 "train_test_split", &token);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  const auto start = std::chrono::steady_clock::now();
  token.Cancel(common::CancelReason::kUser);
  t.join();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  EXPECT_TRUE(absl::IsCancelled(result.status())) << result.status();
  EXPECT_LT(ms, 2000);
}

TEST_F(TabularTrainerTest, HyperparametersAreValidated) {
  common::ValidationErrors errors;
  ValidateHyperparameters(TabularHyperparams(),
                          {{"maxDepth", 0}, {"learningRate", "fast"}, {"colour", 1},
                           {"tuning", {{"trials", 0}}}, {"algorithm", "svm"}},
                          errors);
  std::set<std::string> fields;
  for (const auto& e : errors.errors()) fields.insert(e.field);
  EXPECT_EQ(fields, (std::set<std::string>{"hyperparameters.maxDepth", "hyperparameters.learningRate",
                                          "hyperparameters.colour", "hyperparameters.tuning.trials",
                                          "hyperparameters.algorithm"}));
}

TEST_F(TabularTrainerTest, UnusableRequestsFailWithAReason) {
  auto r = Run("churn_prediction", {{"source", "user_profiles"}, {"filters", {{"age", {{"gt", 500}}}}}});
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(r.status().message().empty());
}

}  // namespace
}  // namespace tsml::train::tabular
