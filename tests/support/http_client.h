// Small synchronous HTTP/1.1 client for tests and benchmarks (Boost.Beast underneath, kept out
// of this header). Not thread-safe: use one client per thread.
#ifndef TSML_TESTS_SUPPORT_HTTP_CLIENT_H_
#define TSML_TESTS_SUPPORT_HTTP_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace tsml::test {

class HttpClient {
 public:
  struct Response {
    int status = 0;
    std::string body;
    std::map<std::string, std::string> headers;  // names lowercased
  };

  HttpClient(std::string host, uint16_t port,
             std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends one request on the kept-alive connection, connecting (or reconnecting once, when a
  // reused connection turns out to be closed by the server) as needed. A non-empty body gets
  // `Content-Type: application/json` unless `headers` names another. Errors: Unavailable
  // (connect/IO failure), DeadlineExceeded (timeout).
  absl::StatusOr<Response> Send(std::string_view method, std::string_view target,
                                std::string_view body = "",
                                const std::vector<std::pair<std::string, std::string>>& headers = {});

  // Writes `bytes` on a fresh connection and returns everything the server sends until it
  // closes the connection. DeadlineExceeded if it is still open after `timeout`.
  absl::StatusOr<std::string> SendRaw(std::string_view bytes,
                                      std::chrono::milliseconds timeout = std::chrono::seconds(5));

  // Number of TCP connections opened by Send() so far (to check keep-alive).
  int connections_opened() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tsml::test

#endif  // TSML_TESTS_SUPPORT_HTTP_CLIENT_H_
