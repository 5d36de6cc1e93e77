// Export: real tabular models trained on demo data, exported to every format, loaded back in
// each format's home runtime (the converters' venv) and compared with the service's own
// predictions; unsupported pairs, a missing venv, cancellation and corrupted converter output
// must fail.
#include "export/export.h"

#include <gtest/gtest.h>
#include <zip.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "common/strings.h"
#include "data/demo_data.h"
#include "export/subprocess.h"
#include "export/tabular_ir.h"
#include "onnx/checker.h"
#include "onnx/onnx-ml.pb.h"
#include "store/sql.h"
#include "support/recording_sink.h"
#include "support/shared_data.h"
#include "support/test_server.h"
#include "support/train_spec.h"
#include "train/bundle.h"
#include "train/forecast/forecast_trainer.h"
#include "train/forecast/register.h"
#include "train/recommend/recommend_trainer.h"
#include "train/recommend/register.h"
#include "train/tabular/tabular_model.h"
#include "train/tabular/tabular_trainer.h"
#include "train/text/fasttext_model.h"
#include "train/text/register.h"
#include "train/text/text_trainer.h"
#include "train/text/tokenizer.h"

namespace tsml::exporting {
namespace {

using common::StrCat;

// The converters' interpreter: $TSML_PYTHON, else the source tree's .venv.
std::string VenvPython() {
  if (const char* p = std::getenv("TSML_PYTHON"); p && *p) return p;
  return StrCat(TSML_SOURCE_DIR, "/.venv/bin/python");
}

std::map<std::string, std::string> ReadZip(const std::string& path) {
  std::map<std::string, std::string> out;
  int err = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_RDONLY, &err);
  if (z == nullptr) return out;
  const zip_int64_t n = zip_get_num_entries(z, 0);
  for (zip_int64_t i = 0; i < n; ++i) {
    zip_stat_t st;
    if (zip_stat_index(z, i, 0, &st) != 0) continue;
    zip_file_t* f = zip_fopen_index(z, i, 0);
    std::string data(st.size, '\0');
    if (f && zip_fread(f, data.data(), st.size) == static_cast<zip_int64_t>(st.size)) {
      out[st.name] = data;
    }
    if (f) zip_fclose(f);
  }
  zip_close(z);
  return out;
}

struct Trained {
  std::string model_type;
  Json training_data;
  std::string bundle;
};

class ExportTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    auto db = store::OpenDatabase("sqlite://" + dir_->path() + "/data.db");
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = db->release();
    data::DemoOptions o;
    o.events = 20000;  // 1,000 users, 4,000 bookings
    ASSERT_TRUE(data::SeedDemo(*db_, o).ok());
    models_ = new std::map<std::string, Trained>();
    timings_ = new std::map<std::string, std::map<std::string, double>>();
    predictors_ = new train::PredictorRegistry();
    train::TrainerRegistry trainers;
    train::tabular::RegisterTabular(trainers, *predictors_);
    train::recommend::RegisterRecommendation(trainers, *predictors_);
    train::text::RegisterText(trainers, *predictors_);
    train::forecast::RegisterForecast(trainers, *predictors_);
    // Every model type on the demo data, in the variants the exports treat differently.
    struct Case {
      const char* key;
      const char* type;
      Json td, hp;
    };
    const Json two_classes = {{"source", "reviews"},
                              {"filters", {{"sentiment", {"positive", "negative"}}}}};
    const std::vector<Case> cases = {
        {"binary_xgboost",
         "churn_prediction",
         {{"source", "user_profiles"}},
         {{"nEstimators", 60}}},
        {"binary_linear",
         "user_behavior",
         {{"source", "user_profiles"}},
         {{"algorithm", "linear"}}},
        {"multiclass_xgboost",
         "predictive_analytics",
         {{"source", "user_profiles"}, {"target", "loyalty_tier"}},
         {{"nEstimators", 30}, {"maxDepth", 4}}},
        {"multiclass_linear",
         "predictive_analytics",
         {{"source", "user_profiles"}, {"target", "loyalty_tier"}},
         {{"algorithm", "linear"}}},
        // Hash-bucketed item ids and timestamps among the features.
        {"regression_xgboost",
         "predictive_analytics",
         {{"source", "bookings"},
          {"target", "amount"},
          {"features",
           {"item_id", "checkin_date", "nights", "guests", "price_per_night", "country", "channel",
            "lead_time_days"}}},
         {{"nEstimators", 60}}},
        {"regression_linear",
         "predictive_analytics",
         {{"source", "bookings"}, {"target", "amount"}},
         {{"algorithm", "linear"}}},
        {"recommendation_als",
         "recommendation",
         {{"source", "user_events"}},
         {{"algorithm", "als"}}},
        {"text_binary", "nlp_sentiment", two_classes, {{"algorithm", "tfidf_logreg"}}},
        {"text_multiclass",
         "nlp_sentiment",
         {{"source", "reviews"}},
         {{"algorithm", "tfidf_logreg"}}},
        {"text_fasttext", "nlp_sentiment", two_classes, {{"algorithm", "fasttext"}}},
        {"text_fasttext_multiclass",
         "nlp_sentiment",
         {{"source", "reviews"}},
         {{"algorithm", "fasttext"}}},
        {"forecast_xgboost",
         "demand_forecast",
         {{"source", "bookings"}},
         {{"algorithm", "xgboost"}, {"groupBy", "channel"}, {"nEstimators", 100}}},
        {"forecast_holt_winters",
         "demand_forecast",
         {{"source", "bookings"}},
         {{"algorithm", "holt_winters"}, {"groupBy", "channel"}}},
    };
    for (const Case& c : cases) {
      const train::TrainSpec spec =
          test::MakeTrainSpec(c.key, c.type, c.td, *trainers.Hyperparams(c.type), c.hp,
                              "train_test_split", dir_->path() + "/art");
      std::unique_ptr<train::Trainer> trainer = trainers.Create(c.type);
      ASSERT_NE(trainer, nullptr) << c.type;
      const test::TrainRun run = test::RunTrainer(*trainer, spec, db_);
      ASSERT_TRUE(run.result.ok()) << c.key << ": " << run.result.status();
      ASSERT_TRUE(run.result->model.has_value());
      (*models_)[c.key] = {c.type, c.td, run.result->model->file_path};
    }
  }
  static void TearDownTestSuite() {
    if (timings_ && !timings_->empty()) {
      // Export time per format (seconds), for the report.
      std::string table = "export seconds (total; verify):\n";
      for (const auto& [model, per_format] : *timings_) {
        table += StrCat("  ", model, ":");
        for (const auto& [format, s] : per_format) table += StrCat(" ", format, "=", s);
        table += "\n";
      }
      std::printf("%s", table.c_str());
    }
    delete predictors_;
    delete models_;
    delete timings_;
    delete db_;
    delete dir_;
  }

  ExportInput Input(const std::string& key, const std::string& format) {
    const Trained& t = models_->at(key);
    ExportInput in;
    in.model_type = t.model_type;
    in.format = format;
    in.bundle_path = t.bundle;
    in.job = {{"jobId", key},
              {"modelType", t.model_type},
              {"trainingData", t.training_data},
              {"metrics", {{"note", "from the job"}}}};
    in.data_db = db_;
    in.work_dir = StrCat(dir_->path(), "/work/", key, "_", format, "_", counter_++);
    in.output_zip = StrCat(dir_->path(), "/out/", key, ".", format, ".", counter_++, ".zip");
    std::filesystem::create_directories(std::filesystem::path(in.output_zip).parent_path());
    in.python = VenvPython();
    return in;
  }

  void RequireVenv() {
    ASSERT_EQ(access(VenvPython().c_str(), X_OK), 0)
        << "the converters' Python environment is missing (" << VenvPython()
        << "): run scripts/setup_python.sh (make build does) or set TSML_PYTHON";
  }

  // Exports `key` to `format` and checks the result and the zip's contents.
  void ExportAndCheck(const std::string& key, const std::string& format) {
    RequireVenv();
    if (HasFatalFailure()) return;
    if (HasFatalFailure()) return;
    ExportInput in = Input(key, format);
    const auto start = std::chrono::steady_clock::now();
    auto r = RunExport(in, nullptr);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ASSERT_TRUE(r.ok()) << key << " → " << format << ": " << r.status();
    (*timings_)[key][format] = std::round(seconds * 100) / 100;
    const Json& p = r->parity;
    EXPECT_TRUE(p["passed"].get<bool>()) << p.dump();
    EXPECT_LE(p["maxScaledDiff"].get<double>(), kParityTolerance) << p.dump();
    if (key.rfind("regression", 0) != 0 && key.rfind("forecast", 0) != 0) {
      // Probabilities: the plain absolute bound.
      EXPECT_LE(p["maxAbsDiff"].get<double>(), kParityTolerance) << p.dump();
    }
    EXPECT_EQ(p["rows"], kSampleRows);
    EXPECT_EQ(p["format"], format);
    EXPECT_FALSE(p["runtimeVersion"].get<std::string>().empty());
    std::printf("[parity] %s %s: runtime %s %s, maxAbsDiff %.3g, %.2f s, %lld bytes\n", key.c_str(),
                format.c_str(), p["runtime"].get<std::string>().c_str(),
                p["runtimeVersion"].get<std::string>().c_str(), p["maxAbsDiff"].get<double>(),
                seconds, static_cast<long long>(r->file_size));
    EXPECT_EQ(r->checksum.size(), 64u);
    EXPECT_EQ(r->file_size, static_cast<int64_t>(std::filesystem::file_size(in.output_zip)));

    const auto files = ReadZip(in.output_zip);
    ASSERT_TRUE(files.count("sample.json")) << "entries: " << files.size();
    ASSERT_TRUE(files.count("metadata.json"));
    EXPECT_TRUE(files.count("README.md"));
    auto sample = Json::parse(files.at("sample.json"));
    EXPECT_EQ(sample["rows"].size(), static_cast<size_t>(kSampleRows));
    EXPECT_EQ(sample["expectedScores"].size(), static_cast<size_t>(kSampleRows));
    {  // The sample exercises the model: its scores are not all one value.
      std::vector<double> flat;
      for (const Json& row : sample["expectedScores"]) {
        if (row.is_array()) {
          for (const Json& v : row) flat.push_back(v.get<double>());
        } else {
          flat.push_back(row.get<double>());
        }
      }
      ASSERT_FALSE(flat.empty());
      const auto [lo, hi] = std::minmax_element(flat.begin(), flat.end());
      EXPECT_GT(*hi - *lo, 1e-3) << sample["expectedScores"].dump();
    }
    const bool ranking = in.model_type == "recommendation";
    // Text and forecast models take encoded inputs (tokens, lag features) in every format.
    const bool hw = sample.value("kind", "") == "forecast_state";  // Holt-Winters: series in
    const bool encoded_only =
        !hw && (in.model_type == "nlp_sentiment" || in.model_type == "demand_forecast");
    const bool tabular = !ranking && !encoded_only && !hw;
    EXPECT_EQ(sample.contains("encodedInputs"),
              encoded_only || (tabular && (format == "pytorch" || format == "tensorflow")));
    auto meta = Json::parse(files.at("metadata.json"));
    for (const char* k : {"modelType", "task", "trainingJob", "metrics", "libraryVersions",
                          "tsmlVersion", "layout"}) {
      EXPECT_TRUE(meta.contains(k)) << k;
    }
    if (ranking) {
      EXPECT_EQ(p["itemMismatches"], 0) << p.dump();
      EXPECT_TRUE(meta.contains("features"));
    } else if (tabular) {
      EXPECT_TRUE(meta.contains("features"));
      EXPECT_TRUE(meta.contains("featureTransformation"));
    } else if (in.model_type == "nlp_sentiment") {
      EXPECT_TRUE(meta.contains("tokenizer"));
      EXPECT_TRUE(files.count("tokenizer.py"));
      if (sample.contains("featureIds")) {  // fastText: ids in, the vocabulary alongside
        EXPECT_TRUE(files.count("fasttext_vocab.json"));
        EXPECT_EQ(sample["featureIds"].size(), static_cast<size_t>(kSampleRows));
      } else {
        EXPECT_TRUE(meta.contains("vectorizer"));
      }
      EXPECT_EQ(p["checks"].value("tokenizer", "").rfind("tokenizer.py reproduces", 0), 0u)
          << p.dump();
    } else if (hw) {
      EXPECT_EQ(meta["estimator"]["type"], "holt_winters");
      EXPECT_EQ(meta["series"].size(), meta["layout"].value("series", meta["series"].size()));
      EXPECT_EQ(sample["expectedScores"][0].size(), sample["horizon"].get<size_t>());
    } else {
      EXPECT_TRUE(meta.contains("lagConfig"));
      EXPECT_TRUE(meta.contains("series"));
      EXPECT_EQ(sample["scales"].size(), static_cast<size_t>(kSampleRows));
    }
    EXPECT_EQ(meta["modelType"], in.model_type);
    EXPECT_EQ(meta["metrics"]["note"], "from the job");
    if (format == "pmml") {
      EXPECT_EQ(p["checks"].value("xsd", "").rfind("valid", 0), 0u) << p.dump();
    }
    if (format == "onnx") {
      ASSERT_TRUE(files.count("model.onnx"));
      onnx::ModelProto m;
      ASSERT_TRUE(m.ParseFromString(files.at("model.onnx")));
      EXPECT_NO_THROW(onnx::checker::check_model(m));
      // One named input per raw column (recommendation: user_id and k; text: tokens;
      // forecast: features).
      EXPECT_EQ(static_cast<size_t>(m.graph().input_size()),
                hw             ? 2
                : encoded_only ? 1
                               : meta["features"].size() + (ranking ? 1 : 0));
    }
    const std::map<std::string, std::string> entry = {{"onnx", "model.onnx"},
                                                      {"pmml", "model.pmml"},
                                                      {"sklearn", "model.joblib"},
                                                      {"pytorch", "model.pt"},
                                                      {"tensorflow", "saved_model/saved_model.pb"}};
    EXPECT_TRUE(files.count(entry.at(format))) << entry.at(format);
  }

  static inline test::TempDir* dir_ = nullptr;
  static inline store::Database* db_ = nullptr;
  static inline std::map<std::string, Trained>* models_ = nullptr;
  static inline std::map<std::string, std::map<std::string, double>>* timings_ = nullptr;
  static inline train::PredictorRegistry* predictors_ = nullptr;
  static inline int counter_ = 0;
};

