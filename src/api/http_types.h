// Transport-neutral request/response, so that only http_server.cc sees Boost.Beast.
#ifndef TSML_API_HTTP_TYPES_H_
#define TSML_API_HTTP_TYPES_H_

#include <string>
#include <utility>
#include <vector>

namespace tsml::api {

struct HttpRequest {
  std::string method;        // "GET", "POST", ... as sent
  std::string target;        // raw request target: path and query
  std::string path;          // target before '?', percent-decoded
  std::string query;         // raw text after '?', not decoded
  std::vector<std::pair<std::string, std::string>> headers;  // names lowercased
  std::string body;
  std::string remote_address;
  std::string request_id;    // set by the server: incoming X-Request-Id if sane, else generated

  // Value of the first header named `lower_name`, or "" when absent.
  const std::string& Header(const std::string& lower_name) const;
  bool HasHeader(const std::string& lower_name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  std::string body;
};

}  // namespace tsml::api

#endif  // TSML_API_HTTP_TYPES_H_
