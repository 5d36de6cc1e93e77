#include "export/export.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <span>

#include "common/clock.h"
#include "common/file_util.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "export/onnx_writer.h"
#include "export/pmml_writer.h"
#include "export/sample.h"
#include "export/subprocess.h"
#include "export/tabular_ir.h"
#include "export/zip_writer.h"
#include "train/bundle.h"
#include "train/forecast/forecast_trainer.h"
#include "train/forecast/holt_winters.h"
#include "train/forecast/lag_features.h"
#include "train/forecast/series.h"
#include "train/recommend/recommend_model.h"
#include "train/tabular/tabular_model.h"
#include "train/text/text_trainer.h"
#include "train/text/tfidf_linear.h"
#include "train/text/tokenizer.h"

#ifndef TSML_EXPORT_TOOLS_DIR
#define TSML_EXPORT_TOOLS_DIR "tools/export"
#endif
#ifndef TSML_VERSION
#define TSML_VERSION "0.0.0"
#endif

namespace tsml::exporting {
namespace {

using common::StrCat;
using train::tabular::Task;

using Clock = std::chrono::steady_clock;
double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

bool IsTabular(const std::string& model_type) {
  return model_type == "churn_prediction" || model_type == "user_behavior" ||
         model_type == "predictive_analytics";
}

bool TakesEncoded(const std::string& format) {
  return format == "pytorch" || format == "tensorflow";
}

// The model's file(s) inside the zip.
std::string ModelEntry(const std::string& format) {
  if (format == "onnx") return "model.onnx";
  if (format == "pmml") return "model.pmml";
  if (format == "sklearn") return "model.joblib";
  if (format == "pytorch") return "model.pt";
  return "saved_model";
}

Json RowScores(const Json& prediction, Task task, const std::vector<std::string>& classes) {
  switch (task) {
    case Task::kBinary:
      return prediction.at("probability");
    case Task::kMulticlass: {
      Json out = Json::array();
      for (const std::string& c : classes) out.push_back(prediction.at("probabilities").at(c));
      return out;
    }
    case Task::kRegression:
      return prediction.at("value");
  }
  return nullptr;
}

void Flatten(const Json& j, std::vector<double>* out) {
  if (j.is_array()) {
    for (const Json& x : j) Flatten(x, out);
  } else if (j.is_number()) {
    out->push_back(j.get<double>());
  } else {
    out->push_back(std::numeric_limits<double>::quiet_NaN());
  }
}

std::string Readme(const std::string& format, const std::string& model_type, Task task) {
  const std::string scores = task == Task::kBinary ? "the positive-class probability"
                             : task == Task::kMulticlass
                                 ? "the class probabilities (in `classes` order)"
                                 : "the predicted value";
  std::string how;
  if (format == "onnx") {
    how =
        "Load `model.onnx` with onnxruntime. One input per raw column, shape [N,1]: float32 for\n"
        "numbers (NaN = missing), string for categories (\"\" = missing), float64 epoch\n"
        "milliseconds for timestamps. Outputs `label` and `probabilities` (classification) or\n"
        "`value` (regression).\n";
  } else if (format == "pmml") {
    how =
        "Score `model.pmml` (PMML 4.4) with any PMML evaluator (pypmml, JPMML). Inputs are the "
        "raw\n"
        "columns (timestamps as epoch milliseconds); outputs `probability(<class>)` or\n"
        "`predicted_<target>`.\n";
  } else if (format == "sklearn") {
    how =
        "`joblib.load(\"model.joblib\")` gives a scikit-learn Pipeline. Call predict_proba (or\n"
        "predict) on a pandas DataFrame of the raw columns: numbers as floats (NaN = missing),\n"
        "categories as strings (None = missing), timestamps as epoch milliseconds.\n";
  } else if (format == "pytorch") {
    how =
        "`torch.jit.load(\"model.pt\")` gives a TorchScript module. Call it on a float32 tensor\n"
        "[N, F] of the encoded features (metadata.json `encodedFeatureNames`; sample.json\n"
        "`encodedInputs`; NaN = missing).\n";
  } else {
    how =
        "`tf.saved_model.load(\"saved_model\").signatures[\"serving_default\"](features=x)` with x "
        "a\n"
        "float32 tensor [N, F] of the encoded features (metadata.json `encodedFeatureNames`;\n"
        "sample.json `encodedInputs`; NaN = missing).\n";
  }
  return StrCat("# tsml export: ", model_type, " as ", format, "\n\n", how, "\nThe model returns ",
                scores,
                ". sample.json holds raw input rows and the scores the tsml service\n"
                "computed for them (`expectedScores`); the export was verified against them.\n");
}

absl::StatusOr<ProcessResult> RunPython(const ExportInput& in, const std::string& script,
                                        const std::vector<std::string>& args,
                                        const common::CancellationToken* cancel) {
  const std::string tools = in.tools_dir.empty() ? TSML_EXPORT_TOOLS_DIR : in.tools_dir;
  std::vector<std::string> argv = {in.python, StrCat(tools, "/", script)};
  argv.insert(argv.end(), args.begin(), args.end());
  ProcessOptions options;
  options.timeout = in.converter_timeout;
  options.cancel = cancel;
  options.log_dir = in.work_dir;
  options.env = {{"OMP_WAIT_POLICY", "passive"}, {"OMP_NUM_THREADS", "1"},
                 {"TF_CPP_MIN_LOG_LEVEL", "2"},  {"TF_ENABLE_ONEDNN_OPTS", "0"},
                 {"CUDA_VISIBLE_DEVICES", ""},   {"PYTHONDONTWRITEBYTECODE", "1"},
                 {"PYTHONHASHSEED", "0"}};
  ASSIGN_OR_RETURN(ProcessResult r, RunProcess(argv, options));
  if (r.exit_code != 0) {
    return absl::InternalError(StrCat(script, " failed (exit ", r.exit_code, "): ", r.err));
  }
  return r;
}

// What a model family hands to the common part of RunExport.
struct Prepared {
  Json sample;          // sample.json
  Json expected;        // the service's scores (sample["expectedScores"])
  Json expected_items;  // recommendation: the service's item ids per row (else null)
  Json metadata;        // metadata.json
  std::string readme;
  double sample_seconds = 0, write_seconds = 0;
};

// The last line of a converter's stdout is its JSON answer.
absl::StatusOr<Json> LastJsonLine(const std::string& script, const std::string& out) {
  const std::vector<std::string> lines = common::Split(out, '\n');
  if (lines.empty()) return absl::InternalError(StrCat(script, " printed nothing"));
  auto j = common::ParseJson(lines.back(), 64);
  if (!j.ok()) return absl::InternalError(StrCat(script, " printed no JSON result"));
  return *j;
}

// Runs the format's Python converter (to_sklearn.py, to_torch.py, to_tf.py) on `spec`, which
// writes the model into `model_dir`; takes its layout and library versions from its answer.
absl::Status RunConverter(const ExportInput& in, const Json& spec, const std::string& model_dir,
                          const common::CancellationToken* cancel, Json* layout, Json* libraries) {
  const std::string spec_path = in.work_dir + "/spec.json";
  RETURN_IF_ERROR(common::WriteFileAtomic(spec_path, spec.dump()));
  const std::string script = in.format == "sklearn"   ? "to_sklearn.py"
                             : in.format == "pytorch" ? "to_torch.py"
                                                      : "to_tf.py";
  ASSIGN_OR_RETURN(
      ProcessResult r,
      RunPython(in, script, {"--spec", spec_path, "--out", model_dir + "/" + ModelEntry(in.format)},
                cancel));
  ASSIGN_OR_RETURN(Json answer, LastJsonLine(script, r.out));
  *layout = answer.value("layout", Json::object());
  const Json versions = answer.value("versions", Json::object());
  for (const auto& [k, v] : versions.items()) (*libraries)[k] = v;
  return absl::OkStatus();
}

// The job's parameters and metrics for metadata.json.
void AddJobMetadata(const ExportInput& in, Json* metadata) {
  Json job_params = Json::object();
  if (!in.job.is_object()) {
    (*metadata)["trainingJob"] = std::move(job_params);
    (*metadata)["metrics"] = nullptr;
    return;
  }
  for (const char* k :
       {"jobId", "modelType", "trainingData", "hyperparameters", "validationStrategy",
        "computeResources", "createdAt", "completedAt", "createdBy"}) {
    if (in.job.contains(k)) job_params[k] = in.job[k];
  }
  Json metrics = in.job.value("metrics", Json());
  if (metrics.is_null() && in.job.contains("evaluation") && in.job["evaluation"].is_object()) {
    metrics = in.job["evaluation"].value("metrics", Json());
  }
  (*metadata)["trainingJob"] = std::move(job_params);
  (*metadata)["metrics"] = std::move(metrics);
}

// The tabular model: sample rows, metadata and the model files in `model_dir`.
absl::Status PrepareTabular(const ExportInput& in, const Json& bundle,
                            const train::PredictorRegistry& predictors,
                            const std::string& model_dir, const common::CancellationToken* cancel,
                            Prepared* out) {
  ASSIGN_OR_RETURN(std::unique_ptr<train::tabular::TabularModel> model,
                   train::tabular::TabularModel::FromBundle(bundle));
  ASSIGN_OR_RETURN(std::unique_ptr<train::Predictor> predictor,
                   predictors.Load(in.model_type, in.bundle_path));
  ASSIGN_OR_RETURN(TabularIr ir, BuildTabularIr(*model));

  // Sample rows and the scores the service gives them.
  const auto t_sample = Clock::now();
  Json training_data =
      in.job.is_object() ? in.job.value("trainingData", Json::object()) : Json::object();
  if (!training_data.is_object()) training_data = Json::object();
  std::string target;
  ASSIGN_OR_RETURN(Json rows,
                   DrawTabularSample(in.data_db, in.model_type, training_data, model->transform(),
                                     kSampleRows, &ir.hashed, &target));
  if (target.empty()) target = training_data.value("target", "target");
  ASSIGN_OR_RETURN(Json predictions, predictor->Predict(rows, Json::object()));
  Json expected = Json::array();
  try {
    for (const Json& p : predictions) expected.push_back(RowScores(p, ir.task, ir.classes));
  } catch (const std::exception& e) {
    return absl::InternalError(StrCat("unexpected prediction shape: ", e.what()));
  }
  const char* score_kind = ir.task == Task::kBinary       ? "positiveClassProbability"
                           : ir.task == Task::kMulticlass ? "classProbabilities"
                                                          : "value";
  Json sample = {{"rows", rows},
                 {"expectedScores", expected},
                 {"scoreKind", score_kind},
                 {"task", ir.task_name}};
  if (ir.task != Task::kRegression) sample["classes"] = ir.classes;
  {
    Json columns = Json::array();
    for (const auto& c : model->transform().columns()) {
      columns.push_back({{"name", c.column},
                         {"type", c.kind == data::FeatureKind::kNumeric       ? "numeric"
                                  : c.kind == data::FeatureKind::kCategorical ? "categorical"
                                                                              : "timestamp"}});
    }
    sample["columns"] = std::move(columns);
  }
  if (TakesEncoded(in.format)) {
    Json encoded = Json::array();
    std::vector<float> x(ir.num_features());
    for (const Json& row : rows) {
      model->transform().Transform(row, x.data());
      Json r = Json::array();
      for (float v : x) r.push_back(std::isnan(v) ? Json(nullptr) : Json(v));
      encoded.push_back(std::move(r));
    }
    sample["encodedInputs"] = std::move(encoded);
    sample["encodedFeatureNames"] = model->transform().feature_names();
  }
  const double sample_seconds = Since(t_sample);

  // metadata.json.
  Json features = Json::array();
  {
    const auto& names = model->transform().feature_names();
    size_t offset = 0;
    for (const auto& c : model->transform().columns()) {
      const size_t w = data::FeatureTransform::Width(c);
      features.push_back({{"name", c.column},
                          {"type", c.kind == data::FeatureKind::kNumeric       ? "numeric"
                                   : c.kind == data::FeatureKind::kCategorical ? "categorical"
                                                                               : "timestamp"},
                          {"encodedAs", std::vector<std::string>(names.begin() + offset,
                                                                 names.begin() + offset + w)}});
      offset += w;
    }
  }
  Json estimator;
  if (ir.trees) {
    int depth = 0;
    for (const Tree& t : ir.trees->trees) depth = std::max(depth, t.Depth());
    estimator = {{"type", "xgboost"},
                 {"objective", ir.trees->objective},
                 {"trees", ir.trees->trees.size()},
                 {"maxDepth", depth},
                 {"baseMargin", ir.trees->base_margin}};
  } else {
    estimator = {
        {"type", "linear"}, {"standardized", true}, {"outputs", ir.linear->weights.size()}};
  }
  Json libraries = bundle.value("libraryVersions", Json::object());
  Json metadata = {
      {"modelType", in.model_type},
      {"task", ir.task_name},
      {"format", in.format},
      {"tsmlVersion", TsmlVersion()},
      {"exportedAt", common::FormatIso8601(common::SystemClock::Default()->NowMillis())},
      {"target", target},
      {"features", features},
      {"encodedFeatureNames", model->transform().feature_names()},
      {"featureTransformation", model->transform().ToJson()},
      {"estimator", estimator},
      {"libraryVersions", libraries},
      {"trainedAt", bundle.value("trainedAt", Json())}};
  AddJobMetadata(in, &metadata);
  if (ir.task != Task::kRegression) {
    metadata["classes"] = ir.classes;
    metadata["threshold"] = ir.threshold;
  }
  if (!ir.hashed.empty()) {
    size_t n = 0;
    for (const auto& [c, values] : ir.hashed) n += values.size();
    metadata["hashedCategoryValues"] = n;
  }

  // The model in the format's own layout.
  const auto t_write = Clock::now();
  if (cancel != nullptr && cancel->cancelled()) return absl::CancelledError("export cancelled");
  Json layout;
  const Json props = {{"modelType", in.model_type},
                      {"task", ir.task_name},
                      {"tsmlVersion", TsmlVersion()},
                      {"classes", ir.classes},
                      {"encodedFeatureNames", model->transform().feature_names()}};
  if (in.format == "onnx") {
    RETURN_IF_ERROR(WriteTabularOnnx(ir, props, model_dir + "/model.onnx", &layout));
    libraries["onnx"] = "1.12 (libonnx, ai.onnx opset 15, ai.onnx.ml opset 3, IR 8)";
  } else if (in.format == "pmml") {
    RETURN_IF_ERROR(WriteTabularPmml(ir, target, props, model_dir + "/model.pmml", &layout));
    libraries["pmml"] = "4.4";
  } else {
    Json spec = IrToJson(ir);
    if (const auto* booster = model->booster()) {
      ASSIGN_OR_RETURN(std::string json, booster->SaveJson());
      const std::string booster_path = in.work_dir + "/booster.json";
      RETURN_IF_ERROR(common::WriteFileAtomic(booster_path, json));
      spec["boosterPath"] = booster_path;
    }
    RETURN_IF_ERROR(RunConverter(in, spec, model_dir, cancel, &layout, &libraries));
  }
  metadata["libraryVersions"] = libraries;
  metadata["layout"] = layout;
  out->write_seconds = Since(t_write);
  out->sample_seconds = sample_seconds;
  out->readme = Readme(in.format, in.model_type, ir.task);
  out->sample = std::move(sample);
  out->expected = std::move(expected);
  out->metadata = std::move(metadata);
  return absl::OkStatus();
}

// A recommendation model (ALS): user ids in, the top-k unseen items and their scores out.
absl::Status PrepareRecommendation(const ExportInput& in, const Json& bundle,
                                   const train::PredictorRegistry& predictors,
                                   const std::string& model_dir,
                                   const common::CancellationToken* cancel, Prepared* out) {
  ASSIGN_OR_RETURN(std::unique_ptr<train::recommend::RecommendPredictor> rec,
                   train::recommend::RecommendPredictor::FromBundle(bundle));
  if (rec->model().algorithm() != train::recommend::Algorithm::kAls) {
    return absl::InvalidArgumentError(
        "only ALS recommendation models can be exported (item_knn scores need the user's "
        "history as input)");
  }
  ASSIGN_OR_RETURN(std::unique_ptr<train::Predictor> predictor,
                   predictors.Load(in.model_type, in.bundle_path));
  const auto t_sample = Clock::now();
  int k = 10;
  if (const auto h = bundle.find("hyperparameters"); h != bundle.end() && h->is_object()) {
    if (auto it = h->find("k"); it != h->end() && it->is_number_integer()) {
      k = std::clamp(it->get<int>(), 1, 100);
    }
  }
  k = std::min<int>(k, rec->model().num_items());
  // Known users spread over the index, one unknown (cold start).
  const auto& users = rec->user_ids();
  Json rows = Json::array();
  const int known = std::min<int>(kSampleRows - 1, static_cast<int>(users.size()));
  for (int i = 0; i < known; ++i) {
    rows.push_back({{"userId", users[static_cast<size_t>(i) * users.size() / known]}});
  }
  rows.push_back({{"userId", "__tsml_unknown_user__"}});
  ASSIGN_OR_RETURN(Json predictions, predictor->Predict(rows, {{"k", k}}));
  Json expected = Json::array(), items = Json::array();
  try {
    for (const Json& p : predictions) {
      Json s = Json::array(), ids = Json::array();
      for (const Json& item : p.at("items")) {
        s.push_back(item.at("score"));
        ids.push_back(item.at("itemId"));
      }
      expected.push_back(std::move(s));
      items.push_back(std::move(ids));
    }
  } catch (const std::exception& e) {
    return absl::InternalError(StrCat("unexpected prediction shape: ", e.what()));
  }
  out->sample = {{"rows", rows},
                 {"k", k},
                 {"expectedScores", expected},
                 {"expectedItems", items},
                 {"scoreKind", "topKItemScores"},
                 {"task", "ranking"}};
  out->sample_seconds = Since(t_sample);

  const auto& factors = rec->model().factors();
  Json metadata = {
      {"modelType", in.model_type},
      {"task", "ranking"},
      {"format", in.format},
      {"tsmlVersion", TsmlVersion()},
      {"exportedAt", common::FormatIso8601(common::SystemClock::Default()->NowMillis())},
      {"algorithm", "als"},
      {"users", rec->model().num_users()},
      {"items", rec->model().num_items()},
      {"factors", factors.items.cols()},
      {"k", k},
      {"features", Json::array({{{"name", "userId"}, {"type", "categorical"}}})},
      {"scoring",
       "score(user, item) = user_factors[user] · item_factors[item]; the "
       "user's training items are excluded; unknown users get item "
       "popularity (share of users)"},
      {"trainedAt", bundle.value("trainedAt", Json())}};
  AddJobMetadata(in, &metadata);
  Json libraries = bundle.value("libraryVersions", Json::object());

  const auto t_write = Clock::now();
  if (cancel != nullptr && cancel->cancelled()) return absl::CancelledError("export cancelled");
  RecommenderArrays arrays;
  arrays.user_ids = &rec->user_ids();
  arrays.item_ids = &rec->item_ids();
  arrays.factors = static_cast<int>(factors.items.cols());
  arrays.user_factors.assign(factors.users.data(), factors.users.data() + factors.users.size());
  arrays.item_factors.assign(factors.items.data(), factors.items.data() + factors.items.size());
  arrays.popularity = rec->model().popularity();
  const auto& seen = rec->model().seen();
  arrays.seen_ptr = seen.ptr;
  arrays.seen_index = seen.index;
  Json layout;
  const Json props = {
      {"modelType", in.model_type}, {"tsmlVersion", TsmlVersion()}, {"algorithm", "als"}};
  if (in.format == "onnx") {
    RETURN_IF_ERROR(WriteRecommendOnnx(arrays, props, model_dir + "/model.onnx", &layout));
    libraries["onnx"] = "1.12 (libonnx, ai.onnx opset 15, IR 8)";
  } else {
    Json spec = {{"kind", "recommendation"},           {"userIds", *arrays.user_ids},
                 {"itemIds", *arrays.item_ids},        {"factors", arrays.factors},
                 {"userFactors", arrays.user_factors}, {"itemFactors", arrays.item_factors},
                 {"popularity", arrays.popularity},    {"seenPtr", arrays.seen_ptr},
                 {"seenIndex", arrays.seen_index}};
    RETURN_IF_ERROR(RunConverter(in, spec, model_dir, cancel, &layout, &libraries));
  }
  metadata["libraryVersions"] = libraries;
  metadata["layout"] = layout;
  out->write_seconds = Since(t_write);
  out->readme = StrCat(
      "# tsml export: recommendation (ALS) as ", in.format, "\n\n",
      in.format == "onnx"
          ? "Load `model.onnx` with onnxruntime. Inputs: `user_id` (string [N]) and `k` (int64 "
            "[1]).\nOutputs: `item_ids` (string [N, k]) and `scores` (float32 [N, k]), best "
            "first.\n"
          : "`torch.jit.load(\"model.pt\")(user_ids, k)` with a list of user id strings and an "
            "int;\nreturns (item ids [N][k], scores float32 [N, k]), best first.\n",
      "\nItems the user interacted with in training are excluded; an unknown user gets the most\n"
      "popular items (score: share of users). sample.json holds user ids and the items and\n"
      "scores the tsml service returned for them; the export was verified against them.\n");
  out->expected = std::move(expected);
  out->expected_items = std::move(items);
  out->metadata = std::move(metadata);
  return absl::OkStatus();
}

// A sentiment model (TF-IDF + logistic regression): tsml's tokens in, class probabilities out.
absl::Status PrepareText(const ExportInput& in, const Json& bundle,
                         const train::PredictorRegistry& predictors, const std::string& model_dir,
                         const common::CancellationToken* cancel, Prepared* out) {
  namespace text = train::text;
  ASSIGN_OR_RETURN(std::unique_ptr<text::SentimentModel> model,
                   text::SentimentModel::FromBundle(bundle));
  const auto* linear = dynamic_cast<const text::TfidfLogReg*>(&model->classifier());
  if (linear == nullptr) {
    return absl::InvalidArgumentError(
        "only tfidf_logreg sentiment models can be exported (a fastText model's hashed subword "
        "embeddings have no counterpart in ONNX or scikit-learn); train with "
        "hyperparameters.algorithm = \"tfidf_logreg\"");
  }
  const text::TfidfVectorizer& vec = linear->vectorizer();
  if (vec.options().hashed || vec.options().char_ngrams) {
    return absl::InvalidArgumentError(StrCat(
        "this sentiment model uses ", vec.options().hashed ? "the hashed vectorizer" : "charNgrams",
        ", which ONNX's TfIdfVectorizer and scikit-learn cannot reproduce; train with "
        "vectorizer = \"vocabulary\" and charNgrams = false to export"));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<train::Predictor> predictor,
                   predictors.Load(in.model_type, in.bundle_path));
  const std::vector<std::string>& labels = model->labels();
  const bool binary = labels.size() == 2;
  // tsml's tokenizer in plain Python goes into the zip, so users can go from raw text.
  {
    const std::string tools = in.tools_dir.empty() ? TSML_EXPORT_TOOLS_DIR : in.tools_dir;
    std::error_code ec;
    std::filesystem::copy_file(tools + "/tokenizer.py", model_dir + "/tokenizer.py",
                               std::filesystem::copy_options::overwrite_existing, ec);
    if (ec) {
      return absl::FailedPreconditionError(
          StrCat("cannot copy ", tools, "/tokenizer.py into the export: ", ec.message()));
    }
  }

  const auto t_sample = Clock::now();
  Json training_data =
      in.job.is_object() ? in.job.value("trainingData", Json::object()) : Json::object();
  if (!training_data.is_object()) training_data = Json::object();
  ASSIGN_OR_RETURN(std::vector<std::string> texts,
                   DrawTextSample(in.data_db, in.model_type, training_data, model->text_column(),
                                  kSampleRows));
  Json rows = Json::array(), tokens = Json::array();
  for (const std::string& t : texts) {
    rows.push_back({{"text", t}});
    tokens.push_back(text::Tokenize(t));
  }
  ASSIGN_OR_RETURN(Json predictions, predictor->Predict(rows, Json::object()));
  Json expected = Json::array();
  try {
    for (const Json& p : predictions) {
      const Json& probabilities = p.at("probabilities");
      if (binary) {
        expected.push_back(probabilities.at(labels[1]));
      } else {
        Json row = Json::array();
        for (const std::string& l : labels) row.push_back(probabilities.at(l));
        expected.push_back(std::move(row));
      }
    }
  } catch (const std::exception& e) {
    return absl::InternalError(StrCat("unexpected prediction shape: ", e.what()));
  }
  const char* task = binary ? "binary_classification" : "multiclass_classification";
  out->sample = {{"kind", "text"},
                 {"rows", rows},
                 {"encodedInputs", tokens},
                 {"expectedScores", expected},
                 {"scoreKind", binary ? "probabilityOfClasses[1]" : "classProbabilities"},
                 {"task", task},
                 {"classes", labels}};
  out->sample_seconds = Since(t_sample);

  const text::LinearModel& lm = linear->model();
  TextLinearArrays arrays;
  arrays.labels = labels;
  arrays.idf = vec.idf();
  arrays.rows = lm.rows();
  for (int i = 0; i < vec.num_features(); ++i) arrays.terms.push_back(vec.FeatureName(i));
  for (int r = 0; r < lm.rows(); ++r) {
    for (int j = 0; j <= lm.num_features(); ++j) arrays.weights.push_back(lm.weight(r, j));
  }
  const Json tokenizer = bundle.value("transform", Json::object()).value("tokenizer", Json());
  Json metadata = {
      {"modelType", in.model_type},
      {"task", task},
      {"format", in.format},
      {"tsmlVersion", TsmlVersion()},
      {"exportedAt", common::FormatIso8601(common::SystemClock::Default()->NowMillis())},
      {"classes", labels},
      {"positiveLabel", model->positive() >= 0 ? Json(labels[model->positive()]) : Json()},
      {"textColumn", model->text_column()},
      {"tokenizer", tokenizer},
      {"vectorizer",
       {{"kind", "vocabulary"},
        {"ngramMax", vec.options().ngram_max},
        {"vocabularySize", vec.num_features()},
        {"value", "(1 + ln tf) * idf, idf = ln((1 + n) / (1 + df)) + 1, rows L2-normalized"}}},
      {"estimator",
       {{"type", "logistic regression (liblinear L2R_LR)"},
        {"oneVsRest", !binary},
        {"probabilities", binary ? "sigmoid" : "per-class sigmoids normalized to sum 1"}}},
      {"trainedAt", bundle.value("trainedAt", Json())}};
  AddJobMetadata(in, &metadata);
  Json libraries = bundle.value("libraryVersions", Json::object());

  const auto t_write = Clock::now();
  if (cancel != nullptr && cancel->cancelled()) return absl::CancelledError("export cancelled");
  Json layout;
  const Json props = {{"modelType", in.model_type},
                      {"task", task},
                      {"tsmlVersion", TsmlVersion()},
                      {"classes", labels},
                      {"tokenizerVersion", text::kTokenizerVersion}};
  if (in.format == "onnx") {
    RETURN_IF_ERROR(WriteTextOnnx(arrays, props, model_dir + "/model.onnx", &layout));
    libraries["onnx"] = "1.12 (libonnx, ai.onnx opset 15, ai.onnx.ml opset 3, IR 8)";
  } else {
    const Json spec = {{"kind", "text"},          {"task", task},
                       {"classes", labels},       {"terms", arrays.terms},
                       {"idf", arrays.idf},       {"ngramMax", vec.options().ngram_max},
                       {"rows", arrays.rows},     {"numFeatures", vec.num_features()},
                       {"weights", arrays.weights}};
    RETURN_IF_ERROR(RunConverter(in, spec, model_dir, cancel, &layout, &libraries));
  }
  metadata["libraryVersions"] = libraries;
  metadata["layout"] = layout;
  out->write_seconds = Since(t_write);
  out->readme = StrCat(
      "# tsml export: nlp_sentiment (TF-IDF + logistic regression) as ", in.format, "\n\n",
      "The model takes tsml's tokens of each text, not the raw text: tsml's tokenizer (version ",
      text::kTokenizerVersion,
      ") lowercases, splits on whitespace and punctuation, keeps emoji as tokens and prefixes\n"
      "the tokens after a negation cue with NEG_ up to the next clause punctuation.\n"
      "`tokenizer.py` (standard library only) reproduces it: `tokenizer.tokenize(text)` gives the\n"
      "tokens, `tokenizer.tokenize_joined(text)` the sklearn pipeline's input string; the export\n"
      "was verified from the raw texts of sample.json through it. sample.json `encodedInputs`\n"
      "holds the tokens of each sample text.\n\n",
      in.format == "onnx"
          ? "Load `model.onnx` with onnxruntime. Input `tokens`: string [N, T], each row a text's "
            "tokens\npadded with \"\". Outputs `label` (string [N]) and `probabilities` (float32 "
            "[N, classes],\nin metadata.json `classes` order).\n"
          : "`joblib.load(\"model.joblib\")` is a scikit-learn Pipeline (TfidfVectorizer with the "
            "fixed\nvocabulary and idf, then LogisticRegression or OneVsRestClassifier). Input: a "
            "list of strings,\neach a text's tokens joined by single spaces; `predict_proba` gives "
            "the class probabilities\nin `classes_` order.\n",
      "\nsample.json holds texts, their tokens and the probabilities the tsml service computed\n"
      "(`expectedScores`: the probability of classes[1] for two classes); the export was\n"
      "verified against them.\n");
  out->expected = std::move(expected);
  out->metadata = std::move(metadata);
  return absl::OkStatus();
}

// A Holt-Winters forecaster: each series' fitted state (level, damped trend, seasonal
// indexes) and the forecast equation; a series' name in, its forecast out.
absl::Status PrepareHoltWinters(const ExportInput& in, const Json& bundle,
                                const train::Predictor& predictor, int horizon, int max_horizon,
                                const std::string& model_dir,
                                const common::CancellationToken* cancel, Prepared* out) {
  namespace fc = train::forecast;
  if (in.format != "onnx" && in.format != "pytorch") {
    return absl::InvalidArgumentError(
        StrCat("a Holt-Winters forecaster exports to onnx and pytorch, not ", in.format,
               " (its per-series state has no ", in.format,
               " estimator); train with hyperparameters.algorithm = \"xgboost\" for sklearn and "
               "tensorflow"));
  }
  HoltWintersArrays hw;
  hw.max_horizon = max_horizon;
  Json series_meta = Json::array();
  std::string frequency;
  try {
    const Json& m = bundle.at("model");
    frequency = bundle.at("transform").at("frequency").get<std::string>();
    hw.total = m.at("totalIndex").get<int>();
    for (const Json& e : m.at("series")) {
      hw.names.push_back(e.at("name").get<std::string>());
      std::optional<fc::HoltWintersModel> model;
      if (e.contains("holtWinters")) {
        ASSIGN_OR_RETURN(model, fc::HoltWintersModel::FromJson(e["holtWinters"]));
      }
      hw.level.push_back(model ? model->level : 0);
      hw.slope.push_back(model && model->trend ? model->slope : 0);
      hw.phi.push_back(model ? model->params.phi : 1);
      hw.lower.push_back(model && model->non_negative ? 0
                                                      : -std::numeric_limits<double>::infinity());
      hw.n.push_back(model ? model->n : 0);
      hw.season.push_back(model ? model->season : 0);
      hw.seasonal.push_back(model ? model->seasonal : std::vector<double>());
      Json state = model ? model->ToJson() : Json(nullptr);
      series_meta.push_back({{"name", static_cast<int>(series_meta.size()) == hw.total
                                          ? Json(nullptr)
                                          : Json(hw.names.back())},
                             {"holtWinters", state}});
    }
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(StrCat("demand_forecast artifact: ", e.what()));
  }
  if (hw.names.empty() || hw.total < 0 || hw.total >= static_cast<int>(hw.names.size())) {
    return absl::InvalidArgumentError("demand_forecast artifact: no series");
  }

  // Every series (the total first), repeated up to the sample size, at the trained horizon.
  const auto t_sample = Clock::now();
  std::vector<int> order = {hw.total};
  for (int i = 0; i < static_cast<int>(hw.names.size()); ++i) {
    if (i != hw.total) order.push_back(i);
  }
  Json rows = Json::array(), instances = Json::array();
  for (int r = 0; r < kSampleRows; ++r) {
    const int i = order[static_cast<size_t>(r) % order.size()];
    rows.push_back({{"group", i == hw.total ? Json(nullptr) : Json(hw.names[i])}});
    instances.push_back(i == hw.total ? Json::object() : Json{{"group", hw.names[i]}});
  }
  ASSIGN_OR_RETURN(Json forecasts, predictor.Predict(instances, {{"horizon", horizon}}));
  Json expected = Json::array();
  try {
    for (const Json& f : forecasts) {
      Json values = Json::array();
      for (const Json& p : f.at("forecast")) values.push_back(p.at("value"));
      expected.push_back(std::move(values));
    }
  } catch (const std::exception& e) {
    return absl::InternalError(StrCat("unexpected forecast shape: ", e.what()));
  }
  out->sample = {{"kind", "forecast_state"},
                 {"rows", rows},
                 {"horizon", horizon},
                 {"expectedScores", expected},
                 {"scoreKind", "forecast values, one per period"},
                 {"task", "forecast"}};
  out->sample_seconds = Since(t_sample);

  Json metadata = {
      {"modelType", in.model_type},
      {"task", "forecast"},
      {"format", in.format},
      {"tsmlVersion", TsmlVersion()},
      {"exportedAt", common::FormatIso8601(common::SystemClock::Default()->NowMillis())},
      {"frequency", frequency},
      {"horizon", horizon},
      {"maxHorizon", max_horizon},
      {"estimator",
       {{"type", "holt_winters"},
        {"form", "additive damped trend, additive seasonality"},
        {"forecast",
         "value(k) = level + slope * sum_{j=1..k} phi^j + seasonal[(n + k - 1) mod season], "
         "at least 0 when the series was never negative"}}},
      {"series", series_meta},
      {"trainedAt", bundle.value("trainedAt", Json())}};
  AddJobMetadata(in, &metadata);
  Json libraries = bundle.value("libraryVersions", Json::object());

  const auto t_write = Clock::now();
  if (cancel != nullptr && cancel->cancelled()) return absl::CancelledError("export cancelled");
  Json layout;
  const Json props = {{"modelType", in.model_type},
                      {"task", "forecast"},
                      {"tsmlVersion", TsmlVersion()},
                      {"algorithm", "holt_winters"}};
  if (in.format == "onnx") {
    RETURN_IF_ERROR(WriteHoltWintersOnnx(hw, props, model_dir + "/model.onnx", &layout));
    libraries["onnx"] = "1.12 (libonnx, ai.onnx opset 15, ai.onnx.ml opset 3, IR 8)";
  } else {
    const Json spec = {{"kind", "holt_winters"}, {"names", hw.names},   {"total", hw.total},
                       {"level", hw.level},      {"slope", hw.slope},   {"phi", hw.phi},
                       {"nonNegative", [&] {
                          Json flags = Json::array();
                          for (double l : hw.lower) flags.push_back(l == 0);
                          return flags;
                        }()},
                       {"n", hw.n},              {"season", hw.season}, {"seasonal", hw.seasonal},
                       {"maxHorizon", max_horizon}};
    RETURN_IF_ERROR(RunConverter(in, spec, model_dir, cancel, &layout, &libraries));
  }
  metadata["libraryVersions"] = libraries;
  metadata["layout"] = layout;
  out->write_seconds = Since(t_write);
  out->readme = StrCat(
      "# tsml export: demand_forecast (Holt-Winters) as ", in.format, "\n\n",
      in.format == "onnx"
          ? "Load `model.onnx` with onnxruntime. Inputs `group` (string [N]: a series' name, \"\" "
            "for the total)\nand `horizon` (int64 [1], 1..maxHorizon). Output `forecast` "
            "(float64 [N, horizon]); NaN for a\ngroup the model does not know.\n"
          : "`torch.jit.load(\"model.pt\")(groups, horizon)` with a list of series names (\"\" "
            "for the total) and an\nint; returns float64 [N, horizon] (NaN for an unknown "
            "group).\n",
      "\nEach series' fitted state is in metadata.json `series`. sample.json holds series and "
      "the\nforecasts the tsml service made for them; the export was verified against them.\n");
  out->expected = std::move(expected);
  out->metadata = std::move(metadata);
  return absl::OkStatus();
}

// A demand forecaster (XGBoost on lag features): the one-step model over the encoded lag,
// rolling and calendar features, checked on the service's own recursive forecasts.
absl::Status PrepareForecast(const ExportInput& in, const Json& bundle,
                             const train::PredictorRegistry& predictors,
                             const std::string& model_dir, const common::CancellationToken* cancel,
                             Prepared* out) {
  namespace fc = train::forecast;
  ASSIGN_OR_RETURN(std::unique_ptr<fc::ForecastPredictor> fp,
                   fc::ForecastPredictor::FromBundle(bundle));
  ASSIGN_OR_RETURN(std::unique_ptr<train::Predictor> predictor,
                   predictors.Load(in.model_type, in.bundle_path));
  if (fp->algorithm() == "holt_winters") {
    return PrepareHoltWinters(in, bundle, *predictor, fp->horizon(), fp->max_horizon(), model_dir,
                              cancel, out);
  }
  if (fp->algorithm() != "xgboost") {
    return absl::InvalidArgumentError(
        StrCat("forecasters of algorithm '", fp->algorithm(), "' cannot be exported"));
  }
  fc::LagConfig config;
  std::string booster_json;
  struct Series {
    std::string name;
    int code = 0;
    int64_t next_period = 0;
    double floor = 1;
    bool non_negative = true;
    std::vector<double> history;
  };
  std::vector<Series> series;
  size_t total = 0;
  std::string frequency;
  try {
    const Json& t = bundle.at("transform");
    const Json& m = bundle.at("model");
    frequency = t.at("frequency").get<std::string>();
    ASSIGN_OR_RETURN(config, fc::LagConfig::FromJson(t.at("lagConfig")));
    booster_json = m.at("boosterJson").get<std::string>();
    total = m.at("totalIndex").get<size_t>();
    for (const Json& e : m.at("series")) {
      series.push_back({e.at("name").get<std::string>(), e.at("code").get<int>(),
                        e.at("nextPeriod").get<int64_t>(), e.at("scaleFloor").get<double>(),
                        e.value("nonNegative", true),
                        e.at("history").get<std::vector<double>>()});
    }
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(StrCat("demand_forecast artifact: ", e.what()));
  }
  if (series.empty() || total >= series.size()) {
    return absl::InvalidArgumentError("demand_forecast artifact: no series");
  }
  ASSIGN_OR_RETURN(Json booster_doc, common::ParseJson(booster_json, 4096));
  ASSIGN_OR_RETURN(TreeEnsemble trees, ParseXgboostJson(booster_doc));
  const std::vector<std::string> names = config.FeatureNames();

  // The service's forecasts for the total and the first groups, then the features each step
  // of its recursion saw (the history extended by the forecasts before it).
  const auto t_sample = Clock::now();
  const int h = fp->horizon();
  std::vector<size_t> chosen = {total};
  for (size_t i = 0; i < series.size() && chosen.size() < 4; ++i) {
    if (i != total) chosen.push_back(i);
  }
  Json instances = Json::array();
  for (size_t i : chosen) {
    instances.push_back(i == total ? Json::object() : Json{{"group", series[i].name}});
  }
  ASSIGN_OR_RETURN(Json forecasts, predictor->Predict(instances, {{"horizon", h}}));
  struct Step {
    size_t series;
    int step;
    std::string period;
    double value;
  };
  std::vector<Step> steps;
  try {
    for (size_t k = 0; k < chosen.size(); ++k) {
      const Json& f = forecasts.at(k).at("forecast");
      for (int s = 0; s < h; ++s) {
        steps.push_back({chosen[k], s, f.at(s).at("period").get<std::string>(),
                         f.at(s).at("value").get<double>()});
      }
    }
  } catch (const std::exception& e) {
    return absl::InternalError(StrCat("unexpected forecast shape: ", e.what()));
  }
  // Every step's features (the recursion needs them all); the sample keeps kSampleRows spread
  // over the series and steps.
  const size_t cols = config.NumFeatures();
  const size_t lookback = static_cast<size_t>(config.Lookback());
  std::vector<std::vector<float>> x(steps.size(), std::vector<float>(cols));
  std::vector<double> scales(steps.size());
  {
    std::map<size_t, std::vector<double>> history;
    for (size_t r = 0; r < steps.size(); ++r) {
      const Series& s = series[steps[r].series];
      std::vector<double>& hist = history.try_emplace(steps[r].series, s.history).first->second;
      std::span<const double> view(hist);
      if (view.size() > lookback) view = view.subspan(view.size() - lookback);
      scales[r] = fc::ComputeFeatures(config, view, s.next_period + steps[r].step, s.code, s.floor,
                                      x[r].data());
      hist.push_back(steps[r].value);
    }
  }
  Json rows = Json::array(), encoded = Json::array(), expected = Json::array(),
       scale_json = Json::array(), non_negative = Json::array();
  const size_t keep = std::min<size_t>(kSampleRows, steps.size());
  for (size_t k = 0; k < keep; ++k) {
    const size_t r = k * steps.size() / keep;
    const Step& st = steps[r];
    rows.push_back({{"group", st.series == total ? Json(nullptr) : Json(series[st.series].name)},
                    {"period", st.period},
                    {"step", st.step + 1}});
    Json e = Json::array();
    for (float v : x[r]) e.push_back(std::isnan(v) ? Json(nullptr) : Json(v));
    encoded.push_back(std::move(e));
    expected.push_back(st.value);
    scale_json.push_back(scales[r]);
    non_negative.push_back(series[st.series].non_negative);
  }
  out->sample = {{"kind", "forecast"},
                 {"rows", rows},
                 {"encodedInputs", encoded},
                 {"encodedFeatureNames", names},
                 {"scales", scale_json},
                 {"nonNegative", non_negative},
                 {"expectedScores", expected},
                 {"scoreKind", "value = ratio * scale (at least 0 where nonNegative)"},
                 {"task", "forecast"}};
  out->sample_seconds = Since(t_sample);

  Json series_meta = Json::array();
  for (size_t i = 0; i < series.size(); ++i) {
    const Series& s = series[i];
    const size_t from = s.history.size() > lookback ? s.history.size() - lookback : 0;
    series_meta.push_back(
        {{"name", i == total ? Json(nullptr) : Json(s.name)},
         {"groupCode", s.code},
         {"nextPeriod", fc::PeriodLabel(*fc::ParseFrequency(frequency), s.next_period)},
         {"scaleFloor", s.floor},
         {"nonNegative", s.non_negative},
         {"recentHistory", std::vector<double>(s.history.begin() + from, s.history.end())}});
  }
  Json metadata = {
      {"modelType", in.model_type},
      {"task", "forecast"},
      {"format", in.format},
      {"tsmlVersion", TsmlVersion()},
      {"exportedAt", common::FormatIso8601(common::SystemClock::Default()->NowMillis())},
      {"frequency", frequency},
      {"horizon", h},
      {"lagConfig", config.ToJson()},
      {"encodedFeatureNames", names},
      {"series", series_meta},
      {"estimator",
       {{"type", "xgboost"},
        {"objective", trees.objective},
        {"trees", trees.trees.size()},
        {"baseMargin", trees.base_margin}}},
      {"recursion",
       "value(t) = ratio(features(t)) * scale(t), clamped at 0 for nonNegative series; "
       "features(t) and scale(t) from the series' values before t (the forecasts of earlier "
       "steps included): lags, rolling means and standard deviations, log1p of the local level, "
       "the calendar of t, the trend ratio and the group code, each divided by the local level "
       "(the mean of the last scaleWindow values, at least scaleFloor)"},
      {"trainedAt", bundle.value("trainedAt", Json())}};
  AddJobMetadata(in, &metadata);
  Json libraries = bundle.value("libraryVersions", Json::object());

  const auto t_write = Clock::now();
  if (cancel != nullptr && cancel->cancelled()) return absl::CancelledError("export cancelled");
  Json layout;
  const Json props = {{"modelType", in.model_type},
                      {"task", "forecast"},
                      {"tsmlVersion", TsmlVersion()},
                      {"encodedFeatureNames", names}};
  if (in.format == "onnx") {
    RETURN_IF_ERROR(WriteForecastOnnx(trees, names, props, model_dir + "/model.onnx", &layout));
    libraries["onnx"] = "1.12 (libonnx, ai.onnx opset 15, ai.onnx.ml opset 3, IR 8)";
  } else {
    const std::string booster_path = in.work_dir + "/booster.json";
    RETURN_IF_ERROR(common::WriteFileAtomic(booster_path, booster_json));
    const Json spec = {{"kind", "forecast"},       {"task", "regression"},
                       {"estimator", "xgboost"},   {"trees", TreesToJson(trees)},
                       {"numFeatures", cols},      {"numOutputs", 1},
                       {"featureNames", names},    {"boosterPath", booster_path}};
    RETURN_IF_ERROR(RunConverter(in, spec, model_dir, cancel, &layout, &libraries));
  }
  metadata["libraryVersions"] = libraries;
  metadata["layout"] = layout;
  out->write_seconds = Since(t_write);
  out->readme = StrCat(
      "# tsml export: demand_forecast (XGBoost one-step forecaster) as ", in.format, "\n\n",
      "The model maps one period's encoded features (float32 [N, F], NaN = missing; names in\n"
      "metadata.json `encodedFeatureNames`) to `ratio`, the period's value over the series' local\n"
      "level: value = ratio * scale, clamped at 0 for series that were never negative. A forecast\n"
      "of h periods runs it h times, feeding each forecast back into the history the next step's\n"
      "lags and rolling statistics are computed from (metadata.json `recursion`, `lagConfig` and\n"
      "each series' `recentHistory`).\n\n",
      in.format == "onnx"      ? "Load `model.onnx` with onnxruntime: input `features`, output `ratio` [N, 1].\n"
      : in.format == "sklearn" ? "`joblib.load(\"model.joblib\").predict(features)` gives the ratios.\n"
      : in.format == "pytorch" ? "`torch.jit.load(\"model.pt\")(features)` gives the ratios [N].\n"
                               : "`tf.saved_model.load(\"saved_model\").signatures[\"serving_default\"]"
                                 "(features=...)[\"scores\"]`\ngives the ratios [N].\n",
      "\nsample.json holds feature rows of the service's own recursive forecasts (`encodedInputs`,\n"
      "`scales`, `nonNegative`) and the values it forecast (`expectedScores`); the export was\n"
      "verified against them.\n");
  out->expected = std::move(expected);
  out->metadata = std::move(metadata);
  return absl::OkStatus();
}

}  // namespace

std::string TsmlVersion() { return TSML_VERSION; }

const std::vector<std::string>& AllFormats() {
  static const std::vector<std::string> kAll = {"onnx", "pmml", "sklearn", "pytorch", "tensorflow"};
  return kAll;
}

std::vector<std::string> SupportedFormats(const std::string& model_type) {
  if (IsTabular(model_type)) return AllFormats();
  if (model_type == "recommendation") return {"onnx", "pytorch"};
  if (model_type == "nlp_sentiment") return {"onnx", "sklearn"};
  if (model_type == "demand_forecast") return {"onnx", "sklearn", "pytorch", "tensorflow"};
  return {};
}

absl::Status CheckFormatSupported(const std::string& model_type, const std::string& format) {
  const std::vector<std::string> ok = SupportedFormats(model_type);
  if (std::find(ok.begin(), ok.end(), format) != ok.end()) return absl::OkStatus();
  if (ok.empty()) {
    return absl::InvalidArgumentError(
        StrCat("models of type '", model_type, "' cannot be exported"));
  }
  return absl::InvalidArgumentError(StrCat("format '", format, "' is not supported for ",
                                           model_type,
                                           " models; supported: ", common::StrJoin(ok, ", ")));
}

absl::StatusOr<ExportResult> RunExport(const ExportInput& in,
                                       const train::PredictorRegistry& predictors,
                                       const common::CancellationToken* cancel) {
  const auto t_start = Clock::now();
  RETURN_IF_ERROR(CheckFormatSupported(in.model_type, in.format));
  if (in.python.empty() || access(in.python.c_str(), X_OK) != 0) {
    return absl::FailedPreconditionError(
        "exports are verified in the converters' Python environment, which is not available "
        "(create it with scripts/setup_python.sh, which `make build` runs)");
  }
  if (in.work_dir.empty() || in.output_zip.empty()) {
    return absl::InvalidArgumentError("work_dir and output_zip are required");
  }
  std::error_code ec;
  std::filesystem::remove(in.output_zip, ec);
  auto fail = [&](absl::Status s) {
    std::error_code ignored;
    std::filesystem::remove(in.output_zip, ignored);
    return s;
  };
  const std::string stage = in.work_dir + "/stage";
  const std::string model_dir = stage + "/model";
  std::filesystem::create_directories(model_dir, ec);
  if (ec) return absl::InternalError(StrCat("cannot create ", model_dir, ": ", ec.message()));
  auto cancelled = [&] { return cancel != nullptr && cancel->cancelled(); };

  // The model, natively.
  ASSIGN_OR_RETURN(Json bundle, train::ReadBundle(in.bundle_path));
  Prepared prepared;
  if (in.model_type == "recommendation") {
    RETURN_IF_ERROR(PrepareRecommendation(in, bundle, predictors, model_dir, cancel, &prepared));
  } else if (in.model_type == "nlp_sentiment") {
    RETURN_IF_ERROR(PrepareText(in, bundle, predictors, model_dir, cancel, &prepared));
  } else if (in.model_type == "demand_forecast") {
    RETURN_IF_ERROR(PrepareForecast(in, bundle, predictors, model_dir, cancel, &prepared));
  } else {
    RETURN_IF_ERROR(PrepareTabular(in, bundle, predictors, model_dir, cancel, &prepared));
  }
  if (in.tamper) RETURN_IF_ERROR(in.tamper(model_dir));
  const Json& sample = prepared.sample;
  const Json& expected = prepared.expected;
  const Json& metadata = prepared.metadata;
  const size_t sample_rows = sample["rows"].size();

  // The zip: model files, sample.json, metadata.json, README.md.
  const auto t_zip = Clock::now();
  if (cancelled()) return absl::CancelledError("export cancelled");
  RETURN_IF_ERROR(common::WriteFileAtomic(stage + "/sample.json", sample.dump(2)));
  RETURN_IF_ERROR(common::WriteFileAtomic(stage + "/README.md", prepared.readme));
  std::vector<std::pair<std::string, std::string>> entries;
  AddTree(model_dir, "", &entries);
  entries.emplace_back("sample.json", stage + "/sample.json");
  entries.emplace_back("README.md", stage + "/README.md");
  if (in.include_metadata) {
    RETURN_IF_ERROR(common::WriteFileAtomic(stage + "/metadata.json", metadata.dump(2)));
    entries.emplace_back("metadata.json", stage + "/metadata.json");
  }
  RETURN_IF_ERROR(WriteZip(in.output_zip, entries));
  const double zip_seconds = Since(t_zip);

  // Verification in the home runtime, from the zip itself.
  const auto t_verify = Clock::now();
  auto verified = RunPython(
      in, "verify.py",
      {"--format", in.format, "--zip", in.output_zip, "--work", in.work_dir + "/verify"}, cancel);
  if (!verified.ok()) return fail(verified.status());
  auto answer = LastJsonLine("verify.py", verified->out);
  if (!answer.ok()) return fail(answer.status());
  std::vector<double> want, got;
  Flatten(expected, &want);
  Flatten(answer->value("scores", Json::array()), &got);
  // |diff| <= tolerance * max(1, |expected|): absolute for probabilities and small values;
  // relative for large regression values, whose float32 representation alone is coarser.
  double max_diff = 0, max_excess = 0;
  bool comparable = want.size() == got.size();
  for (size_t i = 0; comparable && i < want.size(); ++i) {
    const double d = std::fabs(want[i] - got[i]);
    if (std::isnan(d)) {
      comparable = false;
    } else {
      max_diff = std::max(max_diff, d);
      max_excess = std::max(max_excess, d / std::max(1.0, std::fabs(want[i])));
    }
  }
  // Recommendations: the same items in the same order, but where the service's scores at
  // neighbouring ranks are within the tolerance (a tie up to float rounding).
  int64_t item_mismatches = 0;
  if (!prepared.expected_items.is_null()) {
    const Json got_items = answer->value("items", Json::array());
    if (got_items.size() != prepared.expected_items.size()) comparable = false;
    for (size_t r = 0; comparable && r < got_items.size(); ++r) {
      const Json& want_row = prepared.expected_items[r];
      const Json& scores_row = expected[r];
      if (got_items[r].size() != want_row.size()) {
        comparable = false;
        break;
      }
      for (size_t j = 0; j < want_row.size(); ++j) {
        if (got_items[r][j] == want_row[j]) continue;
        const double sj = scores_row[j].get<double>();
        bool tie = false;
        for (size_t i = 0; i < scores_row.size(); ++i) {
          if (i != j && std::fabs(scores_row[i].get<double>() - sj) <= kParityTolerance) tie = true;
        }
        if (!tie && j + 1 != want_row.size()) ++item_mismatches;
      }
    }
  }
  const bool passed = comparable && item_mismatches == 0 && max_excess <= kParityTolerance;
  ExportResult result;
  result.parity = {{"format", in.format},
                   {"runtime", answer->value("runtime", "")},
                   {"runtimeVersion", answer->value("runtimeVersion", "")},
                   {"rows", sample_rows},
                   {"maxAbsDiff", comparable ? Json(max_diff) : Json(nullptr)},
                   {"maxScaledDiff", comparable ? Json(max_excess) : Json(nullptr)},
                   {"tolerance", kParityTolerance},
                   {"rule", "|diff| <= tolerance * max(1, |expected|)"},
                   {"passed", passed}};
  if (answer->contains("checks")) result.parity["checks"] = (*answer)["checks"];
  if (!prepared.expected_items.is_null()) result.parity["itemMismatches"] = item_mismatches;
  if (!passed) {
    return fail(absl::InternalError(
        comparable
            ? StrCat("parity check failed: ", in.format, " model in ", answer->value("runtime", ""),
                     " differs from the service by up to ", max_diff, " (scaled ", max_excess,
                     ", tolerance ", kParityTolerance, ") on ", sample_rows, " sample rows",
                     item_mismatches ? StrCat(", ", item_mismatches, " items differ") : "")
            : StrCat("parity check failed: ", answer->value("runtime", ""), " returned ",
                     got.size(), " scores (NaN or missing ones included) for ", want.size(),
                     " expected")));
  }
  const double verify_seconds = Since(t_verify);

  auto checksum = common::Sha256File(in.output_zip);
  if (!checksum.ok()) return fail(checksum.status());
  result.checksum = *std::move(checksum);
  result.file_size = static_cast<int64_t>(std::filesystem::file_size(in.output_zip, ec));
  result.metadata = metadata;
  result.timings = {{"sample", prepared.sample_seconds},
                    {"write", prepared.write_seconds},
                    {"zip", zip_seconds},
                    {"verify", verify_seconds},
                    {"total", Since(t_start)}};
  return result;
}

}  // namespace tsml::exporting