class ExportFormatTest
    : public ExportTest,
      public ::testing::WithParamInterface<std::tuple<std::string, std::string>> {};

TEST_P(ExportFormatTest, LoadsInItsHomeRuntimeAndMatchesTheService) {
  ExportAndCheck(std::get<0>(GetParam()), std::get<1>(GetParam()));
}

INSTANTIATE_TEST_SUITE_P(
    AllModelsAllFormats, ExportFormatTest,
    ::testing::Combine(::testing::Values("binary_xgboost", "binary_linear", "multiclass_xgboost",
                                         "multiclass_linear", "regression_xgboost",
                                         "regression_linear"),
                       ::testing::Values("onnx", "pmml", "sklearn", "pytorch", "tensorflow")),
    [](const auto& info) { return std::get<0>(info.param) + "_" + std::get<1>(info.param); });

INSTANTIATE_TEST_SUITE_P(SentimentModels, ExportFormatTest,
                         ::testing::Combine(::testing::Values("text_binary", "text_multiclass"),
                                            ::testing::Values("onnx", "sklearn")),
                         [](const auto& info) {
                           return std::get<0>(info.param) + "_" + std::get<1>(info.param);
                         });

INSTANTIATE_TEST_SUITE_P(
    FastTextModels, ExportFormatTest,
    ::testing::Combine(::testing::Values("text_fasttext", "text_fasttext_multiclass"),
                       ::testing::Values("onnx", "pytorch")),
    [](const auto& info) { return std::get<0>(info.param) + "_" + std::get<1>(info.param); });

