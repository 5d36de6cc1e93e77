// demand_forecast: series building, Holt-Winters, the trainer on the seeded demo bookings and on
// the real bike-sharing data (Fanaee-T & Gama 2013, UCI, CC BY 4.0), predictor round trips,
// validation strategies and cancellation.
#include "support/shared_data.h"
#include "support/recording_sink.h"
#include "train/forecast/forecast_trainer.h"

#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>

#include "common/clock.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "data/csv_import.h"
#include "data/demo_data.h"
#include "gtest/gtest.h"
#include "store/sql.h"
#include "support/test_db.h"
#include "train/bundle.h"
#include "train/forecast/holt_winters.h"
#include "train/forecast/lag_features.h"
#include "train/forecast/register.h"
#include "train/forecast/series.h"

namespace tsml::train::forecast {
namespace {

namespace fs = std::filesystem;
using common::StrCat;

using test::RecordingSink;

// Temporary folders, removed when the suite ends.
std::vector<std::string>& TempDirs() {
  static auto* dirs = new std::vector<std::string>();
  return *dirs;
}

std::string MakeTempDir(const std::string& prefix) {
  std::string tmpl = (fs::temp_directory_path() / (prefix + "XXXXXX")).string();
  if (mkdtemp(tmpl.data()) == nullptr) return "";
  TempDirs().push_back(tmpl);
  return tmpl;
}

class RemoveTempDirs final : public ::testing::Environment {
 public:
  void TearDown() override {
    for (const std::string& d : TempDirs()) {
      std::error_code ec;
      fs::remove_all(d, ec);
    }
  }
};
const auto* const kRemoveTempDirs = ::testing::AddGlobalTestEnvironment(new RemoveTempDirs());

// One demo database for the whole suite (seeding takes a few seconds).
class DemoData {
 public:
  static DemoData& Get() {
    static DemoData* d = new DemoData();
    return *d;
  }
  store::Database& db() { return *db_; }
  const std::string& dir() const { return dir_; }

