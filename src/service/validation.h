// Field checks shared by the request validators. Each adds a FieldError and returns false
// (or nullopt) when the value is invalid, so a validator can report every invalid field.
#ifndef TSML_SERVICE_VALIDATION_H_
#define TSML_SERVICE_VALIDATION_H_

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/errors.h"
#include "common/json_util.h"

namespace tsml::service {

inline const std::vector<std::string>& ModelTypes() {
  static const std::vector<std::string> k = {"recommendation", "predictive_analytics",
                                             "nlp_sentiment",  "user_behavior",
                                             "demand_forecast", "churn_prediction"};
  return k;
}
inline const std::vector<std::string>& DataSources() {
  static const std::vector<std::string> k = {"user_events", "trips",         "bookings",
                                             "reviews",     "user_profiles", "provider_data"};
  return k;
}
inline const std::vector<std::string>& JobStatuses() {
  static const std::vector<std::string> k = {"pending", "running", "completed", "failed",
                                             "cancelled"};
  return k;
}
inline const std::vector<std::string>& ValidationStrategies() {
  static const std::vector<std::string> k = {"k_fold", "train_test_split", "time_series_split"};
  return k;
}

std::string OneOfMessage(const std::vector<std::string>& allowed);
bool IsOneOf(std::string_view value, const std::vector<std::string>& allowed);

// Field validators over a JSON object; `path` is the dotted field name for messages.
class FieldChecker {
 public:
  FieldChecker(common::ValidationErrors& errors) : errors_(errors) {}

  // Reports every key of `obj` not in `allowed` as "unknown field".
  void NoUnknownFields(const Json& obj, const std::string& prefix,
                       std::initializer_list<std::string_view> allowed);
  // A present, non-null member (nullptr when absent or null).
  static const Json* Member(const Json& obj, std::string_view key);

  std::optional<std::string> Enum(const Json* v, const std::string& path,
                                  const std::vector<std::string>& allowed, bool required);
  std::optional<std::string> String(const Json* v, const std::string& path, size_t min_len,
                                    size_t max_len, bool required);
  std::optional<int64_t> Integer(const Json* v, const std::string& path, int64_t lo, int64_t hi,
                                 bool required, std::string_view what = "an integer");
  std::optional<double> Number(const Json* v, const std::string& path, double lo, double hi,
                               bool required);
  std::optional<bool> Boolean(const Json* v, const std::string& path);
  const Json* Object(const Json* v, const std::string& path, bool required);
  std::optional<common::Millis> Date(const Json* v, const std::string& path, bool required);

  void Add(std::string path, std::string message) {
    errors_.Add(std::move(path), std::move(message));
  }

 private:
  common::ValidationErrors& errors_;
};

// Query-string helpers: parse "a=1&b=x" into decoded pairs.
std::vector<std::pair<std::string, std::string>> ParseQueryString(std::string_view query);
std::string PercentDecode(std::string_view s, bool plus_as_space);

// ISO date for a query/end bound: a date-only end bound covers that whole day.
std::optional<common::Millis> ParseEndBound(std::string_view text);

}  // namespace tsml::service

#endif  // TSML_SERVICE_VALIDATION_H_