INSTANTIATE_TEST_SUITE_P(
    Forecasters, ExportFormatTest,
    ::testing::Combine(::testing::Values("forecast_xgboost"),
                       ::testing::Values("onnx", "sklearn", "pytorch", "tensorflow")),
    [](const auto& info) { return std::get<0>(info.param) + "_" + std::get<1>(info.param); });

INSTANTIATE_TEST_SUITE_P(HoltWinters, ExportFormatTest,
                         ::testing::Combine(::testing::Values("forecast_holt_winters"),
                                            ::testing::Values("onnx", "pytorch")),
                         [](const auto& info) {
                           return std::get<0>(info.param) + "_" + std::get<1>(info.param);
                         });

TEST_F(ExportTest, SentimentSampleHoldsTheTokensTheServiceSaw) {
  RequireVenv();
  if (HasFatalFailure()) return;
  ExportInput in = Input("text_binary", "onnx");
  auto r = RunExport(in, nullptr);
  ASSERT_TRUE(r.ok()) << r.status();
  const auto files = ReadZip(in.output_zip);
  const Json sample = Json::parse(files.at("sample.json"));
  ASSERT_EQ(sample["rows"].size(), sample["encodedInputs"].size());
  // The last two rows are the edge cases: an empty text (no tokens) and a negated clause.
  const size_t n = sample["rows"].size();
  EXPECT_EQ(sample["rows"][n - 2]["text"], "");
  EXPECT_TRUE(sample["encodedInputs"][n - 2].empty());
  const Json& negated = sample["encodedInputs"][n - 1];
  EXPECT_NE(std::find(negated.begin(), negated.end(), Json("NEG_good")), negated.end())
      << negated.dump();
  EXPECT_EQ(r->metadata["classes"], Json({"negative", "positive"}));
  EXPECT_EQ(r->metadata["layout"]["inputs"][0]["name"], "tokens");
}