 private:
  DemoData() {
    dir_ = MakeTempDir("tsml_forecast_test_");
    auto db = store::OpenDatabase("sqlite://" + dir_ + "/data.db");
    if (!db.ok()) return;
    db_ = *std::move(db);
    auto report = data::SeedDemo(*db_, {.events = 100000, .seed = 42});
    if (!report.ok()) std::cerr << "seeding failed: " << report.status() << "\n";
  }
  std::string dir_;
  std::unique_ptr<store::Database> db_;
};

using Trained = test::TrainRun;

Trained TrainOn(store::Database& db, const std::string& artifact_dir, Json training_data,
                Json hyperparameters, std::string strategy = "train_test_split",
                const common::CancellationToken* cancel = nullptr) {
  TrainSpec spec;
  spec.job_id = "job";
  spec.model_type = kModelType;
  spec.training_data = std::move(training_data);
  spec.hyperparameters = std::move(hyperparameters);
  spec.validation_strategy = std::move(strategy);
  spec.cpu = 2;
  spec.artifact_dir = artifact_dir;
  ForecastTrainer trainer;
  return test::RunTrainer(trainer, spec, &db, cancel);
}

double Num(const Json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? j[key].get<double>() : NAN;
}

void ExpectMonotonic(const std::vector<double>& p) {
  ASSERT_FALSE(p.empty());
  for (size_t i = 1; i < p.size(); ++i) ASSERT_GE(p[i], p[i - 1]) << "at report " << i;
  EXPECT_LE(p.back(), 100.0);
}

std::string Report(const Json& ev) {
  return StrCat("algorithm=", ev["algorithm"]["name"].get<std::string>(),
                " model=", common::DumpJson(ev["metrics"]),
                " seasonal_naive=", common::DumpJson(ev["baseline"]["metrics"]));
}

// ---- Calendar and series ----------------------------------------------------------------------

TEST(ForecastCalendar, PeriodsAndHolidays) {
  const int64_t d = common::DaysFromCivil(2024, 12, 31);  // a Tuesday
  EXPECT_EQ(PeriodFirstDay(Frequency::kWeekly, PeriodOfDay(Frequency::kWeekly, d)),
            common::DaysFromCivil(2024, 12, 30));
  EXPECT_EQ(PeriodLastDay(Frequency::kWeekly, PeriodOfDay(Frequency::kWeekly, d)),
            common::DaysFromCivil(2025, 1, 5));
  EXPECT_EQ(PeriodOfDay(Frequency::kMonthly, d), (2024 - 1970) * 12 + 11);
  EXPECT_EQ(PeriodLabel(Frequency::kMonthly, PeriodOfDay(Frequency::kMonthly, d)),
            "2024-12-01T00:00:00.000Z");
  EXPECT_EQ(PeriodLastDay(Frequency::kMonthly,
                          PeriodOfDay(Frequency::kMonthly, common::DaysFromCivil(2024, 2, 10))),
            common::DaysFromCivil(2024, 2, 29));
  EXPECT_EQ(DayOfMillis(-1), -1);
  EXPECT_TRUE(IsHoliday(common::DaysFromCivil(2024, 3, 31)));   // Easter Sunday 2024
  EXPECT_TRUE(IsHoliday(common::DaysFromCivil(2024, 3, 29)));   // Good Friday
  EXPECT_TRUE(IsHoliday(common::DaysFromCivil(2024, 11, 28)));  // Thanksgiving 2024
  EXPECT_TRUE(IsHoliday(common::DaysFromCivil(2023, 11, 24)));  // the day after, 2023
  EXPECT_FALSE(IsHoliday(common::DaysFromCivil(2024, 11, 21)));
  EXPECT_TRUE(IsHoliday(common::DaysFromCivil(2024, 12, 25)));
  EXPECT_FALSE(IsHoliday(common::DaysFromCivil(2024, 6, 12)));
  EXPECT_EQ(IsoWeek(common::DaysFromCivil(2024, 12, 30)), 1);
  EXPECT_EQ(IsoWeek(common::DaysFromCivil(2021, 1, 3)), 53);
}

TEST(ForecastSeries, ZeroFillsGroupsAndMergesSmallOnes) {
  SeriesQuery q;
  q.source = "bookings";
  q.group_by = "channel";
  q.max_groups = 2;
  const int64_t d0 = common::DaysFromCivil(2024, 1, 1);
  std::vector<DayCell> cells = {
      {d0, "a", 3}, {d0 + 2, "a", 1}, {d0 + 1, "b", 2}, {d0 + 3, "c", 5}, {d0 + 4, "a", 1}};
  auto set = BuildSeries(q, cells, {"a", "c", "b"}, d0, d0 + 4);
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->total.values, (std::vector<double>{3, 2, 1, 5, 1}));
  ASSERT_EQ(set->groups.size(), 3u);
  EXPECT_EQ(set->groups[0].name, "a");
  EXPECT_EQ(set->groups[0].values, (std::vector<double>{3, 0, 1, 0, 1}));
  EXPECT_EQ(set->groups[1].name, "c");  // starts at its first period
  EXPECT_EQ(set->groups[1].first_period, d0 + 3);
  EXPECT_EQ(set->groups[1].values, (std::vector<double>{5, 0}));
  EXPECT_EQ(set->groups[2].name, kOtherGroup);
  EXPECT_EQ(set->groups[2].values, (std::vector<double>{2, 0, 0, 0}));

