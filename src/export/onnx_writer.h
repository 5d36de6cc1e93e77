// Writes a tabular model as an ONNX graph (ai.onnx opset 15 + ai.onnx.ml opset 3, IR 8) with
// the libonnx protobuf classes and checks it with onnx::checker.
//
// Inputs: one per raw column, shape [N, 1]: float32 for numeric columns (NaN = missing),
// string for categorical ones ("" = missing; values as stored, already trimmed), and float64
// epoch milliseconds for timestamps (NaN = missing; float32 cannot hold them to the hour).
// The transformation is embedded: IsNaN for missing indicators, LabelEncoder + OneHotEncoder
// for categories (levels, __other__, __missing__; values of hashed columns seen in training
// map to their bucket), int64 calendar arithmetic for timestamps, Concat into the encoded
// features; then Imputer + Scaler + LinearClassifier/LinearRegressor (+ Normalizer L1 for
// one-vs-rest multiclass), or TreeEnsembleClassifier/Regressor for XGBoost trees (missing
// values follow XGBoost's default direction; base margin in base_values; LOGISTIC/SOFTMAX).
// Outputs: classification → "label" (string [N]) and "probabilities" (float [N, classes], in
// the order of the model's classes); regression → "value" (float [N, 1]); "tsml_" is put
// before an output name that a raw column already uses. Internal tensors are named "tsml/...".
#ifndef TSML_EXPORT_ONNX_WRITER_H_
#define TSML_EXPORT_ONNX_WRITER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/json_util.h"
#include "export/tabular_ir.h"
#include "train/text/fasttext_model.h"

namespace tsml::exporting {

// Writes `path`. `metadata` goes into the model's metadata_props (string values). `layout`
// receives {"inputs": [{name, type, shape}], "outputs": [...], "opsets": {...}}.
// Internal when the checker rejects the graph (a bug, reported with the checker's message).
absl::Status WriteTabularOnnx(const TabularIr& ir, const Json& metadata, const std::string& path,
                              Json* layout);

// An ALS recommender as plain arrays (float32 row-major factors; seen items in CSR form).
struct RecommenderArrays {
  const std::vector<std::string>* user_ids = nullptr;
  const std::vector<std::string>* item_ids = nullptr;
  int factors = 0;
  std::vector<float> user_factors, item_factors, popularity;
  std::vector<int64_t> seen_ptr;
  std::vector<int32_t> seen_index;
};

// Inputs `user_id` (string [N]) and `k` (int64 [1]); outputs `item_ids` (string [N, k]) and
// `scores` (float [N, k]), best first: LabelEncoder (unknown → a cold-start row) → Gather of
// the user factors → MatMul with the item factors; unknown users get item popularity; the
// user's training items are set to -inf (Equal against the seen list, ScatterElements); TopK.
absl::Status WriteRecommendOnnx(const RecommenderArrays& rec, const Json& metadata,
                                const std::string& path, Json* layout);

// A TF-IDF + logistic-regression sentiment model (train::text::TfidfLogReg, vocabulary mode,
// word n-grams) as plain arrays.
struct TextLinearArrays {
  std::vector<std::string> terms;  // feature i's n-gram: its tokens joined by one space
  std::vector<float> idf;          // per feature
  std::vector<std::string> labels;
  int rows = 1;                // 1 (binary: class 1 against class 0) or one per class
  std::vector<float> weights;  // rows × (features + 1), the bias last
};

// Input `tokens` (string [N, T]: tsml's tokenizer output, padded with ""); outputs `label`
// (string [N]) and `probabilities` (float [N, classes]): TfIdfVectorizer (term counts over the
// vocabulary's n-grams) → (1 + ln tf) · idf → L2 normalization → LinearClassifier (LOGISTIC;
// + Normalizer L1 for one-vs-rest multiclass).
absl::Status WriteTextOnnx(const TextLinearArrays& text, const Json& metadata,
                           const std::string& path, Json* layout);

// The one-step forecaster of demand_forecast (XGBoost over lag/rolling/calendar features):
// input `features` (float [N, F], NaN = missing), output `ratio` (float [N, 1]: the forecast
// over the series' local level) — TreeEnsembleRegressor.
absl::Status WriteForecastOnnx(const TreeEnsemble& trees,
                               const std::vector<std::string>& feature_names, const Json& metadata,
                               const std::string& path, Json* layout);

// A fastText sentiment model: input `ids` (int64 [N, L]: FeatureIds of each text, padded with
// -1); outputs `label` (string [N]) and `probabilities` (float [N, classes]): Gather of the
// input rows → masked mean → MatMul with the output rows → Softmax, then fastText's + 1e-5 and
// renormalization, columns in class order. `labels` are the class labels.
absl::Status WriteFastTextOnnx(const train::text::FastTextArrays& ft,
                               const std::vector<std::string>& labels, const Json& metadata,
                               const std::string& path, Json* layout);

// A Holt-Winters forecaster (additive damped trend, additive seasonality) as its per-series
// state. Series without a fitted model forecast 0 (as the service does): level 0, no trend,
// no season.
struct HoltWintersArrays {
  std::vector<std::string> names;                // series names as the predictor matches them
  int total = 0;                                 // the series "", null and "__total__" mean
  std::vector<double> level, slope, phi, lower;  // lower: 0 (never negative) or -inf
  std::vector<int64_t> n, season;                // season 0: none
  std::vector<std::vector<double>> seasonal;     // per series, `season` values
  int max_horizon = 1;
};

// Inputs `group` (string [N]; "" = the total) and `horizon` (int64 [1], 1..max_horizon);
// output `forecast` (float64 [N, horizon]): level + slope · Σ_{j≤k} phi^j + seasonal[(n + k - 1)
// mod season], clamped at `lower`; NaN for a group the model does not know.
absl::Status WriteHoltWintersOnnx(const HoltWintersArrays& hw, const Json& metadata,
                                  const std::string& path, Json* layout);

}  // namespace tsml::exporting

#endif  // TSML_EXPORT_ONNX_WRITER_H_