TEST_F(ExportTest, ForecastSampleFollowsTheServiceRecursion) {
  RequireVenv();
  if (HasFatalFailure()) return;
  ExportInput in = Input("forecast_xgboost", "onnx");
  auto r = RunExport(in, nullptr);
  ASSERT_TRUE(r.ok()) << r.status();
  const Json sample = Json::parse(ReadZip(in.output_zip).at("sample.json"));
  // Rows cover the total and groups, and later steps (whose lags are earlier forecasts).
  std::set<std::string> groups;
  int max_step = 0;
  for (const Json& row : sample["rows"]) {
    groups.insert(row["group"].is_null() ? "(total)" : row["group"].get<std::string>());
    max_step = std::max(max_step, row["step"].get<int>());
  }
  EXPECT_GE(groups.size(), 2u);
  EXPECT_GT(max_step, 1);
  EXPECT_EQ(sample["encodedInputs"][0].size(), sample["encodedFeatureNames"].size());
  EXPECT_EQ(r->metadata["estimator"]["type"], "xgboost");
}

TEST_F(ExportTest, ModelsWithoutAPortableFormIsRefusedWithTheWayOut) {
  auto fasttext = RunExport(Input("text_fasttext", "sklearn"), nullptr);
  EXPECT_TRUE(absl::IsInvalidArgument(fasttext.status())) << fasttext.status();
  EXPECT_NE(fasttext.status().message().find("tfidf_logreg"), std::string::npos)
      << fasttext.status();
  auto tfidf = RunExport(Input("text_binary", "pytorch"), nullptr);
  EXPECT_TRUE(absl::IsInvalidArgument(tfidf.status())) << tfidf.status();
  EXPECT_NE(tfidf.status().message().find("supported: onnx, sklearn"), std::string::npos)
      << tfidf.status();
  auto hw = RunExport(Input("forecast_holt_winters", "sklearn"), nullptr);
  EXPECT_TRUE(absl::IsInvalidArgument(hw.status())) << hw.status();
  EXPECT_NE(hw.status().message().find("\"xgboost\""), std::string::npos) << hw.status();
  auto pmml = RunExport(Input("text_binary", "pmml"), nullptr);
  EXPECT_TRUE(absl::IsInvalidArgument(pmml.status())) << pmml.status();
  EXPECT_NE(pmml.status().message().find("supported: onnx, sklearn"), std::string::npos)
      << pmml.status();
}

