#include "train/xgb/booster.h"

#include <xgboost/c_api.h>

#include <cmath>
#include <cstdlib>

#include "common/strings.h"

namespace tsml::train::xgb {
namespace {

absl::Status Check(int rc, std::string_view what) {
  if (rc == 0) return absl::OkStatus();
  return absl::InternalError(common::StrCat("xgboost ", what, ": ", XGBGetLastError()));
}

// Parses "[3]\tvalid-logloss:0.51234" → 0.51234 and the metric name.
double ParseEval(const char* text, std::string* metric) {
  std::string_view s(text ? text : "");
  const auto dash = s.find('-');
  const auto colon = s.rfind(':');
  if (dash == std::string_view::npos || colon == std::string_view::npos || colon < dash) {
    return NAN;
  }
  *metric = std::string(s.substr(dash + 1, colon - dash - 1));
  return std::strtod(std::string(s.substr(colon + 1)).c_str(), nullptr);
}

// Metrics where larger is better.
bool Maximize(const std::string& metric) {
  return metric == "auc" || metric == "aucpr" || metric == "map" ||
         common::StartsWith(metric, "ndcg");
}

}  // namespace

Matrix& Matrix::operator=(Matrix&& other) noexcept {
  if (this != &other) {
    if (handle_) XGDMatrixFree(handle_);
    handle_ = other.handle_;
    rows_ = other.rows_;
    other.handle_ = nullptr;
  }
  return *this;
}

Matrix::~Matrix() {
  if (handle_) XGDMatrixFree(handle_);
}

absl::StatusOr<Matrix> Matrix::FromDense(const float* data, size_t rows, size_t cols,
                                         int threads) {
  DMatrixHandle h = nullptr;
  if (auto s = Check(XGDMatrixCreateFromMat_omp(data, rows, cols, NAN, &h, std::max(1, threads)),
                     "creating a matrix");
      !s.ok()) {
    return s;
  }
  return Matrix(h, rows);
}

absl::Status Matrix::SetLabels(const std::vector<float>& labels) {
  return Check(XGDMatrixSetFloatInfo(handle_, "label", labels.data(), labels.size()),
               "setting labels");
}

absl::Status Matrix::SetWeights(const std::vector<float>& weights) {
  return Check(XGDMatrixSetFloatInfo(handle_, "weight", weights.data(), weights.size()),
               "setting weights");
}

absl::Status Matrix::SetBaseMargin(const std::vector<float>& margin) {
  return Check(XGDMatrixSetFloatInfo(handle_, "base_margin", margin.data(), margin.size()),
               "setting base margins");
}

Booster& Booster::operator=(Booster&& other) noexcept {
  if (this != &other) {
    if (handle_) XGBoosterFree(handle_);
    handle_ = other.handle_;
    other.handle_ = nullptr;
  }
  return *this;
}

Booster::~Booster() {
  if (handle_) XGBoosterFree(handle_);
}

absl::StatusOr<Booster> Booster::RunRounds(void* h, int start_round, const Matrix& train,
                                           const Matrix* valid, const TrainOptions& options,
                                           TrainReport* report) {
  TrainReport local;
  TrainReport& r = report ? *report : local;
  r = TrainReport();
  DMatrixHandle eval_mats[1] = {valid ? valid->handle() : nullptr};
  const char* eval_names[1] = {"valid"};
  int since_best = 0;
  for (int i = 0; i < options.num_rounds; ++i) {
    if (options.cancel && options.cancel->cancelled()) {
      r.cancelled = true;
      XGBoosterFree(h);
      return absl::CancelledError("training was cancelled");
    }
    const int iter = start_round + i;
    if (auto s = Check(XGBoosterUpdateOneIter(h, iter, train.handle()), "training a round");
        !s.ok()) {
      XGBoosterFree(h);
      return s;
    }
    r.rounds_run = i + 1;
    double score = NAN;
    if (valid) {
      const char* out = nullptr;
      if (auto s = Check(XGBoosterEvalOneIter(h, iter, eval_mats, eval_names, 1, &out),
                         "evaluating a round");
          !s.ok()) {
        XGBoosterFree(h);
        return s;
      }
      score = ParseEval(out, &r.metric);
      const bool better = r.best_round < 0 || (Maximize(r.metric) ? score > r.best_score
                                                                  : score < r.best_score);
      if (better) {
        r.best_round = i;
        r.best_score = score;
        since_best = 0;
      } else if (options.early_stopping_rounds > 0 &&
                 ++since_best >= options.early_stopping_rounds) {
        if (options.on_round) options.on_round(i, options.num_rounds, score);
        break;
      }
    }
    if (options.on_round) options.on_round(i, options.num_rounds, score);
  }
  // Keep the rounds up to the best validation score.
  if (valid && r.best_round >= 0 && r.best_round + 1 < r.rounds_run) {
    BoosterHandle sliced = nullptr;
    if (auto s = Check(XGBoosterSlice(h, 0, start_round + r.best_round + 1, 1, &sliced),
                       "keeping the best round");
        !s.ok()) {
      XGBoosterFree(h);
      return s;
    }
    XGBoosterFree(h);
    h = sliced;
  }
  return Booster(h);
}

absl::StatusOr<Booster> Booster::Train(const Matrix& train, const Matrix* valid,
                                       const TrainOptions& options, TrainReport* report) {
  DMatrixHandle cache[2] = {train.handle(), valid ? valid->handle() : nullptr};
  BoosterHandle h = nullptr;
  if (auto s = Check(XGBoosterCreate(cache, valid ? 2 : 1, &h), "creating a booster"); !s.ok()) {
    return s;
  }
  for (const auto& [k, v] : options.params) {
    if (auto s = Check(XGBoosterSetParam(h, k.c_str(), v.c_str()), "setting " + k); !s.ok()) {
      XGBoosterFree(h);
      return absl::InvalidArgumentError(s.message());
    }
  }
  return RunRounds(h, 0, train, valid, options, report);
}

absl::StatusOr<Booster> Booster::Continue(const Booster& base, const Matrix& train,
                                          const Matrix* valid, const TrainOptions& options,
                                          TrainReport* report) {
  auto json = base.SaveJson();
  if (!json.ok()) return json.status();
  DMatrixHandle cache[2] = {train.handle(), valid ? valid->handle() : nullptr};
  BoosterHandle h = nullptr;
  if (auto s = Check(XGBoosterCreate(cache, valid ? 2 : 1, &h), "creating a booster"); !s.ok()) {
    return s;
  }
  if (auto s = Check(XGBoosterLoadModelFromBuffer(h, json->data(), json->size()),
                     "loading the base model");
      !s.ok()) {
    XGBoosterFree(h);
    return s;
  }
  for (const auto& [k, v] : options.params) {
    if (auto s = Check(XGBoosterSetParam(h, k.c_str(), v.c_str()), "setting " + k); !s.ok()) {
      XGBoosterFree(h);
      return absl::InvalidArgumentError(s.message());
    }
  }
  int start = 0;
  XGBoosterBoostedRounds(h, &start);
  return RunRounds(h, start, train, valid, options, report);
}

absl::StatusOr<Booster> Booster::LoadJson(const std::string& model_json) {
  BoosterHandle h = nullptr;
  if (auto s = Check(XGBoosterCreate(nullptr, 0, &h), "creating a booster"); !s.ok()) return s;
  if (auto s = Check(XGBoosterLoadModelFromBuffer(h, model_json.data(), model_json.size()),
                     "loading a model");
      !s.ok()) {
    XGBoosterFree(h);
    return s;
  }
  return Booster(h);
}

absl::StatusOr<std::string> Booster::SaveJson() const {
  bst_ulong len = 0;
  const char* out = nullptr;
  if (auto s = Check(XGBoosterSaveModelToBuffer(handle_, R"({"format": "json"})", &len, &out),
                     "saving the model");
      !s.ok()) {
    return s;
  }
  return std::string(out, len);
}

absl::StatusOr<std::vector<float>> Booster::Predict(const float* data, size_t rows, size_t cols,
                                                    bool margin) const {
  // In-place prediction over the caller's array: no DMatrix is built (the serving hot path).
  const std::string array = common::StrCat(
      R"({"data": [)", reinterpret_cast<uintptr_t>(data), R"(, true], "shape": [)", rows, ", ",
      cols, R"(], "typestr": "<f4", "version": 3})");
  const std::string config = common::StrCat(
      R"({"type": )", margin ? 1 : 0,
      R"(, "training": false, "iteration_begin": 0, "iteration_end": 0, "strict_shape": false, "cache_id": 0, "missing": NaN})");
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* result = nullptr;
  if (auto s = Check(XGBoosterPredictFromDense(handle_, array.c_str(), config.c_str(), nullptr,
                                               &shape, &dim, &result),
                     "predicting");
      !s.ok()) {
    return s;
  }
  size_t n = 1;
  for (bst_ulong i = 0; i < dim; ++i) n *= shape[i];
  return std::vector<float>(result, result + n);
}

absl::StatusOr<std::vector<float>> Booster::Contributions(const Matrix& m) const {
  const char* config =
      R"({"type": 3, "training": false, "iteration_begin": 0, "iteration_end": 0, "strict_shape": false})";
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* result = nullptr;
  if (auto s = Check(XGBoosterPredictFromDMatrix(handle_, m.handle(), config, &shape, &dim,
                                                 &result),
                     "computing contributions");
      !s.ok()) {
    return s;
  }
  size_t n = 1;
  for (bst_ulong i = 0; i < dim; ++i) n *= shape[i];
  return std::vector<float>(result, result + n);
}

absl::StatusOr<std::map<int, double>> Booster::Importance(const std::string& type) const {
  const std::string config = common::StrCat(R"({"importance_type": ")", type, R"("})");
  bst_ulong n_features = 0, dim = 0;
  const char** features = nullptr;
  const bst_ulong* shape = nullptr;
  const float* scores = nullptr;
  if (auto s = Check(XGBoosterFeatureScore(handle_, config.c_str(), &n_features, &features, &dim,
                                           &shape, &scores),
                     "computing importance");
      !s.ok()) {
    return s;
  }
  std::map<int, double> out;
  // Features are named "f<index>" when the matrix had no names. Multiclass gain has one
  // score per class; sum them.
  size_t per_feature = 1;
  if (dim == 2) per_feature = shape[1];
  for (bst_ulong i = 0; i < n_features; ++i) {
    std::string_view name(features[i]);
    if (name.empty() || name[0] != 'f') continue;
    const int index = std::atoi(std::string(name.substr(1)).c_str());
    double total = 0;
    for (size_t j = 0; j < per_feature; ++j) total += scores[i * per_feature + j];
    out[index] += total;
  }
  return out;
}

absl::Status Booster::SetParam(const std::string& key, const std::string& value) {
  return Check(XGBoosterSetParam(handle_, key.c_str(), value.c_str()), "setting " + key);
}

absl::StatusOr<int> Booster::Rounds() const {
  int rounds = 0;
  if (auto s = Check(XGBoosterBoostedRounds(handle_, &rounds), "counting rounds"); !s.ok()) {
    return s;
  }
  return rounds;
}

std::string Version() {
  int major = 0, minor = 0, patch = 0;
  XGBoostVersion(&major, &minor, &patch);
  return common::StrCat(major, ".", minor, ".", patch);
}

}  // namespace tsml::train::xgb
