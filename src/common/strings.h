// String helpers over std::string_view. (Debian's abseil has its own absl::string_view, which
// does not interoperate with std::string_view, so the project uses these instead of
// absl/strings.)
#ifndef TSML_COMMON_STRINGS_H_
#define TSML_COMMON_STRINGS_H_

#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/string_view.h"
#include "fmt/format.h"

// Lets StrCat take absl::string_view (e.g. absl::Status::message()), which Debian's abseil
// does not alias to std::string_view.
template <>
struct fmt::formatter<absl::string_view> : fmt::formatter<std::string_view> {
  template <typename FormatContext>
  auto format(absl::string_view s, FormatContext& ctx) const {
    return fmt::formatter<std::string_view>::format(std::string_view(s.data(), s.size()), ctx);
  }
};

namespace tsml::common {

// Concatenates anything fmt can format ("{}").
template <typename... Args>
std::string StrCat(const Args&... args) {
  std::string out;
  (fmt::format_to(std::back_inserter(out), "{}", args), ...);
  return out;
}

template <typename... Args>
void StrAppend(std::string* out, const Args&... args) {
  (fmt::format_to(std::back_inserter(*out), "{}", args), ...);
}

template <typename Container>
std::string StrJoin(const Container& parts, std::string_view sep) {
  std::string out;
  bool first = true;
  for (const auto& p : parts) {
    if (!first) out += sep;
    first = false;
    fmt::format_to(std::back_inserter(out), "{}", p);
  }
  return out;
}

inline bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}
inline bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
std::string_view StripWhitespace(std::string_view s);
std::string ToLower(std::string_view s);
// Splits on `sep`; empty parts are dropped when `skip_empty`.
std::vector<std::string> Split(std::string_view s, char sep, bool skip_empty = true);

}  // namespace tsml::common

#endif  // TSML_COMMON_STRINGS_H_