// fastText's input ids from the Python helper shipped with the export match fastText's own
// Dictionary::getLine on the real review sentences, most of whose words the demo-trained model
// never saw (their word n-gram buckets come from fastText's hashing alone).
TEST_F(ExportTest, PythonFastTextIdsMatchFastTextOnRealSentences) {
  RequireVenv();
  if (HasFatalFailure()) return;
  auto bundle = train::ReadBundle(models_->at("text_fasttext").bundle);
  ASSERT_TRUE(bundle.ok()) << bundle.status();
  auto model = train::text::SentimentModel::FromBundle(*bundle);
  ASSERT_TRUE(model.ok()) << model.status();
  const auto* ft = dynamic_cast<const train::text::FastTextClassifier*>(&(*model)->classifier());
  ASSERT_NE(ft, nullptr);
  const train::text::FastTextArrays arrays = ft->Arrays();
  std::vector<std::string> texts = {"", "not good at all", "\xE6\x9D\xB1\xE4\xBA\xAC caf\xC3\xA9"};
  const std::string dir = test::SharedDataDir() + "/sentiment_labelled_sentences";
  std::ifstream lines(dir + "/yelp_labelled.txt");
  std::string line;
  while (std::getline(lines, line)) texts.push_back(line.substr(0, line.rfind('\t')));
  EXPECT_GT(texts.size(), 900u) << dir;
  test::TempDir tmp;
  {
    std::ofstream out(tmp.path() + "/texts.json");
    out << Json(texts).dump();
    std::ofstream vocab(tmp.path() + "/vocab.json");
    vocab << Json{
        {"words", arrays.words},
        {"bucket", arrays.bucket},
        {"wordNgrams", arrays.word_ngrams},
        {"eos",
         "</s>"}}.dump();
  }
  ProcessOptions o;
  o.log_dir = tmp.path();
  auto r =
      RunProcess({VenvPython(), StrCat(TSML_SOURCE_DIR, "/tools/export/tokenizer.py"), "--texts",
                  tmp.path() + "/texts.json", "--fasttext-vocab", tmp.path() + "/vocab.json"},
                 o);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->exit_code, 0) << r->err;
  const Json got = Json::parse(r->out);
  ASSERT_EQ(got.size(), texts.size());
  int mismatches = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    const Json want = ft->FeatureIds(train::text::Tokenize(texts[i]));
    if (got[i] != want && ++mismatches <= 3) {
      ADD_FAILURE() << "text " << i << ": python " << got[i].dump() << " != fastText "
                    << want.dump();
    }
  }
  EXPECT_EQ(mismatches, 0);
  EXPECT_GT(arrays.word_ngrams, 1);  // the n-gram hashing was exercised
}

