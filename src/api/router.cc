#include "api/router.h"

#include "common/strings.h"

namespace tsml::api {
namespace {

std::vector<std::string> Split(std::string_view path) { return common::Split(path, '/'); }

}  // namespace

int Router::Add(std::string method, std::string pattern) {
  routes_.push_back({std::move(method), pattern, Split(pattern)});
  return static_cast<int>(routes_.size()) - 1;
}

RouteMatch Router::Match(std::string_view method, std::string_view path) const {
  const std::vector<std::string> parts = Split(path);
  RouteMatch result;
  std::vector<std::string> allowed;
  for (size_t i = 0; i < routes_.size(); ++i) {
    const Route& r = routes_[i];
    if (r.segments.size() != parts.size()) continue;
    std::map<std::string, std::string> params;
    bool ok = true;
    for (size_t s = 0; s < parts.size() && ok; ++s) {
      if (!r.segments[s].empty() && r.segments[s][0] == ':') {
        params[r.segments[s].substr(1)] = parts[s];
      } else {
        ok = r.segments[s] == parts[s];
      }
    }
    if (!ok) continue;
    if (r.method == method) {
      result.kind = RouteMatch::Kind::kFound;
      result.route_index = static_cast<int>(i);
      result.params = std::move(params);
      return result;
    }
    allowed.push_back(r.method);
  }
  if (!allowed.empty()) {
    result.kind = RouteMatch::Kind::kMethodNotAllowed;
    result.allow = common::StrJoin(allowed, ", ");
  }
  return result;
}

}  // namespace tsml::api
