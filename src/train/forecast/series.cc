#include "train/forecast/series.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <unordered_map>

#include "common/status_macros.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "data/catalog.h"

namespace tsml::train::forecast {
namespace {

using common::StrCat;

constexpr int64_t kMillisPerDay = 86400000;
// Added before the integer division so that it floors for timestamps back to year -770 too.
constexpr int64_t kDayOffset = 1000000;
// 1969-12-29, a Monday, is day -3: week w starts on day 7w - 3.
constexpr int64_t kWeekShift = 3;

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// Western Easter Sunday (anonymous Gregorian algorithm), as days since the epoch.
int64_t EasterDay(int64_t y) {
  const int64_t a = y % 19, b = y / 100, c = y % 100, d = b / 4, e = b % 4;
  const int64_t f = (b + 8) / 25, g = (b - f + 1) / 3;
  const int64_t h = (19 * a + b - d - g + 15) % 30;
  const int64_t i = c / 4, k = c % 4;
  const int64_t l = (32 + 2 * e + 2 * i - h - k) % 7;
  const int64_t m = (a + 11 * h + 22 * l) / 451;
  const int64_t month = (h + l - 7 * m + 114) / 31;
  const int64_t day = (h + l - 7 * m + 114) % 31 + 1;
  return common::DaysFromCivil(y, static_cast<unsigned>(month), static_cast<unsigned>(day));
}

// Fourth Thursday of November.
int64_t ThanksgivingDay(int64_t y) {
  const int64_t nov1 = common::DaysFromCivil(y, 11, 1);
  // Day 0 (1970-01-01) was a Thursday: (day mod 7) == 0 on Thursdays.
  const int64_t offset = ((0 - nov1) % 7 + 7) % 7;
  return nov1 + offset + 21;
}

std::string FormatDouble(double v) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.15g", v);
  return buf;
}

}  // namespace

std::optional<Frequency> ParseFrequency(std::string_view name) {
  if (name == "daily") return Frequency::kDaily;
  if (name == "weekly") return Frequency::kWeekly;
  if (name == "monthly") return Frequency::kMonthly;
  return std::nullopt;
}

std::string_view FrequencyName(Frequency f) {
  switch (f) {
    case Frequency::kDaily:
      return "daily";
    case Frequency::kWeekly:
      return "weekly";
    case Frequency::kMonthly:
      return "monthly";
  }
  return "daily";
}

int SeasonLength(Frequency f) {
  switch (f) {
    case Frequency::kDaily:
      return 7;
    case Frequency::kWeekly:
      return 52;
    case Frequency::kMonthly:
      return 12;
  }
  return 7;
}

int64_t DayOfMillis(common::Millis t) { return FloorDiv(t, kMillisPerDay); }

int64_t PeriodOfDay(Frequency f, int64_t day) {
  switch (f) {
    case Frequency::kDaily:
      return day;
    case Frequency::kWeekly:
      return FloorDiv(day + kWeekShift, 7);
    case Frequency::kMonthly: {
      const CivilDate c = CivilFromDays(day);
      return (c.year - 1970) * 12 + static_cast<int64_t>(c.month) - 1;
    }
  }
  return day;
}

int64_t PeriodFirstDay(Frequency f, int64_t period) {
  switch (f) {
    case Frequency::kDaily:
      return period;
    case Frequency::kWeekly:
      return period * 7 - kWeekShift;
    case Frequency::kMonthly: {
      const int64_t y = 1970 + FloorDiv(period, 12);
      const unsigned m = static_cast<unsigned>(period - FloorDiv(period, 12) * 12) + 1;
      return common::DaysFromCivil(y, m, 1);
    }
  }
  return period;
}

int64_t PeriodLastDay(Frequency f, int64_t period) { return PeriodFirstDay(f, period + 1) - 1; }

common::Millis PeriodStartMillis(Frequency f, int64_t period) {
  return PeriodFirstDay(f, period) * kMillisPerDay;
}

