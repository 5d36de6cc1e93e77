// A small RAII wrapper over the XGBoost C API (libxgboost 1.7): dense matrices with NaN as
// missing, training round by round (progress, cancellation, early stopping), prediction,
// JSON save/load, and feature importance. Every C error becomes an absl::Status carrying
// XGBGetLastError().
#ifndef TSML_TRAIN_XGB_BOOSTER_H_
#define TSML_TRAIN_XGB_BOOSTER_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/cancellation.h"
#include "common/json_util.h"

namespace tsml::train::xgb {

// A DMatrix over a row-major float matrix (NaN = missing). Copies the data.
class Matrix {
 public:
  static absl::StatusOr<Matrix> FromDense(const float* data, size_t rows, size_t cols,
                                          int threads = 1);
  Matrix(Matrix&& other) noexcept : handle_(other.handle_), rows_(other.rows_) {
    other.handle_ = nullptr;
  }
  Matrix& operator=(Matrix&& other) noexcept;
  ~Matrix();
  absl::Status SetLabels(const std::vector<float>& labels);
  absl::Status SetWeights(const std::vector<float>& weights);
  absl::Status SetBaseMargin(const std::vector<float>& margin);
  void* handle() const { return handle_; }
  size_t rows() const { return rows_; }

 private:
  Matrix(void* handle, size_t rows) : handle_(handle), rows_(rows) {}
  void* handle_ = nullptr;
  size_t rows_ = 0;
};

struct TrainOptions {
  std::map<std::string, std::string> params;  // XGBoost parameters (objective, eta, ...)
  int num_rounds = 300;
  int early_stopping_rounds = 30;  // 0: off; needs a validation matrix
  // Called after each round with (round, num_rounds, validation metric or NaN); keep cheap.
  std::function<void(int, int, double)> on_round;
  const common::CancellationToken* cancel = nullptr;
};

struct TrainReport {
  int rounds_run = 0;
  int best_round = -1;          // 0-based; -1 when no validation
  double best_score = 0;
  std::string metric;           // the validation metric name (e.g. "logloss")
  bool cancelled = false;
};

class Booster {
 public:
  // Trains on `train`, early-stopping on `valid` when given; keeps the best iteration.
  // Cancelled status when the token fires (checked every round).
  static absl::StatusOr<Booster> Train(const Matrix& train, const Matrix* valid,
                                       const TrainOptions& options, TrainReport* report);
  // Continues boosting an existing model (warm start) for `options.num_rounds` more rounds.
  static absl::StatusOr<Booster> Continue(const Booster& base, const Matrix& train,
                                          const Matrix* valid, const TrainOptions& options,
                                          TrainReport* report);
  static absl::StatusOr<Booster> LoadJson(const std::string& model_json);

  Booster(Booster&& other) noexcept : handle_(other.handle_) { other.handle_ = nullptr; }
  Booster& operator=(Booster&& other) noexcept;
  ~Booster();

  absl::StatusOr<std::string> SaveJson() const;
  // Raw predictions: probabilities (binary: one per row; multiclass: rows×classes), values,
  // or margins when `margin` is true. Thread-safe (XGBoost's in-place predict).
  absl::StatusOr<std::vector<float>> Predict(const float* data, size_t rows, size_t cols,
                                             bool margin = false) const;
  // SHAP contributions (approximate, fast): rows × (cols + 1), last column is the bias.
  absl::StatusOr<std::vector<float>> Contributions(const Matrix& m) const;
  // Importance by `type` ("gain", "weight", "cover", "total_gain"); feature index → score.
  absl::StatusOr<std::map<int, double>> Importance(const std::string& type) const;
  absl::Status SetParam(const std::string& key, const std::string& value);
  absl::StatusOr<int> Rounds() const;
  void* handle() const { return handle_; }

 private:
  explicit Booster(void* handle) : handle_(handle) {}
  // Runs the rounds on `handle` (owned: freed on error).
  static absl::StatusOr<Booster> RunRounds(void* handle, int start_round, const Matrix& train,
                                           const Matrix* valid, const TrainOptions& options,
                                           TrainReport* report);
  void* handle_ = nullptr;
};

// "1.7.4"
std::string Version();

}  // namespace tsml::train::xgb

#endif  // TSML_TRAIN_XGB_BOOSTER_H_
