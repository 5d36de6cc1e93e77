#include "monitor/http_metrics.h"

#include "common/strings.h"

namespace tsml::monitor {

std::string PromLabel(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

void HttpMetrics::Record(const std::string& route, const std::string& method, int status,
                         double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{route, method, status}];
  Histogram& h = latency_[route];
  for (size_t i = 0; i < kBucketsSeconds.size(); ++i) {
    if (seconds <= kBucketsSeconds[i]) ++h.buckets[i];
  }
  ++h.count;
  h.sum += seconds;
}

std::string HttpMetrics::Render() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out =
      "# HELP tsml_http_requests_total HTTP requests by route, method and status.\n"
      "# TYPE tsml_http_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    const auto& [route, method, status] = key;
    common::StrAppend(&out, "tsml_http_requests_total{route=\"", PromLabel(route),
                    "\",method=\"", PromLabel(method), "\",status=\"", status, "\"} ", n, "\n");
  }
  out +=
      "# HELP tsml_http_request_duration_seconds HTTP request latency by route.\n"
      "# TYPE tsml_http_request_duration_seconds histogram\n";
  for (const auto& [route, h] : latency_) {
    const std::string label = PromLabel(route);
    for (size_t i = 0; i < kBucketsSeconds.size(); ++i) {
      common::StrAppend(&out, "tsml_http_request_duration_seconds_bucket{route=\"", label,
                      "\",le=\"", kBucketsSeconds[i], "\"} ", h.buckets[i], "\n");
    }
    common::StrAppend(&out, "tsml_http_request_duration_seconds_bucket{route=\"", label,
                    "\",le=\"+Inf\"} ", h.count, "\n");
    common::StrAppend(&out, "tsml_http_request_duration_seconds_sum{route=\"", label, "\"} ",
                    h.sum, "\n");
    common::StrAppend(&out, "tsml_http_request_duration_seconds_count{route=\"", label, "\"} ",
                    h.count, "\n");
  }
  return out;
}

}  // namespace tsml::monitor