std::string PeriodLabel(Frequency f, int64_t period) {
  return common::FormatIso8601(PeriodStartMillis(f, period));
}

bool IsHoliday(int64_t day) {
  const CivilDate c = CivilFromDays(day);
  const unsigned m = c.month, d = c.day;
  if ((m == 1 && d == 1) || (m == 2 && d == 14) || (m == 7 && d == 4) || (m == 8 && d == 15) ||
      (m == 12 && (d == 24 || d == 25 || d == 26 || d == 31))) {
    return true;
  }
  if (m == 3 || m == 4) {
    const int64_t easter = EasterDay(c.year);
    if (day >= easter - 2 && day <= easter + 1) return true;
  }
  if (m == 11) {
    const int64_t tg = ThanksgivingDay(c.year);
    if (day == tg || day == tg + 1) return true;
  }
  return false;
}

int HolidaysInPeriod(Frequency f, int64_t period) {
  int n = 0;
  for (int64_t d = PeriodFirstDay(f, period); d <= PeriodLastDay(f, period); ++d) {
    n += IsHoliday(d) ? 1 : 0;
  }
  return n;
}

std::string GroupKey(const store::SqlValue& value) {
  if (const auto* s = std::get_if<std::string>(&value)) return *s;
  if (const auto* i = std::get_if<int64_t>(&value)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&value)) return FormatDouble(*d);
  return kMissingGroup;
}

