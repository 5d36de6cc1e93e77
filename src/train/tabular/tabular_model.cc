#include "train/tabular/tabular_model.h"

#include <cmath>

#include "common/strings.h"
#include "train/bundle.h"

namespace tsml::train::tabular {
namespace {

double Sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

// Checks a raw value's JSON type against what its column accepts.
absl::Status CheckValue(const data::ColumnTransform& c, const Json& v, size_t row) {
  if (v.is_null()) return absl::OkStatus();
  bool ok = true;
  switch (c.kind) {
    case data::FeatureKind::kNumeric:
      ok = v.is_number() || v.is_boolean();
      if (v.is_string()) {
        char* end = nullptr;
        const std::string& s = v.get_ref<const std::string&>();
        std::strtod(s.c_str(), &end);
        ok = !s.empty() && end && *end == '\0';
      }
      break;
    case data::FeatureKind::kCategorical:
      ok = v.is_string() || v.is_number() || v.is_boolean();
      break;
    case data::FeatureKind::kTimestamp:
      ok = v.is_string() || v.is_number();
      break;
  }
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(common::StrCat(
      "instances[", row, "].", c.column, ": expected ",
      c.kind == data::FeatureKind::kNumeric       ? "a number"
      : c.kind == data::FeatureKind::kCategorical ? "a string"
                                                  : "an ISO 8601 date-time or epoch milliseconds",
      ", got ", common::JsonTypeName(v)));
}

}  // namespace

std::string_view TaskName(Task task) {
  switch (task) {
    case Task::kBinary:
      return "binary_classification";
    case Task::kMulticlass:
      return "multiclass_classification";
    case Task::kRegression:
      return "regression";
  }
  return "regression";
}

Json LinearModel::ToJson() const {
  return {{"mean", mean}, {"scale", scale}, {"weights", weights}, {"bias", bias}};
}

absl::StatusOr<LinearModel> LinearModel::FromJson(const Json& j, size_t features) {
  LinearModel m;
  try {
    m.mean = j.at("mean").get<std::vector<double>>();
    m.scale = j.at("scale").get<std::vector<double>>();
    m.weights = j.at("weights").get<std::vector<std::vector<double>>>();
    m.bias = j.at("bias").get<std::vector<double>>();
  } catch (const std::exception&) {
    return absl::InvalidArgumentError("malformed linear model");
  }
  if (m.mean.size() != features || m.scale.size() != features || m.weights.empty() ||
      m.bias.size() != m.weights.size()) {
    return absl::InvalidArgumentError("linear model does not match its features");
  }
  for (const auto& w : m.weights) {
    if (w.size() != features) return absl::InvalidArgumentError("linear model width mismatch");
  }
  return m;
}

TabularModel::TabularModel(data::FeatureTransform transform, Task task,
                           std::vector<std::string> classes, std::optional<xgb::Booster> booster,
                           std::optional<LinearModel> linear, double threshold)
    : transform_(std::move(transform)),
      task_(task),
      classes_(std::move(classes)),
      booster_(std::move(booster)),
      linear_(std::move(linear)),
      threshold_(threshold) {}

absl::StatusOr<std::vector<float>> TabularModel::Score(const float* x, size_t rows) const {
  const size_t cols = transform_.num_features();
  if (booster_) return booster_->Predict(x, rows, cols);
  if (!linear_) return absl::FailedPreconditionError("model has no estimator");
  const LinearModel& m = *linear_;
  const size_t outputs = m.weights.size();
  std::vector<float> out(rows * outputs);
  for (size_t r = 0; r < rows; ++r) {
    const float* row = x + r * cols;
    double total = 0;
    for (size_t k = 0; k < outputs; ++k) {
      double z = m.bias[k];
      for (size_t j = 0; j < cols; ++j) {
        const double v = std::isnan(row[j]) ? m.mean[j] : row[j];
        z += m.weights[k][j] * (v - m.mean[j]) / m.scale[j];
      }
      const double s = task_ == Task::kRegression ? z : Sigmoid(z);
      out[r * outputs + k] = static_cast<float>(s);
      total += s;
    }
    if (task_ == Task::kMulticlass && total > 0) {  // liblinear's one-vs-rest normalization
      for (size_t k = 0; k < outputs; ++k) out[r * outputs + k] /= static_cast<float>(total);
    }
  }
  return out;
}

absl::StatusOr<Json> TabularModel::ToJson() const {
  Json model = {{"task", std::string(TaskName(task_))},
                {"classes", classes_},
                {"threshold", threshold_},
                {"transform", transform_.ToJson()}};
  if (booster_) {
    auto json = booster_->SaveJson();
    if (!json.ok()) return json.status();
    auto parsed = common::ParseJson(*json, 4096);
    if (!parsed.ok()) return absl::InternalError("xgboost produced invalid JSON");
    model["estimator"] = "xgboost";
    model["booster"] = *std::move(parsed);
  } else if (linear_) {
    model["estimator"] = "linear";
    model["linear"] = linear_->ToJson();
  }
  return model;
}

absl::StatusOr<std::unique_ptr<TabularModel>> TabularModel::FromBundle(const Json& bundle) {
  if (!bundle.contains("model") || !bundle["model"].is_object()) {
    return absl::InvalidArgumentError("bundle has no model");
  }
  const Json& m = bundle["model"];
  auto transform = data::FeatureTransform::FromJson(m.value("transform", Json()));
  if (!transform.ok()) return transform.status();
  const std::string task_name = m.value("task", "");
  Task task = task_name == "binary_classification"       ? Task::kBinary
              : task_name == "multiclass_classification" ? Task::kMulticlass
                                                         : Task::kRegression;
  std::vector<std::string> classes;
  if (m.contains("classes") && m["classes"].is_array()) {
    for (const auto& c : m["classes"]) classes.push_back(c.is_string() ? c.get<std::string>() : c.dump());
  }
  std::optional<xgb::Booster> booster;
  std::optional<LinearModel> linear;
  if (m.value("estimator", "") == "xgboost") {
    auto b = xgb::Booster::LoadJson(m["booster"].dump());
    if (!b.ok()) return b.status();
    (void)b->SetParam("nthread", "1");
    booster = *std::move(b);
  } else if (m.value("estimator", "") == "linear") {
    auto l = LinearModel::FromJson(m["linear"], transform->num_features());
    if (!l.ok()) return l.status();
    linear = *std::move(l);
  } else {
    return absl::InvalidArgumentError("unknown estimator in bundle");
  }
  return std::make_unique<TabularModel>(*std::move(transform), task, std::move(classes),
                                        std::move(booster), std::move(linear),
                                        m.value("threshold", 0.5));
}

absl::StatusOr<Json> TabularPredictor::Predict(const Json& instances, const Json&) const {
  if (!instances.is_array()) return absl::InvalidArgumentError("instances must be an array");
  const auto& t = model_->transform();
  const size_t rows = instances.size(), cols = t.num_features();
  std::vector<float> x(rows * cols);
  for (size_t r = 0; r < rows; ++r) {
    const Json& inst = instances[r];
    if (!inst.is_object()) {
      return absl::InvalidArgumentError(common::StrCat("instances[", r, "] must be an object"));
    }
    for (const auto& c : t.columns()) {
      auto it = inst.find(c.column);
      if (it != inst.end()) {
        if (auto s = CheckValue(c, *it, r); !s.ok()) return s;
      }
    }
    t.Transform(inst, x.data() + r * cols);
  }
  auto scores = model_->Score(x.data(), rows);
  if (!scores.ok()) return scores.status();
  Json out = Json::array();
  const auto& classes = model_->classes();
  for (size_t r = 0; r < rows; ++r) {
    switch (model_->task()) {
      case Task::kBinary: {
        const double p = (*scores)[r];
        const std::string neg = classes.size() == 2 ? classes[0] : "0";
        const std::string pos = classes.size() == 2 ? classes[1] : "1";
        out.push_back({{"label", p >= model_->threshold() ? pos : neg},
                       {"probability", p},
                       {"probabilities", {{neg, 1 - p}, {pos, p}}}});
        break;
      }
      case Task::kMulticlass: {
        Json probs = Json::object();
        size_t best = 0;
        for (size_t k = 0; k < classes.size(); ++k) {
          const float p = (*scores)[r * classes.size() + k];
          probs[classes[k]] = p;
          if (p > (*scores)[r * classes.size() + best]) best = k;
        }
        out.push_back({{"label", classes[best]}, {"probabilities", std::move(probs)}});
        break;
      }
      case Task::kRegression:
        out.push_back({{"value", (*scores)[r]}});
        break;
    }
  }
  return out;
}

std::vector<std::string> TabularPredictor::InputColumns() const {
  std::vector<std::string> out;
  for (const auto& c : model_->transform().columns()) out.push_back(c.column);
  return out;
}

absl::StatusOr<std::unique_ptr<Predictor>> LoadTabularPredictor(const std::string& path) {
  auto bundle = ReadBundle(path);
  if (!bundle.ok()) return bundle.status();
  auto model = TabularModel::FromBundle(*bundle);
  if (!model.ok()) return model.status();
  return std::make_unique<TabularPredictor>(*std::move(model));
}

}  // namespace tsml::train::tabular
