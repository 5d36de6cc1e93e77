// Evaluation metrics for every task the trainers produce, returned as JSON objects whose
// keys are exactly the CONTRACT §6 names (plus a few documented extras).
//
// Conventions shared by every function here:
//   - Pure functions: no I/O, no globals, thread-safe.
//   - Empty input, mismatched lengths, out-of-domain labels or probabilities, and any NaN or
//     infinite input value are rejected with InvalidArgument (NaN is never silently dropped).
//   - A metric that is undefined for valid input (e.g. rocAuc when one class is absent, r2
//     of a constant target, mape when every actual is zero) is JSON null.
//   - Percent-style errors (mape, smape) are fractions, not percentages: 0.05 means 5%.
#ifndef TSML_TRAIN_EVAL_METRICS_H_
#define TSML_TRAIN_EVAL_METRICS_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/json_util.h"

namespace tsml::train::eval {

inline constexpr int kMaxCurvePoints = 200;
inline constexpr double kLogLossEpsilon = 1e-15;  // probabilities clipped to [eps, 1 - eps]

// ---- Binary classification --------------------------------------------------------------
// `y` holds 0/1 labels, `p` the positive-class probability in [0, 1]; a row is predicted
// positive when p >= threshold.

// {accuracy, precision, recall, f1Score, rocAuc, logLoss, averagePrecision, threshold}.
// precision (recall) is 0 when nothing is predicted (actually) positive; rocAuc and
// averagePrecision are null when a class is absent (averagePrecision: no positives).
absl::StatusOr<Json> BinaryClassificationMetrics(std::span<const int> y, std::span<const double> p,
                                                 double threshold = 0.5);

// Area under the ROC curve via the Mann–Whitney U statistic with average ranks for ties
// (equal to the trapezoidal area); nullopt when only one class is present.
absl::StatusOr<std::optional<double>> RocAuc(std::span<const int> y, std::span<const double> p);

// {labels, counts}: counts[actual][predicted], labels default to ["0", "1"].
absl::StatusOr<Json> BinaryConfusionMatrix(std::span<const int> y, std::span<const double> p,
                                           double threshold = 0.5,
                                           std::span<const std::string> label_names = {});

// [{fpr, tpr, threshold}, ...] by increasing fpr, starting at (0, 0) with threshold null (no
// row predicted positive); one point per distinct score, evenly subsampled (first and last
// kept) to at most `max_points` (>= 2). Empty array when a class is absent.
absl::StatusOr<Json> RocCurve(std::span<const int> y, std::span<const double> p,
                              int max_points = kMaxCurvePoints);

// [{recall, precision, threshold}, ...] by increasing recall, starting at (0, 1) with
// threshold null; subsampled like RocCurve. Empty array when there are no positives.
absl::StatusOr<Json> PrecisionRecallCurve(std::span<const int> y, std::span<const double> p,
                                          int max_points = kMaxCurvePoints);

// Step-wise average precision, sum over thresholds of (R_n - R_{n-1}) * P_n (as sklearn);
// nullopt when there are no positives.
absl::StatusOr<std::optional<double>> AveragePrecision(std::span<const int> y,
                                                       std::span<const double> p);

struct BinaryOptions {
  double threshold = 0.5;
  int max_curve_points = kMaxCurvePoints;
  std::vector<std::string> label_names;  // empty: "0", "1"
};

// {metrics, confusionMatrix, rocCurve, precisionRecallCurve}.
absl::StatusOr<Json> EvaluateBinary(std::span<const int> y, std::span<const double> p,
                                    const BinaryOptions& options = {});

// ---- Multiclass classification ----------------------------------------------------------
// `y` holds labels in [0, num_classes); `proba` is the n × num_classes probability matrix in
// row-major order (XGBoost's layout). The prediction is the arg-max (lowest class on ties).

// {accuracy, precision, recall, f1Score, logLoss}: macro averages over the classes present in
// y or in the predictions; logLoss clips the true class's probability.
absl::StatusOr<Json> MulticlassClassificationMetrics(std::span<const int> y,
                                                     std::span<const double> proba,
                                                     int num_classes);

// {labels, counts}: counts[actual][predicted]; labels default to "0".."k-1".
absl::StatusOr<Json> ConfusionMatrix(std::span<const int> actual, std::span<const int> predicted,
                                     int num_classes,
                                     std::span<const std::string> label_names = {});

// {metrics, confusionMatrix, perClass: [{label, precision, recall, f1Score, support}]}.
absl::StatusOr<Json> EvaluateMulticlass(std::span<const int> y, std::span<const double> proba,
                                        int num_classes,
                                        std::span<const std::string> label_names = {});

// ---- Regression ---------------------------------------------------------------------------

// {rmse, mae, r2, mape}: r2 is null for a constant actual; mape skips zero actuals and is
// null when every actual is zero.
absl::StatusOr<Json> RegressionMetrics(std::span<const double> actual,
                                       std::span<const double> predicted);

// Quantiles of actual - predicted, linear interpolation: {p5, p25, p50, p75, p95}.
absl::StatusOr<Json> ResidualQuantiles(std::span<const double> actual,
                                       std::span<const double> predicted);

// ---- Forecasting --------------------------------------------------------------------------

// {mape, smape, mae, rmse, mase}. smape = mean of 2|a - f| / (|a| + |f|), a term being 0 when
// a = f = 0. mase = MAE / in-sample MAE of the seasonal-naive forecast on `train` with lag
// `season_length`, falling back to lag 1 when season_length <= 1 or train has no more than
// season_length values; null when that scale is 0 or train has fewer than 2 values.
absl::StatusOr<Json> ForecastMetrics(std::span<const double> actual,
                                     std::span<const double> forecast,
                                     std::span<const double> train, int season_length);

// ---- Ranking (recommendation) -------------------------------------------------------------
// recommended[u] is user u's ranked list (truncated to k; a repeated item counts once);
// relevant[u] is u's held-out item set. Users with no held-out items are skipped for the
// accuracy metrics (at least one user must have some); coverage counts every user's top k.

// {precisionAtK, recallAtK, ndcgAtK, mapAtK, coverage, k}, means over users:
//   precisionAtK = hits / k, recallAtK = hits / |relevant|,
//   ndcgAtK = DCG / ideal DCG with gain 1 / log2(rank + 1),
//   mapAtK = mean of (sum over hit ranks r of precision@r) / min(k, |relevant|),
//   coverage = distinct recommended items / catalog_size.
absl::StatusOr<Json> RankingMetrics(const std::vector<std::vector<int64_t>>& recommended,
                                    const std::vector<std::vector<int64_t>>& relevant, int k,
                                    int64_t catalog_size);

// ---- Error analysis -----------------------------------------------------------------------

struct SegmentOptions {
  int64_t min_support = 30;  // segments with fewer rows are ignored
  int max_segments = 10;
};

// Groups rows by `values` (one categorical value per row) and ranks segments by mean error:
// {column, overallError, segments: [{value, error, size}]}, worst first (ties: larger, then
// lexicographically smaller value first). `errors` is any per-row loss (|residual|, log loss,
// 0/1 misclassification).
absl::StatusOr<Json> WorstSegments(std::string_view column, std::span<const std::string> values,
                                   std::span<const double> errors,
                                   const SegmentOptions& options = {});

// ---- Cross-validation ---------------------------------------------------------------------

// Per-fold metric objects → {mean: {...}, std: {...}} over every numeric key: nulls are
// skipped, a key with no numbers is null in both, std is the sample standard deviation
// (n - 1) and null with fewer than two numbers. Non-numeric keys are ignored.
absl::StatusOr<Json> SummarizeFolds(const std::vector<Json>& fold_metrics);

}  // namespace tsml::train::eval

#endif  // TSML_TRAIN_EVAL_METRICS_H_