TEST_F(ExportTest, RecommendationExportsToOnnxAndPytorch) {
  ExportAndCheck("recommendation_als", "onnx");
  ExportAndCheck("recommendation_als", "pytorch");
  auto pmml = RunExport(Input("recommendation_als", "pmml"), nullptr);
  EXPECT_TRUE(absl::IsInvalidArgument(pmml.status())) << pmml.status();
  EXPECT_NE(pmml.status().message().find("supported: onnx, pytorch"), std::string::npos)
      << pmml.status();
}

TEST_F(ExportTest, UnsupportedPairNamesTheFormatsThatWork) {
  auto s = CheckFormatSupported("churn_prediction", "coreml");
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_NE(s.message().find("onnx, pmml, sklearn, pytorch, tensorflow"), std::string::npos) << s;
  EXPECT_TRUE(CheckFormatSupported("predictive_analytics", "tensorflow").ok());
  EXPECT_TRUE(CheckFormatSupported("demand_forecast", "onnx").ok());
  EXPECT_TRUE(absl::IsInvalidArgument(CheckFormatSupported("demand_forecast", "pmml")));
  // The trained algorithm narrows the type's formats.
  EXPECT_TRUE(CheckFormatSupported("demand_forecast", "pytorch", "holt_winters").ok());
  auto hw = CheckFormatSupported("demand_forecast", "tensorflow", "holt_winters");
  EXPECT_NE(hw.message().find("supported: onnx, pytorch"), std::string::npos) << hw;
  EXPECT_TRUE(CheckFormatSupported("nlp_sentiment", "onnx", "fasttext").ok());
  auto fasttext = CheckFormatSupported("nlp_sentiment", "sklearn", "fasttext");
  EXPECT_NE(fasttext.message().find("tfidf_logreg"), std::string::npos) << fasttext;
  EXPECT_TRUE(CheckFormatSupported("nlp_sentiment", "sklearn", "tfidf_logreg").ok());
  EXPECT_TRUE(absl::IsInvalidArgument(CheckFormatSupported("recommendation", "onnx", "item_knn")));
  auto unknown = CheckFormatSupported("anomaly_detection", "onnx");
  EXPECT_TRUE(absl::IsInvalidArgument(unknown));
  EXPECT_NE(unknown.message().find("cannot be exported"), std::string::npos) << unknown;
  ExportInput in = Input("binary_xgboost", "coreml");
  auto r = RunExport(in, nullptr);
  EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
  EXPECT_FALSE(std::filesystem::exists(in.output_zip));
}

