#include "train/eval/metrics.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <unordered_set>
#include <utility>

#include "absl/status/status.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace tsml::train::eval {
namespace {

using common::StrCat;

Json NumberOrNull(std::optional<double> v) {
  if (!v.has_value() || !std::isfinite(*v)) return nullptr;
  return *v;
}

absl::Status CheckSizes(size_t a, size_t b, std::string_view what) {
  if (a == 0) return absl::InvalidArgumentError(StrCat(what, ": input is empty"));
  if (a != b) {
    return absl::InvalidArgumentError(
        StrCat(what, ": length mismatch (", a, " actual values, ", b, " predictions)"));
  }
  return absl::OkStatus();
}

absl::Status CheckFinite(std::span<const double> v, std::string_view name) {
  for (size_t i = 0; i < v.size(); ++i) {
    if (!std::isfinite(v[i])) {
      return absl::InvalidArgumentError(StrCat(name, "[", i, "] is not a finite number"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckBinaryInput(std::span<const int> y, std::span<const double> p) {
  RETURN_IF_ERROR(CheckSizes(y.size(), p.size(), "binary classification"));
  for (size_t i = 0; i < y.size(); ++i) {
    if (y[i] != 0 && y[i] != 1) {
      return absl::InvalidArgumentError(StrCat("label[", i, "] is ", y[i], ", expected 0 or 1"));
    }
    if (!std::isfinite(p[i]) || p[i] < 0.0 || p[i] > 1.0) {
      return absl::InvalidArgumentError(
          StrCat("probability[", i, "] is ", p[i], ", expected a number in [0, 1]"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckThreshold(double threshold) {
  if (!std::isfinite(threshold)) return absl::InvalidArgumentError("threshold is not finite");
  return absl::OkStatus();
}

double SafeDiv(double num, double den) { return den == 0.0 ? 0.0 : num / den; }

double F1(double precision, double recall) {
  return SafeDiv(2.0 * precision * recall, precision + recall);
}

// Cumulative true/false positive counts after each group of tied scores, by decreasing score.
struct ThresholdCounts {
  std::vector<double> thresholds;
  std::vector<int64_t> tp;
  std::vector<int64_t> fp;
  int64_t positives = 0;
  int64_t negatives = 0;
};

ThresholdCounts CountByThreshold(std::span<const int> y, std::span<const double> p) {
  std::vector<size_t> order(y.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return p[a] > p[b]; });
  ThresholdCounts c;
  int64_t tp = 0, fp = 0;
  for (size_t i = 0; i < order.size(); ++i) {
    if (y[order[i]] == 1) {
      ++tp;
    } else {
      ++fp;
    }
    if (i + 1 == order.size() || p[order[i + 1]] != p[order[i]]) {
      c.thresholds.push_back(p[order[i]]);
      c.tp.push_back(tp);
      c.fp.push_back(fp);
    }
  }
  c.positives = tp;
  c.negatives = fp;
  return c;
}

// Keeps at most `max_points` entries, evenly spaced by index, always the first and the last.
Json Subsample(std::vector<Json> points, int max_points) {
  const size_t n = points.size();
  const size_t m = static_cast<size_t>(max_points);
  if (n <= m) return Json(std::move(points));
  Json out = Json::array();
  for (size_t i = 0; i < m; ++i) {
    // Rounded even spacing; strictly increasing because n > m.
    const size_t idx = (i * (n - 1) + (m - 1) / 2) / (m - 1);
    out.push_back(std::move(points[idx]));
  }
  return out;
}

absl::Status CheckMaxPoints(int max_points) {
  if (max_points < 2) return absl::InvalidArgumentError("max_points must be at least 2");
  return absl::OkStatus();
}

std::vector<std::string> LabelNames(std::span<const std::string> names, int num_classes) {
  if (!names.empty()) return {names.begin(), names.end()};
  std::vector<std::string> out;
  for (int c = 0; c < num_classes; ++c) out.push_back(StrCat(c));
  return out;
}

// Linear-interpolation quantile (type 7) of sorted values.
double Quantile(const std::vector<double>& sorted, double q) {
  const double h = q * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(h));
  if (lo + 1 >= sorted.size()) return sorted.back();
  return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[lo + 1] - sorted[lo]);
}

struct ErrorSums {
  double mae = 0;
  double rmse = 0;
  std::optional<double> mape;
};

ErrorSums BasicErrors(std::span<const double> actual, std::span<const double> predicted) {
  double abs_sum = 0, sq_sum = 0, ape_sum = 0;
  int64_t ape_n = 0;
  for (size_t i = 0; i < actual.size(); ++i) {
    const double e = actual[i] - predicted[i];
    abs_sum += std::abs(e);
    sq_sum += e * e;
    if (actual[i] != 0.0) {
      ape_sum += std::abs(e) / std::abs(actual[i]);
      ++ape_n;
    }
  }
  const double n = static_cast<double>(actual.size());
  ErrorSums out;
  out.mae = abs_sum / n;
  out.rmse = std::sqrt(sq_sum / n);
  if (ape_n > 0) out.mape = ape_sum / static_cast<double>(ape_n);
  return out;
}

}  // namespace

// ---- Binary -----------------------------------------------------------------------------

absl::StatusOr<std::optional<double>> RocAuc(std::span<const int> y, std::span<const double> p) {
  RETURN_IF_ERROR(CheckBinaryInput(y, p));
  std::vector<size_t> order(y.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return p[a] < p[b]; });
  double positive_rank_sum = 0;
  int64_t positives = 0;
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j < order.size() && p[order[j]] == p[order[i]]) ++j;
    const double avg_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
    for (size_t t = i; t < j; ++t) {
      if (y[order[t]] == 1) {
        positive_rank_sum += avg_rank;
        ++positives;
      }
    }
    i = j;
  }
  const int64_t negatives = static_cast<int64_t>(y.size()) - positives;
  if (positives == 0 || negatives == 0) return std::optional<double>();
  const double np = static_cast<double>(positives);
  const double u = positive_rank_sum - np * (np + 1.0) / 2.0;
  return std::optional<double>(u / (np * static_cast<double>(negatives)));
}

absl::StatusOr<std::optional<double>> AveragePrecision(std::span<const int> y,
                                                       std::span<const double> p) {
  RETURN_IF_ERROR(CheckBinaryInput(y, p));
  const ThresholdCounts c = CountByThreshold(y, p);
  if (c.positives == 0) return std::optional<double>();
  double ap = 0, prev_recall = 0;
  for (size_t i = 0; i < c.thresholds.size(); ++i) {
    const double recall = static_cast<double>(c.tp[i]) / static_cast<double>(c.positives);
    const double precision = static_cast<double>(c.tp[i]) / static_cast<double>(c.tp[i] + c.fp[i]);
    ap += (recall - prev_recall) * precision;
    prev_recall = recall;
  }
  return std::optional<double>(ap);
}

absl::StatusOr<Json> BinaryClassificationMetrics(std::span<const int> y, std::span<const double> p,
                                                 double threshold) {
  RETURN_IF_ERROR(CheckBinaryInput(y, p));
  RETURN_IF_ERROR(CheckThreshold(threshold));
  int64_t tp = 0, fp = 0, tn = 0, fn = 0;
  double log_loss = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    const bool predicted = p[i] >= threshold;
    if (y[i] == 1) {
      predicted ? ++tp : ++fn;
    } else {
      predicted ? ++fp : ++tn;
    }
    // Clip the probability given to the true class, so both classes get the same bound.
    const double q = y[i] == 1 ? p[i] : 1.0 - p[i];
    log_loss -= std::log(std::clamp(q, kLogLossEpsilon, 1.0 - kLogLossEpsilon));
  }
  const double n = static_cast<double>(y.size());
  const double precision = SafeDiv(static_cast<double>(tp), static_cast<double>(tp + fp));
  const double recall = SafeDiv(static_cast<double>(tp), static_cast<double>(tp + fn));
  ASSIGN_OR_RETURN(std::optional<double> auc, RocAuc(y, p));
  ASSIGN_OR_RETURN(std::optional<double> ap, AveragePrecision(y, p));
  Json out = Json::object();
  out["accuracy"] = static_cast<double>(tp + tn) / n;
  out["precision"] = precision;
  out["recall"] = recall;
  out["f1Score"] = F1(precision, recall);
  out["rocAuc"] = NumberOrNull(auc);
  out["logLoss"] = log_loss / n;
  out["averagePrecision"] = NumberOrNull(ap);
  out["threshold"] = threshold;
  return out;
}

absl::StatusOr<Json> BinaryConfusionMatrix(std::span<const int> y, std::span<const double> p,
                                           double threshold,
                                           std::span<const std::string> label_names) {
  RETURN_IF_ERROR(CheckBinaryInput(y, p));
  RETURN_IF_ERROR(CheckThreshold(threshold));
  std::vector<int> predicted(y.size());
  for (size_t i = 0; i < y.size(); ++i) predicted[i] = p[i] >= threshold ? 1 : 0;
  return ConfusionMatrix(y, predicted, 2, label_names);
}

absl::StatusOr<Json> RocCurve(std::span<const int> y, std::span<const double> p, int max_points) {
  RETURN_IF_ERROR(CheckBinaryInput(y, p));
  RETURN_IF_ERROR(CheckMaxPoints(max_points));
  const ThresholdCounts c = CountByThreshold(y, p);
  if (c.positives == 0 || c.negatives == 0) return Json::array();
  std::vector<Json> points;
  points.reserve(c.thresholds.size() + 1);
  points.push_back({{"fpr", 0.0}, {"tpr", 0.0}, {"threshold", nullptr}});
  for (size_t i = 0; i < c.thresholds.size(); ++i) {
    points.push_back({{"fpr", static_cast<double>(c.fp[i]) / static_cast<double>(c.negatives)},
                      {"tpr", static_cast<double>(c.tp[i]) / static_cast<double>(c.positives)},
                      {"threshold", c.thresholds[i]}});
  }
  return Subsample(std::move(points), max_points);
}

absl::StatusOr<Json> PrecisionRecallCurve(std::span<const int> y, std::span<const double> p,
                                          int max_points) {
  RETURN_IF_ERROR(CheckBinaryInput(y, p));
  RETURN_IF_ERROR(CheckMaxPoints(max_points));
  const ThresholdCounts c = CountByThreshold(y, p);
  if (c.positives == 0) return Json::array();
  std::vector<Json> points;
  points.reserve(c.thresholds.size() + 1);
  points.push_back({{"recall", 0.0}, {"precision", 1.0}, {"threshold", nullptr}});
  for (size_t i = 0; i < c.thresholds.size(); ++i) {
    points.push_back(
        {{"recall", static_cast<double>(c.tp[i]) / static_cast<double>(c.positives)},
         {"precision", static_cast<double>(c.tp[i]) / static_cast<double>(c.tp[i] + c.fp[i])},
         {"threshold", c.thresholds[i]}});
  }
  return Subsample(std::move(points), max_points);
}

absl::StatusOr<Json> EvaluateBinary(std::span<const int> y, std::span<const double> p,
                                    const BinaryOptions& options) {
  Json out = Json::object();
  ASSIGN_OR_RETURN(out["metrics"], BinaryClassificationMetrics(y, p, options.threshold));
  ASSIGN_OR_RETURN(out["confusionMatrix"],
                   BinaryConfusionMatrix(y, p, options.threshold, options.label_names));
  ASSIGN_OR_RETURN(out["rocCurve"], RocCurve(y, p, options.max_curve_points));
  ASSIGN_OR_RETURN(out["precisionRecallCurve"],
                   PrecisionRecallCurve(y, p, options.max_curve_points));
  return out;
}

// ---- Multiclass -------------------------------------------------------------------------

absl::StatusOr<Json> ConfusionMatrix(std::span<const int> actual, std::span<const int> predicted,
                                     int num_classes, std::span<const std::string> label_names) {
  RETURN_IF_ERROR(CheckSizes(actual.size(), predicted.size(), "confusion matrix"));
  if (num_classes < 2) return absl::InvalidArgumentError("num_classes must be at least 2");
  if (!label_names.empty() && label_names.size() != static_cast<size_t>(num_classes)) {
    return absl::InvalidArgumentError(
        StrCat("expected ", num_classes, " label names, got ", label_names.size()));
  }
  std::vector<std::vector<int64_t>> counts(num_classes, std::vector<int64_t>(num_classes, 0));
  for (size_t i = 0; i < actual.size(); ++i) {
    if (actual[i] < 0 || actual[i] >= num_classes || predicted[i] < 0 ||
        predicted[i] >= num_classes) {
      return absl::InvalidArgumentError(
          StrCat("row ", i, ": class out of range [0, ", num_classes, ")"));
    }
    ++counts[actual[i]][predicted[i]];
  }
  return Json{{"labels", LabelNames(label_names, num_classes)}, {"counts", counts}};
}

namespace {

struct MulticlassParts {
  std::vector<int> predicted;
  double log_loss = 0;
};

absl::StatusOr<MulticlassParts> PredictMulticlass(std::span<const int> y,
                                                  std::span<const double> proba, int num_classes) {
  if (y.empty()) return absl::InvalidArgumentError("multiclass classification: input is empty");
  if (num_classes < 2) return absl::InvalidArgumentError("num_classes must be at least 2");
  const size_t k = static_cast<size_t>(num_classes);
  if (proba.size() != y.size() * k) {
    return absl::InvalidArgumentError(
        StrCat("probability matrix has ", proba.size(), " values, expected ", y.size(), " x ", k));
  }
  MulticlassParts out;
  out.predicted.resize(y.size());
  for (size_t i = 0; i < y.size(); ++i) {
    if (y[i] < 0 || y[i] >= num_classes) {
      return absl::InvalidArgumentError(
          StrCat("label[", i, "] is ", y[i], ", expected a class in [0, ", num_classes, ")"));
    }
    const std::span<const double> row = proba.subspan(i * k, k);
    size_t best = 0;
    for (size_t c = 0; c < k; ++c) {
      if (!std::isfinite(row[c]) || row[c] < 0.0 || row[c] > 1.0) {
        return absl::InvalidArgumentError(
            StrCat("probability[", i, "][", c, "] is ", row[c], ", expected a number in [0, 1]"));
      }
      if (row[c] > row[best]) best = c;
    }
    out.predicted[i] = static_cast<int>(best);
    out.log_loss -= std::log(std::clamp(row[y[i]], kLogLossEpsilon, 1.0 - kLogLossEpsilon));
  }
  out.log_loss /= static_cast<double>(y.size());
  return out;
}

struct ClassScores {
  double precision = 0, recall = 0, f1 = 0;
  int64_t support = 0;    // actual rows of the class
  int64_t predicted = 0;  // rows predicted as the class
};

std::vector<ClassScores> PerClassScores(std::span<const int> y, std::span<const int> predicted,
                                        int num_classes) {
  std::vector<int64_t> tp(num_classes, 0);
  std::vector<ClassScores> s(num_classes);
  for (size_t i = 0; i < y.size(); ++i) {
    ++s[y[i]].support;
    ++s[predicted[i]].predicted;
    if (y[i] == predicted[i]) ++tp[y[i]];
  }
  for (int c = 0; c < num_classes; ++c) {
    s[c].precision = SafeDiv(static_cast<double>(tp[c]), static_cast<double>(s[c].predicted));
    s[c].recall = SafeDiv(static_cast<double>(tp[c]), static_cast<double>(s[c].support));
    s[c].f1 = F1(s[c].precision, s[c].recall);
  }
  return s;
}

Json MulticlassMetricsJson(std::span<const int> y, const MulticlassParts& parts,
                           const std::vector<ClassScores>& scores) {
  int64_t correct = 0;
  for (size_t i = 0; i < y.size(); ++i) correct += y[i] == parts.predicted[i] ? 1 : 0;
  double precision = 0, recall = 0, f1 = 0;
  int present = 0;
  for (const ClassScores& s : scores) {
    if (s.support == 0 && s.predicted == 0) continue;
    precision += s.precision;
    recall += s.recall;
    f1 += s.f1;
    ++present;
  }
  // `present` >= 1 because y is non-empty.
  Json out = Json::object();
  out["accuracy"] = static_cast<double>(correct) / static_cast<double>(y.size());
  out["precision"] = precision / present;
  out["recall"] = recall / present;
  out["f1Score"] = f1 / present;
  out["logLoss"] = parts.log_loss;
  return out;
}

}  // namespace

absl::StatusOr<Json> MulticlassClassificationMetrics(std::span<const int> y,
                                                     std::span<const double> proba,
                                                     int num_classes) {
  ASSIGN_OR_RETURN(MulticlassParts parts, PredictMulticlass(y, proba, num_classes));
  return MulticlassMetricsJson(y, parts, PerClassScores(y, parts.predicted, num_classes));
}

absl::StatusOr<Json> EvaluateMulticlass(std::span<const int> y, std::span<const double> proba,
                                        int num_classes, std::span<const std::string> label_names) {
  ASSIGN_OR_RETURN(MulticlassParts parts, PredictMulticlass(y, proba, num_classes));
  const std::vector<ClassScores> scores = PerClassScores(y, parts.predicted, num_classes);
  Json out = Json::object();
  out["metrics"] = MulticlassMetricsJson(y, parts, scores);
  ASSIGN_OR_RETURN(out["confusionMatrix"],
                   ConfusionMatrix(y, parts.predicted, num_classes, label_names));
  const std::vector<std::string> names = LabelNames(label_names, num_classes);
  Json per_class = Json::array();
  for (int c = 0; c < num_classes; ++c) {
    per_class.push_back({{"label", names[c]},
                         {"precision", scores[c].precision},
                         {"recall", scores[c].recall},
                         {"f1Score", scores[c].f1},
                         {"support", scores[c].support}});
  }
  out["perClass"] = std::move(per_class);
  return out;
}

// ---- Regression ---------------------------------------------------------------------------

absl::StatusOr<Json> RegressionMetrics(std::span<const double> actual,
                                       std::span<const double> predicted) {
  RETURN_IF_ERROR(CheckSizes(actual.size(), predicted.size(), "regression"));
  RETURN_IF_ERROR(CheckFinite(actual, "actual"));
  RETURN_IF_ERROR(CheckFinite(predicted, "predicted"));
  const ErrorSums e = BasicErrors(actual, predicted);
  const double n = static_cast<double>(actual.size());
  const double mean = std::accumulate(actual.begin(), actual.end(), 0.0) / n;
  double ss_res = 0, ss_tot = 0;
  for (size_t i = 0; i < actual.size(); ++i) {
    ss_res += (actual[i] - predicted[i]) * (actual[i] - predicted[i]);
    ss_tot += (actual[i] - mean) * (actual[i] - mean);
  }
  Json out = Json::object();
  out["rmse"] = e.rmse;
  out["mae"] = e.mae;
  out["r2"] = ss_tot > 0 ? Json(1.0 - ss_res / ss_tot) : Json(nullptr);
  out["mape"] = NumberOrNull(e.mape);
  return out;
}

absl::StatusOr<Json> ResidualQuantiles(std::span<const double> actual,
                                       std::span<const double> predicted) {
  RETURN_IF_ERROR(CheckSizes(actual.size(), predicted.size(), "residual quantiles"));
  RETURN_IF_ERROR(CheckFinite(actual, "actual"));
  RETURN_IF_ERROR(CheckFinite(predicted, "predicted"));
  std::vector<double> r(actual.size());
  for (size_t i = 0; i < actual.size(); ++i) r[i] = actual[i] - predicted[i];
  std::sort(r.begin(), r.end());
  return Json{{"p5", Quantile(r, 0.05)},
              {"p25", Quantile(r, 0.25)},
              {"p50", Quantile(r, 0.50)},
              {"p75", Quantile(r, 0.75)},
              {"p95", Quantile(r, 0.95)}};
}

// ---- Forecasting --------------------------------------------------------------------------

absl::StatusOr<Json> ForecastMetrics(std::span<const double> actual,
                                     std::span<const double> forecast,
                                     std::span<const double> train, int season_length) {
  RETURN_IF_ERROR(CheckSizes(actual.size(), forecast.size(), "forecasting"));
  RETURN_IF_ERROR(CheckFinite(actual, "actual"));
  RETURN_IF_ERROR(CheckFinite(forecast, "forecast"));
  RETURN_IF_ERROR(CheckFinite(train, "train"));
  const ErrorSums e = BasicErrors(actual, forecast);
  double smape = 0;
  for (size_t i = 0; i < actual.size(); ++i) {
    const double den = std::abs(actual[i]) + std::abs(forecast[i]);
    if (den > 0) smape += 2.0 * std::abs(actual[i] - forecast[i]) / den;
  }
  smape /= static_cast<double>(actual.size());

  std::optional<double> mase;
  size_t lag = season_length > 1 ? static_cast<size_t>(season_length) : 1;
  if (train.size() <= lag) lag = 1;
  if (train.size() > lag) {
    double scale = 0;
    for (size_t t = lag; t < train.size(); ++t) scale += std::abs(train[t] - train[t - lag]);
    scale /= static_cast<double>(train.size() - lag);
    if (scale > 0) mase = e.mae / scale;
  }
  Json out = Json::object();
  out["mape"] = NumberOrNull(e.mape);
  out["smape"] = smape;
  out["mae"] = e.mae;
  out["rmse"] = e.rmse;
  out["mase"] = NumberOrNull(mase);
  return out;
}

// ---- Ranking ------------------------------------------------------------------------------

absl::StatusOr<Json> RankingMetrics(const std::vector<std::vector<int64_t>>& recommended,
                                    const std::vector<std::vector<int64_t>>& relevant, int k,
                                    int64_t catalog_size) {
  if (recommended.empty()) return absl::InvalidArgumentError("ranking: no users");
  if (recommended.size() != relevant.size()) {
    return absl::InvalidArgumentError(StrCat("ranking: ", recommended.size(),
                                             " recommendation lists but ", relevant.size(),
                                             " held-out sets"));
  }
  if (k <= 0) return absl::InvalidArgumentError("ranking: k must be positive");
  if (catalog_size <= 0)
    return absl::InvalidArgumentError("ranking: catalog size must be positive");

  // Gain of a hit at 1-based `rank` (computed, not tabulated: k may exceed every list).
  auto discount = [](int rank) { return 1.0 / std::log2(static_cast<double>(rank) + 1.0); };

  std::unordered_set<int64_t> distinct_recommended;
  double precision_sum = 0, recall_sum = 0, ndcg_sum = 0, map_sum = 0;
  int64_t users = 0;
  for (size_t u = 0; u < recommended.size(); ++u) {
    const std::unordered_set<int64_t> truth(relevant[u].begin(), relevant[u].end());
    std::unordered_set<int64_t> seen;
    int hits = 0, rank = 0;
    double dcg = 0, ap = 0;
    for (int64_t item : recommended[u]) {
      if (rank == k) break;
      ++rank;
      distinct_recommended.insert(item);
      if (!seen.insert(item).second) continue;  // a repeated item earns nothing
      if (truth.count(item) > 0) {
        ++hits;
        dcg += discount(rank);
        ap += static_cast<double>(hits) / static_cast<double>(rank);
      }
    }
    if (truth.empty()) continue;
    const int ideal_hits = static_cast<int>(std::min<size_t>(truth.size(), static_cast<size_t>(k)));
    double idcg = 0;
    for (int r = 1; r <= ideal_hits; ++r) idcg += discount(r);
    precision_sum += static_cast<double>(hits) / k;
    recall_sum += static_cast<double>(hits) / static_cast<double>(truth.size());
    ndcg_sum += dcg / idcg;
    map_sum += ap / ideal_hits;
    ++users;
  }
  if (users == 0) return absl::InvalidArgumentError("ranking: no user has held-out items");
  const double n = static_cast<double>(users);
  Json out = Json::object();
  out["precisionAtK"] = precision_sum / n;
  out["recallAtK"] = recall_sum / n;
  out["ndcgAtK"] = ndcg_sum / n;
  out["mapAtK"] = map_sum / n;
  out["coverage"] = std::min(
      1.0, static_cast<double>(distinct_recommended.size()) / static_cast<double>(catalog_size));
  out["k"] = k;
  return out;
}

// ---- Error analysis -----------------------------------------------------------------------

absl::StatusOr<Json> WorstSegments(std::string_view column, std::span<const std::string> values,
                                   std::span<const double> errors, const SegmentOptions& options) {
  RETURN_IF_ERROR(CheckSizes(values.size(), errors.size(), "segment analysis"));
  RETURN_IF_ERROR(CheckFinite(errors, "error"));
  if (options.max_segments < 0) return absl::InvalidArgumentError("max_segments is negative");
  struct Acc {
    double sum = 0;
    int64_t size = 0;
  };
  std::map<std::string, Acc, std::less<>> groups;
  double total = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    Acc& a = groups[values[i]];
    a.sum += errors[i];
    ++a.size;
    total += errors[i];
  }
  struct Segment {
    const std::string* value;
    double error;
    int64_t size;
  };
  std::vector<Segment> segments;
  for (const auto& [value, acc] : groups) {
    if (acc.size < options.min_support) continue;
    segments.push_back({&value, acc.sum / static_cast<double>(acc.size), acc.size});
  }
  std::sort(segments.begin(), segments.end(), [](const Segment& a, const Segment& b) {
    if (a.error != b.error) return a.error > b.error;
    if (a.size != b.size) return a.size > b.size;
    return *a.value < *b.value;
  });
  if (segments.size() > static_cast<size_t>(options.max_segments)) {
    segments.resize(options.max_segments);
  }
  Json list = Json::array();
  for (const Segment& s : segments) {
    list.push_back({{"value", *s.value}, {"error", s.error}, {"size", s.size}});
  }
  return Json{{"column", std::string(column)},
              {"overallError", total / static_cast<double>(values.size())},
              {"segments", std::move(list)}};
}

// ---- Cross-validation ---------------------------------------------------------------------

absl::StatusOr<Json> SummarizeFolds(const std::vector<Json>& fold_metrics) {
  if (fold_metrics.empty()) return absl::InvalidArgumentError("no folds to summarize");
  std::map<std::string, std::vector<double>> values;  // ordered: deterministic output
  for (size_t f = 0; f < fold_metrics.size(); ++f) {
    const Json& fold = fold_metrics[f];
    if (!fold.is_object()) {
      return absl::InvalidArgumentError(StrCat("fold ", f, ": metrics must be an object"));
    }
    for (const auto& [key, v] : fold.items()) {
      if (v.is_number()) {
        const double d = v.get<double>();
        if (std::isfinite(d)) values[key].push_back(d);
      } else if (v.is_null()) {
        values.try_emplace(key);
      }
    }
  }
  Json mean = Json::object(), stddev = Json::object();
  for (const auto& [key, v] : values) {
    if (v.empty()) {
      mean[key] = nullptr;
      stddev[key] = nullptr;
      continue;
    }
    const double m = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
    mean[key] = m;
    if (v.size() < 2) {
      stddev[key] = nullptr;
      continue;
    }
    double ss = 0;
    for (double x : v) ss += (x - m) * (x - m);
    stddev[key] = std::sqrt(ss / static_cast<double>(v.size() - 1));
  }
  return Json{{"mean", std::move(mean)}, {"std", std::move(stddev)}};
}

}  // namespace tsml::train::eval
