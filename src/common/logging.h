// Structured logs: one JSON object per line on stderr, through spdlog.
// Callers pass a request or job id in `fields`; never tokens, secrets or PII.
#ifndef TSML_COMMON_LOGGING_H_
#define TSML_COMMON_LOGGING_H_

#include <string_view>

#include "common/json_util.h"

namespace tsml::common {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

// Sets up the process logger ("debug", "info", "warn", "error", "off").
void InitLogging(std::string_view level);

// {"ts":"...","level":"info","msg":msg, ...fields}
void Log(LogLevel level, std::string_view msg, const Json& fields = Json::object());

inline void LogInfo(std::string_view msg, const Json& f = Json::object()) {
  Log(LogLevel::kInfo, msg, f);
}
inline void LogWarn(std::string_view msg, const Json& f = Json::object()) {
  Log(LogLevel::kWarn, msg, f);
}
inline void LogError(std::string_view msg, const Json& f = Json::object()) {
  Log(LogLevel::kError, msg, f);
}
inline void LogDebug(std::string_view msg, const Json& f = Json::object()) {
  Log(LogLevel::kDebug, msg, f);
}

}  // namespace tsml::common

#endif  // TSML_COMMON_LOGGING_H_
