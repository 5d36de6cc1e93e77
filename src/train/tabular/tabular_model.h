// The tabular model shared by training and serving: a fitted feature transformation and
// either an XGBoost booster or a linear model (liblinear), with the task's label set.
#ifndef TSML_TRAIN_TABULAR_TABULAR_MODEL_H_
#define TSML_TRAIN_TABULAR_TABULAR_MODEL_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/json_util.h"
#include "data/frame.h"
#include "train/predictor.h"
#include "train/xgb/booster.h"

namespace tsml::train::tabular {

enum class Task { kBinary, kMulticlass, kRegression };
std::string_view TaskName(Task task);  // binary_classification, multiclass_classification, ...

// A linear model on standardized features: NaN → the training mean, then (x - mean) / scale.
// Binary/regression: one weight row; multiclass: one row per class (one-vs-rest, normalized).
struct LinearModel {
  std::vector<double> mean, scale;
  std::vector<std::vector<double>> weights;  // [rows][features]
  std::vector<double> bias;
  Json ToJson() const;
  static absl::StatusOr<LinearModel> FromJson(const Json& j, size_t features);
};

class TabularModel {
 public:
  TabularModel(data::FeatureTransform transform, Task task, std::vector<std::string> classes,
               std::optional<xgb::Booster> booster, std::optional<LinearModel> linear,
               double threshold = 0.5);

  // Scores for `rows` encoded rows (row-major, num_features wide): binary → P(positive) per
  // row; multiclass → rows × classes probabilities; regression → values.
  absl::StatusOr<std::vector<float>> Score(const float* x, size_t rows) const;

  const data::FeatureTransform& transform() const { return transform_; }
  Task task() const { return task_; }
  const std::vector<std::string>& classes() const { return classes_; }
  size_t num_outputs() const { return task_ == Task::kMulticlass ? classes_.size() : 1; }
  double threshold() const { return threshold_; }
  const xgb::Booster* booster() const { return booster_ ? &*booster_ : nullptr; }
  const LinearModel* linear() const { return linear_ ? &*linear_ : nullptr; }

  // The "model" part of the artifact bundle, and back.
  absl::StatusOr<Json> ToJson() const;
  static absl::StatusOr<std::unique_ptr<TabularModel>> FromBundle(const Json& bundle);

 private:
  data::FeatureTransform transform_;
  Task task_;
  std::vector<std::string> classes_;
  std::optional<xgb::Booster> booster_;
  std::optional<LinearModel> linear_;
  double threshold_;
};

// Serves a TabularModel: raw JSON rows in, CONTRACT §6 predictions out.
class TabularPredictor final : public Predictor {
 public:
  explicit TabularPredictor(std::unique_ptr<TabularModel> model) : model_(std::move(model)) {}
  absl::StatusOr<Json> Predict(const Json& instances, const Json& options) const override;
  std::vector<std::string> InputColumns() const override;
  const TabularModel& model() const { return *model_; }

 private:
  std::unique_ptr<TabularModel> model_;
};

absl::StatusOr<std::unique_ptr<Predictor>> LoadTabularPredictor(const std::string& path);

}  // namespace tsml::train::tabular

#endif  // TSML_TRAIN_TABULAR_TABULAR_MODEL_H_
