// Demand time series for `demand_forecast`: rows (or the sum of a numeric target) per period of
// `created_at`, per group, zero-filled, built with SQL aggregation over the data source.
//
// Periods are calendar buckets in UTC: days, ISO weeks (Monday to Sunday) and calendar months.
// A period is identified by an integer index: days since 1970-01-01, weeks since the week of
// 1969-12-29 (a Monday), months since January 1970. `created_at` is BIGINT epoch millis; the SQL
// groups rows by day (integer arithmetic that both SQLite and PostgreSQL evaluate alike) and the
// days are rolled up into weeks or months here, so the query is the same on both backends.
#ifndef TSML_TRAIN_FORECAST_SERIES_H_
#define TSML_TRAIN_FORECAST_SERIES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/cancellation.h"
#include "common/clock.h"
#include "common/time_util.h"
#include "data/filters.h"
#include "store/sql.h"

namespace tsml::train::forecast {

enum class Frequency { kDaily, kWeekly, kMonthly };

std::optional<Frequency> ParseFrequency(std::string_view name);  // "daily", "weekly", "monthly"
std::string_view FrequencyName(Frequency f);
// The seasonal period of the baseline and of Holt-Winters: 7 (daily), 52 (weekly), 12 (monthly).
int SeasonLength(Frequency f);

// ---- Calendar ---------------------------------------------------------------------------------

using common::CivilDate;
using common::CivilFromDays;
// Days since the epoch (floor division, also before 1970).
int64_t DayOfMillis(common::Millis t);

int64_t PeriodOfDay(Frequency f, int64_t day);
int64_t PeriodFirstDay(Frequency f, int64_t period);
int64_t PeriodLastDay(Frequency f, int64_t period);
// Midnight UTC of the period's first day.
common::Millis PeriodStartMillis(Frequency f, int64_t period);
// "2024-12-31T00:00:00.000Z" (CONTRACT §4), the period's first day.
std::string PeriodLabel(Frequency f, int64_t period);

// A small fixed list of widely observed holidays with travel peaks: New Year's Day, Valentine's
// Day, Good Friday to Easter Monday (Western Easter), Independence Day (US), Assumption, US
// Thanksgiving and the day after, Christmas Eve to Boxing Day, New Year's Eve.
bool IsHoliday(int64_t day);
// Number of holidays in the period.
int HolidaysInPeriod(Frequency f, int64_t period);

// ---- Series -----------------------------------------------------------------------------------

inline constexpr char kTotalSeries[] = "__total__";
inline constexpr char kOtherGroup[] = "__other__";
inline constexpr char kMissingGroup[] = "__missing__";

struct Series {
  std::string name;            // the group's value, kOtherGroup, or kTotalSeries
  int64_t first_period = 0;    // period index of values[0]
  std::vector<double> values;  // one per period up to the set's end_period, zero-filled
  double volume = 0;           // sum of values
};

struct SeriesSet {
  Frequency frequency = Frequency::kDaily;
  std::string group_by;        // "" when not grouped
  std::string target;          // "" for row counts
  int64_t end_period = 0;      // the last period of every series
  Series total;                // every row
  std::vector<Series> groups;  // by volume, largest first; empty when not grouped
  int64_t source_rows = 0;     // rows that matched (with a created_at)
  int64_t distinct_groups = 0;
  std::vector<std::string> dropped_groups;  // too little history (see min_group_periods)
  std::vector<std::string> warnings;
};

struct SeriesQuery {
  std::string source;
  data::SqlWhere where;  // from ResolveTrainingData (filters, dateRange)
  std::string target;    // numeric column summed per period; "" counts rows
  std::string group_by;  // "" for one series
  Frequency frequency = Frequency::kDaily;
  int max_groups = 20;        // the largest groups by volume; the rest merged into __other__
  int min_group_periods = 0;  // groups with fewer periods are dropped (still in the total)
  double memory_bytes = 8e9;  // cap on what the query may return
};

// One aggregated cell: `value` (rows or target sum) of `group` on `day`.
struct DayCell {
  int64_t day = 0;
  std::string group;  // "" when not grouped
  double value = 0;
};

// The pure part of LoadSeries: builds the set from aggregated day cells. `ranked_groups` lists
// the group values by volume, largest first (only the first `max_groups` are kept apart).
// A leading or trailing week/month that the data covers only partly is dropped (warning).
// InvalidArgument when no cell remains.
absl::StatusOr<SeriesSet> BuildSeries(const SeriesQuery& query, const std::vector<DayCell>& cells,
                                      const std::vector<std::string>& ranked_groups,
                                      int64_t first_day, int64_t last_day);

// Runs the aggregation on `db`. Errors: InvalidArgument (no rows with a created_at, unknown
// column), ResourceExhausted (the aggregated data would exceed `memory_bytes`), Cancelled,
// and the database's errors.
absl::StatusOr<SeriesSet> LoadSeries(store::Database& db, const SeriesQuery& query,
                                     const common::CancellationToken* cancel);

// The string a group value is known by: strings as they are, integers in decimal, other
// numbers as printed by SQLite, null as kMissingGroup.
std::string GroupKey(const store::SqlValue& value);

}  // namespace tsml::train::forecast

#endif  // TSML_TRAIN_FORECAST_SERIES_H_
