// Per-deployment request statistics kept in memory: a ring of per-minute slots updated with
// atomics on the hot path (no locks, no allocation), read by health metrics, monitoring
// queries and the minute flush.
#ifndef TSML_SERVE_STATS_H_
#define TSML_SERVE_STATS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

#include "common/clock.h"
#include "common/json_util.h"

namespace tsml::serve {

// Latency buckets: upper bounds in microseconds, roughly ×1.5 apart from 25 µs to 30 s.
inline constexpr int kLatencyBuckets = 36;
const std::array<double, kLatencyBuckets>& LatencyBoundsUs();
int LatencyBucket(double micros);

// Counts of one minute (or an aggregate of minutes).
struct MinuteCounts {
  int64_t minute = -1;  // minutes since the epoch
  uint64_t requests = 0, errors = 0, rows = 0;
  double latency_sum_us = 0;
  std::array<uint64_t, kLatencyBuckets> latency{};
  // Ground truth received for predictions: classification counts (positive = the model's
  // positive class for binary) and absolute error for regression.
  uint64_t fb_total = 0, fb_correct = 0, fb_tp = 0, fb_fp = 0, fb_fn = 0, fb_tn = 0;
  double fb_abs_error = 0;
  double cpu_percent = -1, memory_percent = -1;  // sampled at flush; -1 unknown

  void Add(const MinuteCounts& o);
  double LatencyPercentileMs(double p) const;  // 0 when no requests
  // The stored form (performance_metrics.metrics) and back.
  Json ToJson() const;
  static MinuteCounts FromJson(const Json& j, int64_t minute);
};

class DeploymentStats {
 public:
  static constexpr int kSlots = 180;  // three hours of minutes

  explicit DeploymentStats(const common::Clock* clock) : clock_(clock) {}

  void RecordRequest(double latency_us, uint64_t rows, bool error);
  void RecordFeedback(bool correct, int confusion /* 0 tp 1 fp 2 fn 3 tn, -1 none */,
                      double abs_error);

  // Minutes in [from, to] still held in memory.
  std::vector<MinuteCounts> Minutes(int64_t from_minute, int64_t to_minute) const;
  // Sum over the last `minutes` minutes including the current one.
  MinuteCounts Recent(int minutes) const;

  uint64_t total_requests() const { return total_requests_.load(std::memory_order_relaxed); }
  uint64_t total_errors() const { return total_errors_.load(std::memory_order_relaxed); }
  common::Millis last_request_at() const { return last_request_at_.load(std::memory_order_relaxed); }

 private:
  struct Slot {
    std::atomic<int64_t> minute{-1};
    std::atomic<uint64_t> requests{0}, errors{0}, rows{0};
    std::atomic<uint64_t> latency_sum_us{0};
    std::array<std::atomic<uint64_t>, kLatencyBuckets> latency{};
    std::atomic<uint64_t> fb_total{0}, fb_correct{0}, fb_tp{0}, fb_fp{0}, fb_fn{0}, fb_tn{0};
    std::atomic<uint64_t> fb_abs_error_milli{0};
  };
  Slot& SlotFor(int64_t minute);
  static MinuteCounts Read(const Slot& s);

  const common::Clock* clock_;
  std::array<Slot, kSlots> slots_;
  std::mutex reset_mu_;
  std::atomic<uint64_t> total_requests_{0}, total_errors_{0};
  std::atomic<common::Millis> last_request_at_{0};
};

// Process CPU (percent of all cores since the previous call) and memory (RSS bytes, percent
// of physical memory).
struct ProcessUsage {
  double cpu_percent = 0;
  double rss_bytes = 0;
  double memory_percent = 0;
};
ProcessUsage SampleProcessUsage();

}  // namespace tsml::serve

#endif  // TSML_SERVE_STATS_H_