TEST_F(ExportTest, WithoutTheDataSourceSyntheticRowsAreVerified) {
  RequireVenv();
  if (HasFatalFailure()) return;
  ExportInput in = Input("binary_xgboost", "onnx");
  in.data_db = nullptr;
  in.job = nullptr;
  auto r = RunExport(in, nullptr);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->parity["passed"].get<bool>());
  EXPECT_EQ(r->parity["rows"], kSampleRows);
}

TEST_F(ExportTest, MissingPythonEnvironmentIsAFailedPrecondition) {
  ExportInput in = Input("binary_xgboost", "onnx");
  in.python = "";
  auto r = RunExport(in, nullptr);
  EXPECT_TRUE(absl::IsFailedPrecondition(r.status())) << r.status();
  EXPECT_NE(r.status().message().find("setup_python.sh"), std::string::npos);
}

TEST_F(ExportTest, CorruptedOnnxFailsTheParityCheck) {
  RequireVenv();
  if (HasFatalFailure()) return;
  ExportInput in = Input("binary_xgboost", "onnx");
  in.tamper = [](const std::string& dir) -> absl::Status {
    const std::string path = dir + "/model.onnx";
    onnx::ModelProto m;
    std::ifstream f(path, std::ios::binary);
    if (!m.ParseFromIstream(&f)) return absl::InternalError("cannot parse");
    for (auto& node : *m.mutable_graph()->mutable_node()) {
      for (auto& a : *node.mutable_attribute()) {
        if (a.name() == "base_values") {
          for (int i = 0; i < a.floats_size(); ++i)
            a.set_floats(i, a.floats(i) + (i ? 0.3f : -0.3f));
        }
      }
    }
    std::ofstream o(path, std::ios::binary | std::ios::trunc);
    return m.SerializeToOstream(&o) ? absl::OkStatus() : absl::InternalError("cannot write");
  };
  auto r = RunExport(in, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("parity check failed"), std::string::npos) << r.status();
  EXPECT_FALSE(std::filesystem::exists(in.output_zip));
}

TEST_F(ExportTest, CorruptedSklearnConverterOutputFailsTheParityCheck) {
  RequireVenv();
  if (HasFatalFailure()) return;
  ExportInput in = Input("binary_linear", "sklearn");
  const std::string python = in.python;
  in.tamper = [python](const std::string& dir) -> absl::Status {
    ProcessOptions o;
    o.log_dir = dir;
    o.timeout = std::chrono::seconds(120);
    const std::string script =
        "import joblib,sys; p=joblib.load(sys.argv[1]); p.steps[-1][1].intercept_ += 0.5; "
        "joblib.dump(p, sys.argv[1])";
    auto r = RunProcess({python, "-c", script, dir + "/model.joblib"}, o);
    if (!r.ok()) return r.status();
    return r->exit_code == 0 ? absl::OkStatus() : absl::InternalError(r->err);
  };
  auto r = RunExport(in, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("parity check failed"), std::string::npos) << r.status();
}

TEST_F(ExportTest, CancelledBeforeWritingStops) {
  RequireVenv();
  if (HasFatalFailure()) return;
  ExportInput in = Input("binary_xgboost", "tensorflow");
  common::CancellationToken token;
  token.Cancel(common::CancelReason::kUser);
  auto r = RunExport(in, &token);
  EXPECT_TRUE(absl::IsCancelled(r.status())) << r.status();
  EXPECT_FALSE(std::filesystem::exists(in.output_zip));
}

