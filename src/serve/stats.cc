#include "serve/stats.h"

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <fstream>

namespace tsml::serve {

const std::array<double, kLatencyBuckets>& LatencyBoundsUs() {
  static const std::array<double, kLatencyBuckets> bounds = [] {
    std::array<double, kLatencyBuckets> b{};
    double v = 25;
    for (int i = 0; i < kLatencyBuckets; ++i) {
      b[i] = v;
      v *= 1.5;
    }
    return b;
  }();
  return bounds;
}

int LatencyBucket(double micros) {
  const auto& b = LatencyBoundsUs();
  for (int i = 0; i < kLatencyBuckets; ++i) {
    if (micros <= b[i]) return i;
  }
  return kLatencyBuckets - 1;
}

void MinuteCounts::Add(const MinuteCounts& o) {
  requests += o.requests;
  errors += o.errors;
  rows += o.rows;
  latency_sum_us += o.latency_sum_us;
  for (int i = 0; i < kLatencyBuckets; ++i) latency[i] += o.latency[i];
  fb_total += o.fb_total;
  fb_correct += o.fb_correct;
  fb_tp += o.fb_tp;
  fb_fp += o.fb_fp;
  fb_fn += o.fb_fn;
  fb_tn += o.fb_tn;
  fb_abs_error += o.fb_abs_error;
}

double MinuteCounts::LatencyPercentileMs(double p) const {
  uint64_t total = 0;
  for (auto c : latency) total += c;
  if (total == 0) return 0;
  const double rank = p / 100.0 * total;
  uint64_t seen = 0;
  const auto& b = LatencyBoundsUs();
  for (int i = 0; i < kLatencyBuckets; ++i) {
    if (latency[i] == 0) continue;
    if (seen + latency[i] >= rank) {
      // Interpolate inside the bucket.
      const double lo = i == 0 ? 0 : b[i - 1];
      const double frac = (rank - seen) / latency[i];
      return (lo + (b[i] - lo) * std::clamp(frac, 0.0, 1.0)) / 1000.0;
    }
    seen += latency[i];
  }
  return b.back() / 1000.0;
}

Json MinuteCounts::ToJson() const {
  Json lat = Json::array();
  int last = -1;
  for (int i = 0; i < kLatencyBuckets; ++i) {
    if (latency[i]) last = i;
  }
  for (int i = 0; i <= last; ++i) lat.push_back(latency[i]);
  Json j = {{"requests", requests},
            {"errors", errors},
            {"rows", rows},
            {"latencySumUs", latency_sum_us},
            {"latencyBuckets", lat},
            {"latency", requests ? latency_sum_us / requests / 1000.0 : 0.0},
            {"latencyP95", LatencyPercentileMs(95)},
            {"throughput", requests / 60.0},
            {"errorRate", requests ? 100.0 * errors / requests : 0.0},
            {"feedback",
             {{"total", fb_total},
              {"correct", fb_correct},
              {"tp", fb_tp},
              {"fp", fb_fp},
              {"fn", fb_fn},
              {"tn", fb_tn},
              {"absError", fb_abs_error}}}};
  if (cpu_percent >= 0) j["cpuUtilization"] = cpu_percent;
  if (memory_percent >= 0) j["memoryUtilization"] = memory_percent;
  return j;
}

MinuteCounts MinuteCounts::FromJson(const Json& j, int64_t minute) {
  MinuteCounts m;
  m.minute = minute;
  m.requests = j.value("requests", uint64_t{0});
  m.errors = j.value("errors", uint64_t{0});
  m.rows = j.value("rows", uint64_t{0});
  m.latency_sum_us = j.value("latencySumUs", 0.0);
  if (j.contains("latencyBuckets") && j["latencyBuckets"].is_array()) {
    for (size_t i = 0; i < j["latencyBuckets"].size() && i < kLatencyBuckets; ++i) {
      m.latency[i] = j["latencyBuckets"][i].get<uint64_t>();
    }
  }
  if (j.contains("feedback") && j["feedback"].is_object()) {
    const Json& f = j["feedback"];
    m.fb_total = f.value("total", uint64_t{0});
    m.fb_correct = f.value("correct", uint64_t{0});
    m.fb_tp = f.value("tp", uint64_t{0});
    m.fb_fp = f.value("fp", uint64_t{0});
    m.fb_fn = f.value("fn", uint64_t{0});
    m.fb_tn = f.value("tn", uint64_t{0});
    m.fb_abs_error = f.value("absError", 0.0);
  }
  m.cpu_percent = j.value("cpuUtilization", -1.0);
  m.memory_percent = j.value("memoryUtilization", -1.0);
  return m;
}

DeploymentStats::Slot& DeploymentStats::SlotFor(int64_t minute) {
  Slot& s = slots_[static_cast<size_t>(minute % kSlots)];
  if (s.minute.load(std::memory_order_acquire) != minute) {
    std::lock_guard<std::mutex> lock(reset_mu_);
    if (s.minute.load(std::memory_order_relaxed) != minute) {
      s.requests = 0;
      s.errors = 0;
      s.rows = 0;
      s.latency_sum_us = 0;
      for (auto& b : s.latency) b = 0;
      s.fb_total = s.fb_correct = s.fb_tp = s.fb_fp = s.fb_fn = s.fb_tn = 0;
      s.fb_abs_error_milli = 0;
      s.minute.store(minute, std::memory_order_release);
    }
  }
  return s;
}

void DeploymentStats::RecordRequest(double latency_us, uint64_t rows, bool error) {
  const common::Millis now = clock_->NowMillis();
  Slot& s = SlotFor(now / 60000);
  s.requests.fetch_add(1, std::memory_order_relaxed);
  if (error) s.errors.fetch_add(1, std::memory_order_relaxed);
  s.rows.fetch_add(rows, std::memory_order_relaxed);
  s.latency_sum_us.fetch_add(static_cast<uint64_t>(latency_us), std::memory_order_relaxed);
  s.latency[LatencyBucket(latency_us)].fetch_add(1, std::memory_order_relaxed);
  total_requests_.fetch_add(1, std::memory_order_relaxed);
  if (error) total_errors_.fetch_add(1, std::memory_order_relaxed);
  last_request_at_.store(now, std::memory_order_relaxed);
}

void DeploymentStats::RecordFeedback(bool correct, int confusion, double abs_error) {
  Slot& s = SlotFor(clock_->NowMillis() / 60000);
  s.fb_total.fetch_add(1, std::memory_order_relaxed);
  if (correct) s.fb_correct.fetch_add(1, std::memory_order_relaxed);
  if (confusion == 0) s.fb_tp.fetch_add(1, std::memory_order_relaxed);
  if (confusion == 1) s.fb_fp.fetch_add(1, std::memory_order_relaxed);
  if (confusion == 2) s.fb_fn.fetch_add(1, std::memory_order_relaxed);
  if (confusion == 3) s.fb_tn.fetch_add(1, std::memory_order_relaxed);
  s.fb_abs_error_milli.fetch_add(static_cast<uint64_t>(abs_error * 1000), std::memory_order_relaxed);
}

MinuteCounts DeploymentStats::Read(const Slot& s) {
  MinuteCounts m;
  m.minute = s.minute.load();
  m.requests = s.requests.load();
  m.errors = s.errors.load();
  m.rows = s.rows.load();
  m.latency_sum_us = static_cast<double>(s.latency_sum_us.load());
  for (int i = 0; i < kLatencyBuckets; ++i) m.latency[i] = s.latency[i].load();
  m.fb_total = s.fb_total.load();
  m.fb_correct = s.fb_correct.load();
  m.fb_tp = s.fb_tp.load();
  m.fb_fp = s.fb_fp.load();
  m.fb_fn = s.fb_fn.load();
  m.fb_tn = s.fb_tn.load();
  m.fb_abs_error = s.fb_abs_error_milli.load() / 1000.0;
  return m;
}

std::vector<MinuteCounts> DeploymentStats::Minutes(int64_t from_minute, int64_t to_minute) const {
  std::vector<MinuteCounts> out;
  for (const Slot& s : slots_) {
    const int64_t m = s.minute.load();
    if (m >= from_minute && m <= to_minute) out.push_back(Read(s));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.minute < b.minute; });
  return out;
}

