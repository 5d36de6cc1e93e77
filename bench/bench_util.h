// Shared helpers for the benchmark programs: percentiles and bench/results.json.
#ifndef TSML_BENCH_BENCH_UTIL_H_
#define TSML_BENCH_BENCH_UTIL_H_

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/file_util.h"
#include "common/json_util.h"

namespace tsml::bench {

// Percentile `p` (0..100) of `values` (copied and sorted), nearest-rank.
inline double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * values.size()));
  return values[std::min(values.size() - 1, rank == 0 ? 0 : rank - 1)];
}

inline Json LatencySummary(const std::vector<double>& ms) {
  double sum = 0;
  for (double v : ms) sum += v;
  return {{"count", ms.size()},
          {"p50Ms", Percentile(ms, 50)},
          {"p95Ms", Percentile(ms, 95)},
          {"p99Ms", Percentile(ms, 99)},
          {"meanMs", ms.empty() ? 0 : sum / ms.size()},
          {"maxMs", ms.empty() ? 0 : *std::max_element(ms.begin(), ms.end())}};
}

// Sets results[section] = value in `path` (created when missing), with the core count.
inline void MergeResult(const std::string& path, const std::string& section, Json value) {
  Json results = Json::object();
  if (auto text = common::ReadFile(path); text.ok()) {
    if (auto parsed = common::ParseJson(*text, 64); parsed.ok() && parsed->is_object()) {
      results = *parsed;
    }
  }
  results["machine"] = {{"cores", std::thread::hardware_concurrency()}};
  value["cores"] = std::thread::hardware_concurrency();
  results[section] = std::move(value);
  (void)common::WriteFileAtomic(path, results.dump(2) + "\n");
}

}  // namespace tsml::bench

#endif  // TSML_BENCH_BENCH_UTIL_H_
