// JSON parsing that never throws and bounds nesting depth.
#ifndef TSML_COMMON_JSON_UTIL_H_
#define TSML_COMMON_JSON_UTIL_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace tsml {
using Json = nlohmann::json;
}  // namespace tsml

namespace tsml::common {

inline constexpr int kMaxJsonDepth = 32;

// InvalidArgument for malformed JSON, invalid UTF-8, or nesting deeper than `max_depth`.
absl::StatusOr<Json> ParseJson(std::string_view text, int max_depth = kMaxJsonDepth);

// Serializes without throwing: invalid UTF-8 in strings is replaced.
std::string DumpJson(const Json& value);

// The JSON type name used in validation messages ("string", "integer", "object", ...).
std::string JsonTypeName(const Json& value);

}  // namespace tsml::common

#endif  // TSML_COMMON_JSON_UTIL_H_
