// Method + path-pattern routing ("/api/ml/training/status/:jobId").
#ifndef TSML_API_ROUTER_H_
#define TSML_API_ROUTER_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace tsml::api {

struct RouteMatch {
  enum class Kind { kFound, kNotFound, kMethodNotAllowed } kind = Kind::kNotFound;
  int route_index = -1;
  std::map<std::string, std::string> params;
  std::string allow;  // for kMethodNotAllowed: the methods the path accepts
};

class Router {
 public:
  // Returns the route's index. Patterns are '/'-separated; ":name" captures one segment.
  int Add(std::string method, std::string pattern);
  RouteMatch Match(std::string_view method, std::string_view path) const;
  const std::string& pattern(int index) const { return routes_[index].pattern; }

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
  };
  std::vector<Route> routes_;
};

}  // namespace tsml::api

#endif  // TSML_API_ROUTER_H_