  // Weekly: partial first and last weeks are left out.
  q.frequency = Frequency::kWeekly;
  q.group_by.clear();
  std::vector<DayCell> days;
  const int64_t start = common::DaysFromCivil(2024, 1, 3);  // a Wednesday
  for (int i = 0; i < 30; ++i) days.push_back({start + i, "", 1.0});
  auto weekly = BuildSeries(q, days, {}, start, start + 29);
  ASSERT_TRUE(weekly.ok()) << weekly.status();
  EXPECT_EQ(weekly->total.values, (std::vector<double>{7, 7, 7}));
  EXPECT_EQ(weekly->warnings.size(), 2u);
}

// The aggregation SQL is the same text on both backends: the same demo rows give the same
// series on SQLite and PostgreSQL.
class ForecastBackendTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ForecastBackendTest, AggregatesAndTrainsOnEveryBackend) {
  const std::string dir = MakeTempDir("tsml_fc_backend_");
  auto scoped = test::ScopedTestDatabase::Create(GetParam(), dir);
  ASSERT_TRUE(scoped.ok()) << scoped.status();
  auto db = store::OpenDatabase(scoped->url());
  ASSERT_TRUE(db.ok()) << db.status();
  ASSERT_TRUE(data::SeedDemo(**db, {.events = 10000, .seed = 7}).ok());
  SeriesQuery q;
  q.source = "bookings";
  q.group_by = "channel";
  q.target = "nights";
  q.frequency = Frequency::kWeekly;
  auto set = LoadSeries(**db, q, nullptr);
  ASSERT_TRUE(set.ok()) << set.status();
  double sum_total = 0, sum_groups = 0;
  for (double v : set->total.values) sum_total += v;
  for (const Series& g : set->groups) sum_groups += g.volume;
  EXPECT_DOUBLE_EQ(sum_total, sum_groups);
  EXPECT_EQ(set->groups.size(), 4u);
  EXPECT_EQ(set->total.first_period,
            PeriodOfDay(Frequency::kWeekly, common::DaysFromCivil(2023, 1, 2)));
  // A fingerprint of the series that both backends must reproduce.
  std::cout << "[" << GetParam() << "] weekly nights per channel: " << set->total.values.size()
            << " weeks, total " << sum_total << ", first group " << set->groups[0].name << " "
            << set->groups[0].volume << "\n";
  EXPECT_EQ(sum_total, 6925);  // measured on both backends (the partial weeks left out)
  EXPECT_EQ(set->groups[0].name, "ota");
  EXPECT_EQ(set->groups[0].volume, 2982);
  Trained t =
      TrainOn(**db, dir + "/art", {{"source", "bookings"}, {"filters", {{"channel", "ota"}}}},
              {{"algorithm", "holt_winters"}, {"horizon", 7}});
  ASSERT_TRUE(t.result.ok()) << t.result.status();
}

INSTANTIATE_TEST_SUITE_P(Backends, ForecastBackendTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

// ---- Holt-Winters -----------------------------------------------------------------------------

TEST(HoltWinters, FitsTrendAndSeasonAndRoundTrips) {
  std::vector<double> y;
  const double season[7] = {5, -3, 0, 2, -4, 1, -1};
  for (int t = 0; t < 140; ++t) y.push_back(50 + 0.2 * t + season[t % 7]);
  auto m = FitHoltWinters(y, 7);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->season, 7);
  std::vector<double> f = m->Forecast(14);
  for (int k = 0; k < 14; ++k) {
    const int t = 140 + k;
    EXPECT_NEAR(f[k], 50 + 0.2 * t + season[t % 7], 1.5) << "step " << k;
  }
  auto back = HoltWintersModel::FromJson(m->ToJson());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->Forecast(14), f);
  // Short history: no seasonality, still a forecast.
  auto short_fit = FitHoltWinters(std::vector<double>{4, 5, 6}, 7);
  ASSERT_TRUE(short_fit.ok());
  EXPECT_EQ(short_fit->season, 0);
  EXPECT_EQ(short_fit->Forecast(3).size(), 3u);
  EXPECT_FALSE(FitHoltWinters(std::vector<double>{}, 7).ok());
}

// ---- Requests ---------------------------------------------------------------------------------