absl::StatusOr<SeriesSet> BuildSeries(const SeriesQuery& query, const std::vector<DayCell>& cells,
                                      const std::vector<std::string>& ranked_groups,
                                      int64_t first_day, int64_t last_day) {
  if (cells.empty()) {
    return absl::InvalidArgumentError(StrCat("no rows of source '", query.source,
                                             "' match the training data (with a created_at)"));
  }
  const Frequency f = query.frequency;
  SeriesSet set;
  set.frequency = f;
  set.group_by = query.group_by;
  set.target = query.target;
  int64_t start = PeriodOfDay(f, first_day);
  int64_t end = PeriodOfDay(f, last_day);
  if (f != Frequency::kDaily) {
    const std::string unit = f == Frequency::kWeekly ? "week" : "month";
    if (PeriodFirstDay(f, start) < first_day && start < end) {
      set.warnings.push_back(StrCat("the first ", unit, " (", PeriodLabel(f, start).substr(0, 10),
                                    ") is only partly covered by the data and was left out"));
      ++start;
    }
    if (PeriodLastDay(f, end) > last_day && start < end) {
      set.warnings.push_back(StrCat("the last ", unit, " (", PeriodLabel(f, end).substr(0, 10),
                                    ") is only partly covered by the data and was left out"));
      --end;
    }
  }
  set.end_period = end;
  const size_t periods = static_cast<size_t>(end - start + 1);

  // Which series a group value feeds: its own (index < max_groups) or __other__.
  std::unordered_map<std::string, size_t> slot;
  const bool grouped = !query.group_by.empty();
  size_t kept = 0;
  if (grouped) {
    kept = std::min(ranked_groups.size(), static_cast<size_t>(std::max(1, query.max_groups)));
    for (size_t i = 0; i < ranked_groups.size(); ++i) slot[ranked_groups[i]] = std::min(i, kept);
  }
  const bool has_other = grouped && ranked_groups.size() > kept;
  std::vector<std::vector<double>> group_values(grouped ? kept + (has_other ? 1 : 0) : 0,
                                                std::vector<double>(periods, 0.0));
  std::vector<int64_t> group_first(group_values.size(), end + 1);
  set.total.name = kTotalSeries;
  set.total.first_period = start;
  set.total.values.assign(periods, 0.0);
  for (const DayCell& c : cells) {
    const int64_t p = PeriodOfDay(f, c.day);
    if (p < start || p > end) continue;
    const size_t i = static_cast<size_t>(p - start);
    set.total.values[i] += c.value;
    if (!grouped) continue;
    auto it = slot.find(c.group);
    const size_t g = it == slot.end() ? kept : it->second;
    if (g >= group_values.size()) continue;
    group_values[g][i] += c.value;
    group_first[g] = std::min(group_first[g], p);
  }
  for (double v : set.total.values) set.total.volume += v;
  for (size_t g = 0; g < group_values.size(); ++g) {
    Series s;
    s.name = g < kept ? ranked_groups[g] : std::string(kOtherGroup);
    if (group_first[g] > end) continue;  // only in the partial periods left out
    s.first_period = group_first[g];
    s.values.assign(group_values[g].begin() + (group_first[g] - start), group_values[g].end());
    for (double v : s.values) s.volume += v;
    if (static_cast<int>(s.values.size()) < query.min_group_periods) {
      set.dropped_groups.push_back(s.name);
      continue;
    }
    set.groups.push_back(std::move(s));
  }
  std::stable_sort(set.groups.begin(), set.groups.end(),
                   [](const Series& a, const Series& b) { return a.volume > b.volume; });
  set.distinct_groups = static_cast<int64_t>(ranked_groups.size());
  if (!set.dropped_groups.empty()) {
    std::vector<std::string> shown(
        set.dropped_groups.begin(),
        set.dropped_groups.begin() + std::min<size_t>(10, set.dropped_groups.size()));
    if (set.dropped_groups.size() > shown.size()) {
      shown.push_back(StrCat("and ", set.dropped_groups.size() - shown.size(), " more"));
    }
    set.warnings.push_back(StrCat(set.dropped_groups.size(), " group(s) dropped for too little ",
                                  "history (fewer than ", query.min_group_periods, " periods): ",
                                  common::StrJoin(shown, ", "), "; they still count in the total"));
  }
  if (has_other) {
    set.warnings.push_back(StrCat(ranked_groups.size() - kept,
                                  " smaller group(s) beyond maxGroups=", kept,
                                  " were merged into '", kOtherGroup, "'"));
  }
  // Many empty periods make percentage errors unstable and the series hard to forecast.
  auto zero_share = [](const Series& s) {
    if (s.values.empty()) return 0.0;
    size_t z = 0;
    for (double v : s.values) z += v == 0 ? 1 : 0;
    return static_cast<double>(z) / static_cast<double>(s.values.size());
  };
  const double total_zeros = zero_share(set.total);
  if (total_zeros > 0.2) {
    set.warnings.push_back(StrCat(static_cast<int>(std::round(100 * total_zeros)),
                                  "% of the periods have no demand at all: the series is sparse; ",
                                  "consider a coarser frequency"));
  }
  size_t sparse_groups = 0;
  for (const Series& s : set.groups) sparse_groups += zero_share(s) > 0.3 ? 1 : 0;
  if (sparse_groups > 0) {
    set.warnings.push_back(StrCat(sparse_groups, " group(s) have more than 30% zero periods; ",
                                  "their percentage errors (mape, smape) are unstable"));
  }
  return set;
}