MinuteCounts DeploymentStats::Recent(int minutes) const {
  const int64_t now = clock_->NowMillis() / 60000;
  MinuteCounts total;
  for (const auto& m : Minutes(now - minutes + 1, now)) total.Add(m);
  total.minute = now;
  return total;
}

ProcessUsage SampleProcessUsage() {
  static std::mutex mu;
  static double last_cpu_s = 0, last_wall_s = 0;
  std::lock_guard<std::mutex> lock(mu);
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  const double cpu_s = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
                       ru.ru_stime.tv_usec / 1e6;
  const double wall_s = std::chrono::duration<double>(
                            std::chrono::steady_clock::now().time_since_epoch())
                            .count();
  ProcessUsage u;
  const long cores = std::max(1L, sysconf(_SC_NPROCESSORS_ONLN));
  if (last_wall_s > 0 && wall_s > last_wall_s) {
    u.cpu_percent = std::clamp(100.0 * (cpu_s - last_cpu_s) / ((wall_s - last_wall_s) * cores), 0.0, 100.0);
  }
  last_cpu_s = cpu_s;
  last_wall_s = wall_s;
  std::ifstream statm("/proc/self/statm");
  long pages_total = 0, pages_rss = 0;
  statm >> pages_total >> pages_rss;
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  u.rss_bytes = pages_rss * page;
  const double phys = static_cast<double>(sysconf(_SC_PHYS_PAGES)) * page;
  u.memory_percent = phys > 0 ? 100.0 * u.rss_bytes / phys : 0;
  return u;
}

}  // namespace tsml::serve