TEST(ExportUnitTest, HashBucketMatchesTheFeatureTransform) {
  data::ColumnTransform c;
  c.column = "item";
  c.kind = data::FeatureKind::kCategorical;
  c.levels = {"a"};
  c.hash_buckets = 8;
  for (const std::string v : {"h12", "hotel_7", "x", "ünï"}) {
    float out[9];
    data::FeatureTransform::EncodeCategorical(c, &v, out);
    EXPECT_EQ(out[1 + HashBucket(v, 8)], 1.0f) << v;
  }
}

TEST(ExportUnitTest, SubprocessTakesArgvLiterallyAndTimesOut) {
  test::TempDir dir;
  ProcessOptions o;
  o.log_dir = dir.path();
  auto r = RunProcess({"/bin/echo", "a;b", "$(touch /tmp/x)", "'q'"}, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->out, "a;b $(touch /tmp/x) 'q'\n");
  o.timeout = std::chrono::milliseconds(200);
  const auto start = std::chrono::steady_clock::now();
  auto slow = RunProcess({"/bin/sleep", "10"}, o);
  EXPECT_TRUE(absl::IsDeadlineExceeded(slow.status())) << slow.status();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  common::CancellationToken token;
  token.Cancel(common::CancelReason::kUser);
  o.timeout = std::chrono::seconds(10);
  o.cancel = &token;
  EXPECT_TRUE(absl::IsCancelled(RunProcess({"/bin/sleep", "10"}, o).status()));
}

// The Python tokenizer shipped with sentiment exports reproduces the service's tokens on the
// real review sentences and on hostile text (Unicode case, emoji with modifiers, CJK, clause
// punctuation, apostrophes, overlong runs).
TEST(ExportUnitTest, PythonTokenizerMatchesTheServiceOnRealAndHostileText) {
  ASSERT_EQ(access(VenvPython().c_str(), X_OK), 0) << VenvPython();
  std::vector<std::string> texts = {
      "",
      "Not good at all, but the pool was great!",
      "I didn't like it; the staff wasn\u2019t rude though.",
      "ÉTÉ À PARIS: Ça ne vaut pas le coup… NEVER again!!!",
      "ŁÓDŹ İstanbul ΑΘΗΝΑ МОСКВА Ѐ ÿ Ÿ",
      "Great view \xF0\x9F\x98\x80\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD no\xE2\x80\x8B"
      "breakfast",
      "東京のホテルはとても良かった。not clean、but 便利",
      "'quoted' words'' and rock'n'roll, o'clock",
      "price: 120€ — 5×3 ÷ 2 → ok ★★★★☆ ⭐",
      "mail me at someone@example.com or +1 (555) 123-4567",
      std::string(150, 'a') + " short",
      "tab\tnew\nline\r\nnbsp\xC2\xA0here",
      "no. no, no! no? no; no: ok",
      "\xEF\xBB\xBF"
      "bom and \xEF\xB8\x8F selector",
      "ﬁne ｆｕｌｌｗｉｄｔｈ ！ stop",
  };
  const std::string dir = test::SharedDataDir() + "/sentiment_labelled_sentences";
  for (const char* file : {"amazon_cells_labelled.txt", "imdb_labelled.txt", "yelp_labelled.txt"}) {
    std::ifstream in(dir + "/" + file);
    std::string line;
    while (std::getline(in, line)) texts.push_back(line.substr(0, line.rfind('\t')));
  }
  EXPECT_GT(texts.size(), 2000u) << "the real sentences were not found under " << dir;
  test::TempDir tmp;
  const std::string path = tmp.path() + "/texts.json";
  {
    std::ofstream out(path);
    out << Json(texts).dump();
  }
  ProcessOptions o;
  o.log_dir = tmp.path();
  auto r = RunProcess(
      {VenvPython(), StrCat(TSML_SOURCE_DIR, "/tools/export/tokenizer.py"), "--texts", path}, o);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->exit_code, 0) << r->err;
  const Json got = Json::parse(r->out);
  ASSERT_EQ(got.size(), texts.size());
  int mismatches = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    const Json want = train::text::Tokenize(texts[i]);
    if (got[i] != want && ++mismatches <= 5) {
      ADD_FAILURE() << "text " << i << " \"" << texts[i] << "\": python " << got[i].dump()
                    << " != service " << want.dump();
    }
  }
  EXPECT_EQ(mismatches, 0);
}

}  // namespace
}  // namespace tsml::exporting
