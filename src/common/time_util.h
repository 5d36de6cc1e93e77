// ISO 8601 dates (CONTRACT §4): output always UTC with milliseconds.
#ifndef TSML_COMMON_TIME_UTIL_H_
#define TSML_COMMON_TIME_UTIL_H_

#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"

namespace tsml::common {

// "2026-11-26T20:33:41.000Z".
std::string FormatIso8601(Millis t);

// Accepts "YYYY-MM-DD" (midnight UTC) or a date-time "YYYY-MM-DDTHH:MM[:SS[.fff]]" followed
// by "Z" or "+HH:MM"/"-HH:MM"/"+HHMM" (a space may stand for 'T'). A date-time with no zone is
// read as UTC. Fields are range-checked (Feb 30 is refused). nullopt when not a valid date.
std::optional<Millis> ParseIso8601(std::string_view text);

// Days since 1970-01-01 for a proleptic Gregorian date, and back.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);
struct CivilDate {
  int64_t year;
  unsigned month;  // 1-12
  unsigned day;    // 1-31
};
CivilDate CivilFromDays(int64_t days);

}  // namespace tsml::common

#endif  // TSML_COMMON_TIME_UTIL_H_