TEST(ForecastRequest, KFoldIsRefusedWithTheReason) {
  absl::Status s = CheckForecastRequest("k_fold");
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_NE(std::string(s.message()).find("future"), std::string::npos) << s;
  EXPECT_TRUE(CheckForecastRequest("train_test_split").ok());
  EXPECT_TRUE(CheckForecastRequest("time_series_split").ok());
  EXPECT_TRUE(absl::IsInvalidArgument(CheckForecastRequest("random")));

  Trained t = TrainOn(DemoData::Get().db(), MakeTempDir("tsml_fc_art_"), {{"source", "bookings"}},
                      Json::object(), "k_fold");
  EXPECT_TRUE(absl::IsInvalidArgument(t.result.status())) << t.result.status();
}

TEST(ForecastRequest, HyperparametersAndColumnsAreChecked) {
  TrainerRegistry trainers;
  PredictorRegistry predictors;
  RegisterForecast(trainers, predictors);
  ASSERT_TRUE(trainers.Has(kModelType));
  common::ValidationErrors errors;
  ValidateHyperparameters(*trainers.Hyperparams(kModelType),
                          {{"horizon", 0}, {"frequency", "hourly"}, {"maxDepth", 99}}, errors);
  EXPECT_EQ(errors.errors().size(), 3u);

  store::Database& db = DemoData::Get().db();
  Trained unknown = TrainOn(db, MakeTempDir("tsml_fc_art_"), {{"source", "bookings"}},
                            {{"groupBy", "no_such_column"}});
  ASSERT_TRUE(absl::IsInvalidArgument(unknown.result.status()));
  EXPECT_NE(std::string(unknown.result.status().message()).find("no_such_column"),
            std::string::npos);
  Trained pii = TrainOn(db, MakeTempDir("tsml_fc_art_"), {{"source", "user_profiles"}},
                        {{"groupBy", "email"}});
  EXPECT_TRUE(absl::IsInvalidArgument(pii.result.status())) << pii.result.status();
  Trained text_target = TrainOn(db, MakeTempDir("tsml_fc_art_"),
                                {{"source", "bookings"}, {"target", "channel"}}, Json::object());
  EXPECT_TRUE(absl::IsInvalidArgument(text_target.result.status()));
  Trained too_long =
      TrainOn(db, MakeTempDir("tsml_fc_art_"), {{"source", "bookings"}}, {{"horizon", 365}});
  ASSERT_TRUE(absl::IsInvalidArgument(too_long.result.status()));
  EXPECT_NE(std::string(too_long.result.status().message()).find("too little history"),
            std::string::npos)
      << too_long.result.status();
}

// ---- The demo bookings ------------------------------------------------------------------------

