#include "common/logging.h"

#include "common/clock.h"
#include "common/time_util.h"
#include "spdlog/sinks/stdout_sinks.h"
#include "spdlog/spdlog.h"

namespace tsml::common {
namespace {

std::shared_ptr<spdlog::logger>& Logger() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto l = spdlog::stderr_logger_mt("tsml");
    l->set_pattern("%v");
    l->set_level(spdlog::level::info);
    return l;
  }();
  return logger;
}

spdlog::level::level_enum ToSpd(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return spdlog::level::debug;
    case LogLevel::kInfo:
      return spdlog::level::info;
    case LogLevel::kWarn:
      return spdlog::level::warn;
    case LogLevel::kError:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

}  // namespace

void InitLogging(std::string_view level) {
  Logger()->set_level(spdlog::level::from_str(std::string(level)));
}

void Log(LogLevel level, std::string_view msg, const Json& fields) {
  auto& logger = Logger();
  const auto spd = ToSpd(level);
  if (!logger->should_log(spd)) return;
  Json line = Json::object();
  line["ts"] = FormatIso8601(SystemClock::Default()->NowMillis());
  line["level"] = spdlog::level::to_string_view(spd).data();
  line["msg"] = msg;
  if (fields.is_object()) {
    for (auto it = fields.begin(); it != fields.end(); ++it) line[it.key()] = it.value();
  }
  logger->log(spd, DumpJson(line));
}

}  // namespace tsml::common
