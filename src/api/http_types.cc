#include "api/http_types.h"

namespace tsml::api {

const std::string& HttpRequest::Header(const std::string& lower_name) const {
  static const std::string kEmpty;
  for (const auto& [k, v] : headers) {
    if (k == lower_name) return v;
  }
  return kEmpty;
}

bool HttpRequest::HasHeader(const std::string& lower_name) const {
  for (const auto& [k, v] : headers) {
    if (k == lower_name) return true;
  }
  return false;
}

}  // namespace tsml::api
