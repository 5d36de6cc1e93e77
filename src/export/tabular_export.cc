// Tabular models (churn_prediction, user_behavior, predictive_analytics): raw columns in, the
// feature transformation and XGBoost or the linear model in every format.
#include <cmath>
#include <filesystem>

#include "common/file_util.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "export/onnx_writer.h"
#include "export/pmml_writer.h"
#include "export/prepare.h"
#include "export/sample.h"
#include "export/tabular_ir.h"
#include "train/tabular/tabular_model.h"

namespace tsml::exporting {
namespace {

using common::StrCat;
using train::tabular::Task;

bool TakesEncoded(const std::string& format) {
  return format == "pytorch" || format == "tensorflow";
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

}  // namespace

// The tabular model: sample rows, metadata and the model files in `model_dir`.
absl::Status PrepareTabular(const ExportInput& in, const Json& bundle, const std::string& model_dir,
                            const common::CancellationToken* cancel, Prepared* out) {
  ASSIGN_OR_RETURN(std::unique_ptr<train::tabular::TabularModel> loaded,
                   train::tabular::TabularModel::FromBundle(bundle));
  // The service's own predictor over the same model: the scores the export must reproduce.
  const train::tabular::TabularPredictor predictor(std::move(loaded));
  const train::tabular::TabularModel& model = predictor.model();
  ASSIGN_OR_RETURN(TabularIr ir, BuildTabularIr(model));

  // Sample rows and the scores the service gives them.
  const auto t_sample = Clock::now();
  Json training_data =
      in.job.is_object() ? in.job.value("trainingData", Json::object()) : Json::object();
  if (!training_data.is_object()) training_data = Json::object();
  std::string target;
  ASSIGN_OR_RETURN(Json rows,
                   DrawTabularSample(in.data_db, in.model_type, training_data, model.transform(),
                                     kSampleRows, &ir.hashed, &target));
  if (target.empty()) target = training_data.value("target", "target");
  ASSIGN_OR_RETURN(Json predictions, predictor.Predict(rows, Json::object()));
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
    for (const auto& c : model.transform().columns()) {
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
      model.transform().Transform(row, x.data());
      Json r = Json::array();
      for (float v : x) r.push_back(std::isnan(v) ? Json(nullptr) : Json(v));
      encoded.push_back(std::move(r));
    }
    sample["encodedInputs"] = std::move(encoded);
    sample["encodedFeatureNames"] = model.transform().feature_names();
  }
  const double sample_seconds = Since(t_sample);

  // metadata.json.
  Json features = Json::array();
  {
    const auto& names = model.transform().feature_names();
    size_t offset = 0;
    for (const auto& c : model.transform().columns()) {
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
  Json metadata = BaseMetadata(in, ir.task_name, bundle);
  metadata.update(Json{{"target", target},
                       {"features", features},
                       {"encodedFeatureNames", model.transform().feature_names()},
                       {"featureTransformation", model.transform().ToJson()},
                       {"estimator", estimator}});
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
  const Json props = {{"modelType", in.model_type},
                      {"task", ir.task_name},
                      {"tsmlVersion", TsmlVersion()},
                      {"classes", ir.classes},
                      {"encodedFeatureNames", model.transform().feature_names()}};
  auto write_native = [&](Json* layout) {
    if (in.format == "pmml") {
      return WriteTabularPmml(ir, target, props, model_dir + "/model.pmml", layout);
    }
    return WriteTabularOnnx(ir, props, model_dir + "/model.onnx", layout);
  };
  auto converter_spec = [&]() -> absl::StatusOr<Json> {
    Json spec = IrToJson(ir);
    if (const auto* booster = model.booster(); booster != nullptr && in.format == "sklearn") {
      ASSIGN_OR_RETURN(std::string json, booster->SaveJson());
      const std::string booster_path = in.work_dir + "/booster.json";
      RETURN_IF_ERROR(common::WriteFileAtomic(booster_path, json));
      spec["boosterPath"] = booster_path;
    }
    return spec;
  };
  RETURN_IF_ERROR(
      WriteModelFiles(in, bundle, model_dir, write_native, converter_spec, cancel, &metadata, out));
  out->sample_seconds = sample_seconds;
  out->readme = Readme(in.format, in.model_type, ir.task);
  out->sample = std::move(sample);
  out->metadata = std::move(metadata);
  return absl::OkStatus();
}

}  // namespace tsml::exporting