absl::StatusOr<SeriesSet> LoadSeries(store::Database& db, const SeriesQuery& query,
                                     const common::CancellationToken* cancel) {
  const std::string table = data::QuoteIdent(query.source);
  const std::string where = query.where.sql.empty()
                                ? std::string(" WHERE \"created_at\" IS NOT NULL")
                                : StrCat(query.where.sql, " AND \"created_at\" IS NOT NULL");
  const std::string value_expr =
      query.target.empty() ? std::string("COUNT(*)")
                           : StrCat("COALESCE(SUM(", data::QuoteIdent(query.target), "), 0)");
  const std::string group_expr = query.group_by.empty() ? "" : data::QuoteIdent(query.group_by);
  auto cancelled = [&] { return cancel != nullptr && cancel->cancelled(); };

  int64_t rows = 0, min_t = 0, max_t = 0;
  std::vector<std::pair<std::string, double>> volumes;
  std::vector<DayCell> cells;
  absl::Status status = db.Run([&](store::SqlConnection& conn) -> absl::Status {
    ASSIGN_OR_RETURN(store::SqlRows stats,
                     conn.Query(StrCat("SELECT COUNT(*), MIN(\"created_at\"), MAX(\"created_at\") "
                                       "FROM ",
                                       table, where),
                                query.where.params));
    if (stats.empty() || stats[0].Int(0) == 0) return absl::OkStatus();
    rows = stats[0].Int(0);
    min_t = stats[0].Int(1);
    max_t = stats[0].Int(2);
    if (cancelled()) return absl::CancelledError("training was cancelled");
    const int64_t days = DayOfMillis(max_t) - DayOfMillis(min_t) + 1;
    int64_t groups = 1;
    if (!group_expr.empty()) {
      ASSIGN_OR_RETURN(store::SqlRows g, conn.Query(StrCat("SELECT ", group_expr, ", ", value_expr,
                                                           " FROM ", table, where, " GROUP BY 1"),
                                                    query.where.params));
      for (const store::SqlRow& r : g) volumes.emplace_back(GroupKey(r.Raw(0)), r.Double(1));
      groups = std::max<int64_t>(1, static_cast<int64_t>(volumes.size()));
    }
    // Aggregated cells: at most one per (day, group) and never more than the rows.
    const double cells_bound = std::min(static_cast<double>(rows),
                                        static_cast<double>(days) * static_cast<double>(groups));
    const double series_bytes = static_cast<double>(days) * (query.max_groups + 2) * 8.0;
    const double need = cells_bound * 96.0 + series_bytes;
    if (need > query.memory_bytes) {
      return absl::ResourceExhaustedError(
          StrCat("the aggregated series would need about ", static_cast<int64_t>(need / 1e6),
                 " MB (", static_cast<int64_t>(cells_bound), " day/group cells over ", days,
                 " days) but computeResources.memory allows ",
                 static_cast<int64_t>(query.memory_bytes / 1e6),
                 " MB: narrow the dateRange, group by a coarser column, or allow more memory"));
    }
    if (cancelled()) return absl::CancelledError("training was cancelled");
    const std::string day_expr = StrCat("((\"created_at\" + ", kDayOffset * kMillisPerDay, ") / ",
                                        kMillisPerDay, " - ", kDayOffset, ")");
    const std::string sql =
        group_expr.empty()
            ? StrCat("SELECT ", day_expr, ", ", value_expr, " FROM ", table, where, " GROUP BY 1")
            : StrCat("SELECT ", day_expr, ", ", group_expr, ", ", value_expr, " FROM ", table,
                     where, " GROUP BY 1, 2");
    ASSIGN_OR_RETURN(store::SqlRows agg, conn.Query(sql, query.where.params));
    cells.reserve(agg.size());
    for (const store::SqlRow& r : agg) {
      DayCell c;
      c.day = r.Int(0);
      if (group_expr.empty()) {
        c.value = r.Double(1);
      } else {
        c.group = GroupKey(r.Raw(1));
        c.value = r.Double(2);
      }
      cells.push_back(std::move(c));
    }
    return absl::OkStatus();
  });
  RETURN_IF_ERROR(status);
  if (rows == 0) {
    return absl::InvalidArgumentError(StrCat("no rows of source '", query.source,
                                             "' match the training data (filters, dateRange)"));
  }
  if (cancelled()) return absl::CancelledError("training was cancelled");
  // Largest volume first; ties by value so both backends rank alike.
  std::sort(volumes.begin(), volumes.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  std::vector<std::string> ranked;
  ranked.reserve(volumes.size());
  for (auto& v : volumes) ranked.push_back(std::move(v.first));
  ASSIGN_OR_RETURN(SeriesSet set,
                   BuildSeries(query, cells, ranked, DayOfMillis(min_t), DayOfMillis(max_t)));
  set.source_rows = rows;
  return set;
}

}  // namespace tsml::train::forecast