TEST(ForecastTrainer, BeatsSeasonalNaiveOnDemoBookingsAndRoundTrips) {
  const std::string dir = MakeTempDir("tsml_fc_art_");
  Trained t = TrainOn(DemoData::Get().db(), dir, {{"source", "bookings"}}, Json::object());
  ASSERT_TRUE(t.result.ok()) << t.result.status();
  const Json& ev = t.result->evaluation;
  std::cout << "[demo bookings, daily, h=14, train_test_split] " << Report(ev) << " in "
            << t.seconds << " s\n";
  if (ev["algorithm"].contains("candidates")) {
    std::cout << "  candidates: " << common::DumpJson(ev["algorithm"]["candidates"]) << "\n";
  }
  EXPECT_EQ(ev["task"], "forecasting");
  for (const char* k : {"mape", "smape", "mae", "rmse", "mase"}) {
    EXPECT_TRUE(ev["metrics"].contains(k)) << k;
    EXPECT_TRUE(ev["baseline"]["metrics"].contains(k)) << k;
  }
  EXPECT_EQ(ev["baseline"]["name"], "seasonal_naive");
  const double mase = Num(ev["metrics"], "mase"),
               base_mase = Num(ev["baseline"]["metrics"], "mase");
  const double smape = Num(ev["metrics"], "smape"),
               base_smape = Num(ev["baseline"]["metrics"], "smape");
  EXPECT_TRUE(mase <= 0.9 * base_mase || smape <= 0.9 * base_smape)
      << "mase " << mase << " vs " << base_mase << ", smape " << smape << " vs " << base_smape;
  EXPECT_EQ(ev["algorithm"]["candidates"].size(), 2u);
  EXPECT_TRUE(ev["errorAnalysis"].contains("residualQuantiles"));
  EXPECT_EQ(ev["errorAnalysis"]["worstPeriods"].size(), 5u);
  EXPECT_EQ(ev["dataSummary"]["testPeriods"], 14);
  // The demo spans 730 days: 2023-01-01 .. 2024-12-30 (2024 is a leap year).
  EXPECT_EQ(ev["dataSummary"]["periods"], 730);
  EXPECT_EQ(ev["dataSummary"]["end"], "2024-12-30T00:00:00.000Z");
  ASSERT_FALSE(ev["visualizations"].empty());
  for (const Json& v : ev["visualizations"]) {
    EXPECT_TRUE(fs::exists(v["file"].get<std::string>())) << v;
  }
  if (ev["algorithm"]["name"] == "xgboost") {
    EXPECT_FALSE(ev["featureImportance"].empty());
  }
  ExpectMonotonic(t.progress);
  EXPECT_EQ(t.progress.back(), 100.0);
  EXPECT_EQ(ev["dataSummary"]["rows"], 20000);
  for (const char* stage :
       {"loading_data", "preparing_features", "training", "evaluating", "saving"}) {
    EXPECT_NE(std::find(t.stages.begin(), t.stages.end(), stage), t.stages.end()) << stage;
  }

  // Save → load → the same forecasts as at training time, twice over.
  ASSERT_TRUE(t.result->model.has_value());
  TrainerRegistry trainers;
  PredictorRegistry predictors;
  RegisterForecast(trainers, predictors);
  auto p1 = predictors.Load(kModelType, t.result->model->file_path);
  auto p2 = predictors.Load(kModelType, t.result->model->file_path);
  ASSERT_TRUE(p1.ok()) << p1.status();
  ASSERT_TRUE(p2.ok()) << p2.status();
  auto f1 = (*p1)->Predict(Json::array({Json::object()}), Json::object());
  auto f2 = (*p2)->Predict(Json::array({Json::object()}), Json::object());
  ASSERT_TRUE(f1.ok()) << f1.status();
  ASSERT_TRUE(f2.ok());
  EXPECT_EQ(*f1, *f2);
  const Json& fc = (*f1)[0]["forecast"];
  ASSERT_EQ(fc.size(), 14u);
  EXPECT_EQ(fc[0]["period"], "2024-12-31T00:00:00.000Z");  // the day after the data
  for (size_t k = 0; k < 14; ++k) {
    EXPECT_EQ(fc[k]["value"].get<double>(), ev["forecast"][k]["value"].get<double>()) << k;
  }
  // Longer horizons up to twice the trained one; beyond → InvalidArgument.
  auto longer = (*p1)->Predict(Json::array({Json::object()}), {{"horizon", 28}});
  ASSERT_TRUE(longer.ok()) << longer.status();
  EXPECT_EQ((*longer)[0]["forecast"].size(), 28u);
  EXPECT_TRUE(absl::IsInvalidArgument(
      (*p1)->Predict(Json::array({Json::object()}), {{"horizon", 29}}).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      (*p1)->Predict(Json::array({{{"group", "x"}}}), Json::object()).status()));
  EXPECT_TRUE(absl::IsInvalidArgument((*p1)->Predict(Json::array({1}), Json::object()).status()));
}

