// Input and prediction drift: the distribution of each input column and of the model's
// scores at serving time, compared with training by the population stability index (PSI).
//   PSI = Σ (a_i − e_i) · ln(a_i / e_i) over bins (missing values are a bin of their own);
//   < 0.1 stable, 0.1–0.2 moderate, > 0.2 significant shift.
#ifndef TSML_MONITOR_DRIFT_H_
#define TSML_MONITOR_DRIFT_H_

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "common/json_util.h"

namespace tsml::monitor {

struct DriftColumn {
  std::string name;
  bool numeric = true;
  std::vector<double> edges;        // numeric: inner bin edges (bins = edges + 1)
  std::vector<std::string> levels;  // categorical: known levels (plus one "other" bin)
  std::vector<double> expected;     // training share per bin, then the missing bin
  size_t bins() const { return expected.size(); }
  // Bin of a raw JSON value (the last bin is "missing").
  size_t BinOf(const Json& value) const;
};

struct DriftReference {
  std::vector<DriftColumn> columns;
  DriftColumn score;  // numeric, over the model's score (probability or value)
  Json ToJson() const;
  static DriftReference FromJson(const Json& j);
  bool empty() const { return columns.empty() && score.expected.empty(); }
};

// Builds a numeric column's reference from training values (NaN = missing): decile edges.
DriftColumn NumericReference(const std::string& name, const std::vector<double>& values);
// A categorical column's reference from per-row level indexes (-1 = other, -2 = missing).
DriftColumn CategoricalReference(const std::string& name, const std::vector<std::string>& levels,
                                 const std::vector<int>& level_index);

double Psi(const std::vector<double>& expected, const std::vector<uint64_t>& actual);

// Counts serving-time values; thread-safe, lock-free on the hot path.
class DriftTracker {
 public:
  explicit DriftTracker(DriftReference reference);
  // `weight`: how many rows this one stands for (when a batch is sampled).
  void Observe(const Json& instance, uint64_t weight = 1);
  void ObserveScore(double score, uint64_t weight = 1);
  uint64_t rows() const { return rows_.load(std::memory_order_relaxed); }
  // {"rows", "features": [{column, psi, status}], "prediction": {psi, status}, "maxPsi"}.
  Json Report() const;
  double MaxPsi() const;

 private:
  DriftReference ref_;
  std::vector<std::unique_ptr<std::atomic<uint64_t>[]>> counts_;
  std::unique_ptr<std::atomic<uint64_t>[]> score_counts_;
  std::atomic<uint64_t> rows_{0};
};

}  // namespace tsml::monitor

#endif  // TSML_MONITOR_DRIFT_H_
