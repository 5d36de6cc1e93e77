// Request counters and latency histograms for the Prometheus exposition at /metrics.
#ifndef TSML_MONITOR_HTTP_METRICS_H_
#define TSML_MONITOR_HTTP_METRICS_H_

#include <array>
#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

namespace tsml::monitor {

// Thread-safe. Routes are the router's patterns (bounded cardinality), never raw paths.
class HttpMetrics {
 public:
  static constexpr std::array<double, 12> kBucketsSeconds = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};

  void Record(const std::string& route, const std::string& method, int status,
              double seconds);

  // Prometheus text: tsml_http_requests_total{route,method,status} and
  // tsml_http_request_duration_seconds{route} histograms.
  std::string Render() const;

 private:
  struct Histogram {
    std::array<uint64_t, kBucketsSeconds.size()> buckets{};
    uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, uint64_t> requests_;
  std::map<std::string, Histogram> latency_;
};

// Escapes a Prometheus label value.
std::string PromLabel(const std::string& value);

}  // namespace tsml::monitor

#endif  // TSML_MONITOR_HTTP_METRICS_H_