TEST(ForecastTrainer, GroupByGivesPerGroupForecasts) {
  const std::string dir = MakeTempDir("tsml_fc_art_");
  Trained t = TrainOn(DemoData::Get().db(), dir, {{"source", "bookings"}},
                      {{"groupBy", "channel"}, {"algorithm", "xgboost"}});
  ASSERT_TRUE(t.result.ok()) << t.result.status();
  const Json& ev = t.result->evaluation;
  std::cout << "[demo bookings by channel, xgboost] " << Report(ev)
            << " total=" << common::DumpJson(ev["totalMetrics"]) << " params "
            << common::DumpJson(ev["algorithm"]["params"]) << " in " << t.seconds << " s\n";
  EXPECT_EQ(ev["dataSummary"]["groups"].size(), 4u);
  EXPECT_TRUE(ev["errorAnalysis"].contains("worstGroups"));
  EXPECT_LT(Num(ev["metrics"], "mase"), Num(ev["baseline"]["metrics"], "mase"));
  auto p = LoadForecastPredictor(t.result->model->file_path);
  ASSERT_TRUE(p.ok()) << p.status();
  auto out =
      (*p)->Predict(Json::array({{{"group", "ota"}}, {{"group", "corporate"}}, Json::object()}),
                    {{"horizon", 7}});
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->size(), 3u);
  EXPECT_EQ((*out)[0]["group"], "ota");
  EXPECT_TRUE((*out)[2]["group"].is_null());
  double ota = 0, corporate = 0, total = 0;
  for (int k = 0; k < 7; ++k) {
    ota += (*out)[0]["forecast"][k]["value"].get<double>();
    corporate += (*out)[1]["forecast"][k]["value"].get<double>();
    total += (*out)[2]["forecast"][k]["value"].get<double>();
  }
  EXPECT_GT(ota, 2 * corporate);  // 45 % against 8 % of the bookings
  EXPECT_GT(total, ota);
  auto unknown = (*p)->Predict(Json::array({{{"group", "telepathy"}}}), Json::object());
  ASSERT_TRUE(absl::IsInvalidArgument(unknown.status()));
  EXPECT_NE(std::string(unknown.status().message()).find("instance 0"), std::string::npos);
  EXPECT_EQ((*p)->InputColumns(), std::vector<std::string>{"group"});
}

TEST(ForecastTrainer, TimeSeriesSplitReportsExpandingFolds) {
  Trained t =
      TrainOn(DemoData::Get().db(), MakeTempDir("tsml_fc_art_"), {{"source", "bookings"}},
              {{"algorithm", "holt_winters"}, {"folds", 4}, {"horizon", 7}}, "time_series_split");
  ASSERT_TRUE(t.result.ok()) << t.result.status();
  const Json& ev = t.result->evaluation;
  std::cout << "[demo bookings, holt_winters, time_series_split 4 × 7 days] " << Report(ev) << "\n";
  ASSERT_EQ(ev["folds"].size(), 4u);
  int prev_train = 0;
  for (const Json& f : ev["folds"]) {
    EXPECT_GT(f["trainPeriods"].get<int>(), prev_train);  // expanding
    prev_train = f["trainPeriods"].get<int>();
    EXPECT_TRUE(f["metrics"]["mase"].is_number());
    EXPECT_TRUE(f["baseline"]["mase"].is_number());
  }
  EXPECT_EQ(ev["folds"][3]["testEnd"], "2024-12-30T00:00:00.000Z");
  EXPECT_TRUE(ev["foldSummary"]["std"]["mase"].is_number());
  EXPECT_EQ(ev["algorithm"]["name"], "holt_winters");
  ExpectMonotonic(t.progress);
  auto p = LoadForecastPredictor(t.result->model->file_path);
  ASSERT_TRUE(p.ok()) << p.status();
  auto out = (*p)->Predict(Json::array({Json::object()}), Json::object());
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)[0]["forecast"].size(), 7u);
}

TEST(ForecastTrainer, WeeklySumOfTarget) {
  Trained t = TrainOn(DemoData::Get().db(), MakeTempDir("tsml_fc_art_"),
                      {{"source", "bookings"}, {"target", "amount"}},
                      {{"frequency", "weekly"}, {"horizon", 8}});
  ASSERT_TRUE(t.result.ok()) << t.result.status();
  const Json& ev = t.result->evaluation;
  std::cout << "[demo bookings, weekly sum of amount, h=8] " << Report(ev) << "\n";
  EXPECT_EQ(ev["dataSummary"]["target"], "amount");
  EXPECT_EQ(ev["dataSummary"]["frequency"], "weekly");
  ASSERT_EQ(ev["forecast"].size(), 8u);
  EXPECT_GT(ev["forecast"][0]["value"].get<double>(), 0);
}

