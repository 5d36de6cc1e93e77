#include "service/validation.h"

#include <cmath>

#include "common/strings.h"
#include "common/time_util.h"

namespace tsml::service {

using common::JsonTypeName;

std::string OneOfMessage(const std::vector<std::string>& allowed) {
  return common::StrCat("must be one of: ", common::StrJoin(allowed, ", "));
}

bool IsOneOf(std::string_view value, const std::vector<std::string>& allowed) {
  for (const auto& a : allowed) {
    if (a == value) return true;
  }
  return false;
}

void FieldChecker::NoUnknownFields(const Json& obj, const std::string& prefix,
                                   std::initializer_list<std::string_view> allowed) {
  if (!obj.is_object()) return;
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    bool known = false;
    for (auto a : allowed) known = known || a == it.key();
    if (!known) Add(prefix + it.key(), "unknown field");
  }
}

const Json* FieldChecker::Member(const Json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

std::optional<std::string> FieldChecker::Enum(const Json* v, const std::string& path,
                                              const std::vector<std::string>& allowed,
                                              bool required) {
  if (!v) {
    if (required) Add(path, "is required");
    return std::nullopt;
  }
  if (!v->is_string() || !IsOneOf(v->get_ref<const std::string&>(), allowed)) {
    Add(path, OneOfMessage(allowed));
    return std::nullopt;
  }
  return v->get<std::string>();
}

std::optional<std::string> FieldChecker::String(const Json* v, const std::string& path,
                                                size_t min_len, size_t max_len, bool required) {
  if (!v) {
    if (required) Add(path, "is required");
    return std::nullopt;
  }
  if (!v->is_string()) {
    Add(path, common::StrCat("must be a string, not ", JsonTypeName(*v)));
    return std::nullopt;
  }
  const auto& s = v->get_ref<const std::string&>();
  // Length in characters (UTF-8 code points), not bytes.
  size_t chars = 0;
  for (unsigned char c : s) chars += (c & 0xC0) != 0x80;
  if (chars < min_len || chars > max_len) {
    Add(path, min_len > 0 ? common::StrCat("must be ", min_len, " to ", max_len, " characters")
                          : common::StrCat("must be at most ", max_len, " characters"));
    return std::nullopt;
  }
  return s;
}

std::optional<int64_t> FieldChecker::Integer(const Json* v, const std::string& path, int64_t lo,
                                             int64_t hi, bool required, std::string_view what) {
  if (!v) {
    if (required) Add(path, "is required");
    return std::nullopt;
  }
  const std::string msg = common::StrCat("must be ", what, " from ", lo, " to ", hi);
  if (v->is_number_integer()) {
    const int64_t x = v->is_number_unsigned() && v->get<uint64_t>() > INT64_MAX
                          ? INT64_MAX
                          : v->get<int64_t>();
    if (x < lo || x > hi) {
      Add(path, msg);
      return std::nullopt;
    }
    return x;
  }
  if (v->is_number_float()) {
    const double d = v->get<double>();
    if (std::isfinite(d) && d == std::floor(d) && d >= static_cast<double>(lo) &&
        d <= static_cast<double>(hi)) {
      return static_cast<int64_t>(d);
    }
  }
  Add(path, msg);
  return std::nullopt;
}

std::optional<double> FieldChecker::Number(const Json* v, const std::string& path, double lo,
                                           double hi, bool required) {
  if (!v) {
    if (required) Add(path, "is required");
    return std::nullopt;
  }
  if (!v->is_number() || !std::isfinite(v->get<double>()) || v->get<double>() < lo ||
      v->get<double>() > hi) {
    Add(path, common::StrCat("must be a number from ", lo, " to ", hi));
    return std::nullopt;
  }
  return v->get<double>();
}

std::optional<bool> FieldChecker::Boolean(const Json* v, const std::string& path) {
  if (!v) return std::nullopt;
  if (!v->is_boolean()) {
    Add(path, common::StrCat("must be a boolean, not ", JsonTypeName(*v)));
    return std::nullopt;
  }
  return v->get<bool>();
}

const Json* FieldChecker::Object(const Json* v, const std::string& path, bool required) {
  if (!v) {
    if (required) Add(path, "is required");
    return nullptr;
  }
  if (!v->is_object()) {
    Add(path, common::StrCat("must be a JSON object, not ", JsonTypeName(*v)));
    return nullptr;
  }
  return v;
}

std::optional<common::Millis> FieldChecker::Date(const Json* v, const std::string& path,
                                                 bool required) {
  if (!v) {
    if (required) Add(path, "is required");
    return std::nullopt;
  }
  std::optional<common::Millis> t;
  if (v->is_string()) t = common::ParseIso8601(v->get_ref<const std::string&>());
  if (!t) Add(path, "must be an ISO 8601 date (2026-11-26 or 2026-11-26T20:33:41Z)");
  return t;
}

std::string PercentDecode(std::string_view s, bool plus_as_space) {
  std::string out;
  out.reserve(s.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
      i += 2;
    } else if (plus_as_space && s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> ParseQueryString(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t start = 0;
  while (start <= query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    std::string_view part = query.substr(start, end - start);
    if (!part.empty()) {
      const size_t eq = part.find('=');
      std::string_view k = part.substr(0, eq);
      std::string_view v = eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1);
      out.emplace_back(PercentDecode(k, true), PercentDecode(v, true));
    }
    start = end + 1;
  }
  return out;
}

std::optional<common::Millis> ParseEndBound(std::string_view text) {
  auto t = common::ParseIso8601(text);
  if (t && text.size() == 10) *t += 86400000 - 1;
  return t;
}

}  // namespace tsml::service