// Cancels the job from inside its own progress report once training has reached `at`.
class CancelAt final : public ProgressSink {
 public:
  CancelAt(common::CancellationToken* token, double at) : token_(token), at_(at) {}
  void Report(double progress, std::string_view stage, std::optional<common::Millis>) override {
    if (!fired_ && stage == "training" && progress >= at_) {
      fired_ = true;
      fired_at_ = std::chrono::steady_clock::now();
      token_->Cancel(common::CancelReason::kUser);
    }
  }
  bool fired() const { return fired_; }
  std::chrono::steady_clock::time_point fired_at() const { return fired_at_; }

 private:
  common::CancellationToken* token_;
  double at_;
  bool fired_ = false;
  std::chrono::steady_clock::time_point fired_at_;
};

TEST(ForecastTrainer, CancelsWithinTwoSeconds) {
  // xgboost: inside the first evaluation fit's boosting rounds; holt_winters: between groups.
  for (const std::string algorithm : {"xgboost", "holt_winters"}) {
    common::CancellationToken cancel;
    CancelAt sink(&cancel, algorithm == "xgboost" ? 52 : 30);
    TrainSpec spec;
    spec.model_type = kModelType;
    spec.training_data = {{"source", "bookings"}};
    spec.hyperparameters = {{"groupBy", "item_id"},
                            {"maxGroups", 100},
                            {"nEstimators", 800},
                            {"learningRate", 0.005},
                            {"algorithm", algorithm}};
    spec.validation_strategy = "time_series_split";
    spec.artifact_dir = MakeTempDir("tsml_fc_art_");
    TrainContext ctx;
    ctx.progress = &sink;
    ctx.cancel = &cancel;
    ctx.data_db = &DemoData::Get().db();
    ForecastTrainer trainer;
    absl::StatusOr<TrainResult> r = trainer.Train(spec, ctx);
    const auto returned = std::chrono::steady_clock::now();
    ASSERT_TRUE(sink.fired()) << algorithm << ": training ended before the cancel: " << r.status();
    const double seconds = std::chrono::duration<double>(returned - sink.fired_at()).count();
    std::cout << "[cancellation, " << algorithm << "] returned " << seconds
              << " s after the cancel: " << r.status() << "\n";
    EXPECT_TRUE(absl::IsCancelled(r.status())) << r.status();
    EXPECT_LT(seconds, 2.0);
    EXPECT_FALSE(fs::exists(spec.artifact_dir + "/model.json"));
  }
}

TEST(ForecastTrainer, TuningReportsTrials) {
  Trained t = TrainOn(DemoData::Get().db(), MakeTempDir("tsml_fc_art_"), {{"source", "bookings"}},
                      {{"frequency", "weekly"},
                       {"algorithm", "xgboost"},
                       {"tuning", {{"trials", 4}, {"timeBudgetSeconds", 60}}}});
  ASSERT_TRUE(t.result.ok()) << t.result.status();
  const Json& ev = t.result->evaluation;
  ASSERT_TRUE(ev.contains("tuning"));
  EXPECT_EQ(ev["tuning"]["trials"], 4);
  EXPECT_EQ(ev["tuning"]["results"].size(), 4u);
  EXPECT_TRUE(ev["tuning"]["best"]["params"].contains("maxDepth"));
  ExpectMonotonic(t.progress);
}

TEST(ForecastTrainer, MemoryCapIsAClearFailure) {
  TrainSpec spec;
  spec.model_type = kModelType;
  spec.training_data = {{"source", "bookings"}};
  spec.memory_gb = 1e-6;  // 1 kB
  spec.artifact_dir = MakeTempDir("tsml_fc_art_");
  common::CancellationToken never;
  TrainContext ctx;
  ctx.cancel = &never;
  ctx.data_db = &DemoData::Get().db();
  ForecastTrainer trainer;
  auto r = trainer.Train(spec, ctx);
  ASSERT_TRUE(absl::IsResourceExhausted(r.status())) << r.status();
  EXPECT_NE(std::string(r.status().message()).find("computeResources.memory"), std::string::npos);
  spec.memory_gb = 8;
  spec.gpu = true;
  EXPECT_TRUE(absl::IsFailedPrecondition(trainer.Train(spec, ctx).status()));
}

// The hyperparameter table in docs/models/demand_forecast.md is generated from the schema.
TEST(ForecastDocs, HyperparameterTableIsCurrent) {
  const fs::path doc = fs::path(__FILE__).parent_path() / "../../../docs/models/demand_forecast.md";
  std::ifstream in(doc);
  ASSERT_TRUE(in.good()) << doc;
  std::stringstream text;
  text << in.rdbuf();
  const std::string table = HyperparamTable(ForecastHyperparams());
  EXPECT_NE(text.str().find(table), std::string::npos) << "regenerate the table in " << doc << ":\n"
                                                       << table;
}

// ---- Real data: bike sharing (daily rentals 2011–2012) -----------------------------------------

TEST(ForecastTrainer, BikeSharingReal) {
  const std::string path = test::SharedDataDir() + "/bike_sharing/day.csv";
  ASSERT_TRUE(fs::exists(path)) << "bike sharing data not found at " << path;
  // provider_data with created_at = dteday and the count to sum.
  const std::string dir = MakeTempDir("tsml_fc_bike_");
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  std::ostringstream out;
  out << "provider_id,created_at,cnt\n";
  while (std::getline(in, line)) {
    std::vector<std::string> f = common::Split(line, ',', false);
    if (f.size() < 16) continue;
    out << "bikes," << f[1] << "," << f[15] << "\n";
  }
  std::ofstream(dir + "/bikes.csv") << out.str();
  auto db = store::OpenDatabase("sqlite://" + dir + "/data.db");
  ASSERT_TRUE(db.ok()) << db.status();
  data::ImportOptions options;
  options.replace = true;
  auto imported = data::ImportCsv(**db, "provider_data", dir + "/bikes.csv", options);
  ASSERT_TRUE(imported.ok()) << imported.status();
  ASSERT_EQ(imported->rows, 731);

  struct Case {
    std::string strategy;
    std::string algorithm;
  };
  for (const Case& c : {Case{"train_test_split", "auto"}, Case{"time_series_split", "auto"},
                        Case{"time_series_split", "xgboost"}}) {
    const std::string strategy = c.strategy;
    Trained t = TrainOn(**db, dir + "/art_" + strategy + c.algorithm,
                        {{"source", "provider_data"}, {"target", "cnt"}},
                        {{"algorithm", c.algorithm}}, strategy);
    ASSERT_TRUE(t.result.ok()) << t.result.status();
    const Json& ev = t.result->evaluation;
    std::cout << "[bike sharing day.csv, sum(cnt) daily, h=14, " << strategy << ", " << c.algorithm
              << "] " << Report(ev) << " in " << t.seconds << " s\n";
    if (ev.contains("folds")) {
      for (const Json& f : ev["folds"]) {
        std::cout << "  fold " << f["fold"] << " "
                  << f["testStart"].get<std::string>().substr(0, 10) << ": mase "
                  << Num(f["metrics"], "mase") << " vs " << Num(f["baseline"], "mase") << "\n";
      }
    }
    if (ev["algorithm"].contains("candidates")) {
      std::cout << "  candidates: " << common::DumpJson(ev["algorithm"]["candidates"]) << "\n";
    }
    EXPECT_EQ(ev["dataSummary"]["periods"], 731);
    EXPECT_TRUE(std::isfinite(Num(ev["metrics"], "mase")));
    EXPECT_TRUE(std::isfinite(Num(ev["baseline"]["metrics"], "mase")));
  }
}

}  // namespace
}  // namespace tsml::train::forecast
