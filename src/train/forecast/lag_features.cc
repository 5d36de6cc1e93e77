#include "train/forecast/lag_features.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "common/strings.h"
#include "common/time_util.h"

namespace tsml::train::forecast {
namespace {

using common::StrCat;

constexpr float kMissing = NAN;

// Monday 0 … Sunday 6 (1970-01-01 was a Thursday).
int DayOfWeek(int64_t day) { return static_cast<int>(((day + 3) % 7 + 7) % 7); }

int DayOfYear(int64_t day) {
  const CivilDate c = CivilFromDays(day);
  return static_cast<int>(day - common::DaysFromCivil(c.year, 1, 1)) + 1;
}

size_t CalendarCount(Frequency f) {
  switch (f) {
    case Frequency::kDaily:
      return 7;
    case Frequency::kWeekly:
      return 3;
    case Frequency::kMonthly:
      return 2;
  }
  return 0;
}

}  // namespace

int IsoWeek(int64_t day) {
  const int64_t thursday = day - DayOfWeek(day) + 3;
  const CivilDate c = CivilFromDays(thursday);
  return static_cast<int>((thursday - common::DaysFromCivil(c.year, 1, 1)) / 7) + 1;
}

LagConfig MakeLagConfig(Frequency f, int consecutive_lags) {
  LagConfig c;
  c.frequency = f;
  int l = 0;
  std::vector<int> seasonal;
  switch (f) {
    case Frequency::kDaily:
      l = 7;
      seasonal = {14, 21, 28, 364};
      c.mean_windows = {7, 14, 56};
      c.std_windows = {7, 28};
      c.scale_window = 28;
      break;
    case Frequency::kWeekly:
      l = 8;
      seasonal = {52};
      c.mean_windows = {4, 13, 26};
      c.std_windows = {4, 13};
      c.scale_window = 8;
      break;
    case Frequency::kMonthly:
      l = 12;
      seasonal = {24};
      c.mean_windows = {3, 6};
      c.std_windows = {6};
      c.scale_window = 6;
      break;
  }
  if (consecutive_lags > 0) l = consecutive_lags;
  for (int k = 1; k <= l; ++k) c.lags.push_back(k);
  for (int k : seasonal) c.lags.push_back(k);
  std::sort(c.lags.begin(), c.lags.end());
  c.lags.erase(std::unique(c.lags.begin(), c.lags.end()), c.lags.end());
  return c;
}

std::vector<std::string> LagConfig::FeatureNames() const {
  std::vector<std::string> names;
  for (int k : lags) names.push_back(StrCat("lag_", k));
  for (int w : mean_windows) names.push_back(StrCat("mean_", w));
  for (int w : std_windows) names.push_back(StrCat("std_", w));
  names.push_back("log_level");
  switch (frequency) {
    case Frequency::kDaily:
      for (const char* n : {"day_of_week", "day_of_month", "month", "day_of_year", "week_of_year",
                            "holiday", "holiday_adjacent"}) {
        names.push_back(n);
      }
      break;
    case Frequency::kWeekly:
      for (const char* n : {"week_of_year", "month", "holidays"}) names.push_back(n);
      break;
    case Frequency::kMonthly:
      for (const char* n : {"month", "holidays"}) names.push_back(n);
      break;
  }
  names.push_back("trend");
  names.push_back("group");
  return names;
}

size_t LagConfig::NumFeatures() const {
  return lags.size() + mean_windows.size() + std_windows.size() + 1 + CalendarCount(frequency) + 2;
}

int LagConfig::Lookback() const {
  int m = 2 * scale_window;  // the trend feature compares two windows
  for (int k : lags) m = std::max(m, k);
  for (int w : mean_windows) m = std::max(m, w);
  for (int w : std_windows) m = std::max(m, w);
  return m;
}

Json LagConfig::ToJson() const {
  return Json{{"frequency", std::string(FrequencyName(frequency))},
              {"lags", lags},
              {"meanWindows", mean_windows},
              {"stdWindows", std_windows},
              {"scaleWindow", scale_window}};
}

absl::StatusOr<LagConfig> LagConfig::FromJson(const Json& j) {
  try {
    LagConfig c;
    auto f = ParseFrequency(j.at("frequency").get<std::string>());
    if (!f) return absl::InvalidArgumentError("lag config: unknown frequency");
    c.frequency = *f;
    c.lags = j.at("lags").get<std::vector<int>>();
    c.mean_windows = j.at("meanWindows").get<std::vector<int>>();
    c.std_windows = j.at("stdWindows").get<std::vector<int>>();
    c.scale_window = j.at("scaleWindow").get<int>();
    auto positive = [](const std::vector<int>& v) {
      return std::all_of(v.begin(), v.end(), [](int k) { return k >= 1 && k <= 10000; });
    };
    if (!positive(c.lags) || !positive(c.mean_windows) || !positive(c.std_windows) ||
        c.scale_window < 1 || c.scale_window > 10000) {
      return absl::InvalidArgumentError("lag config: lags and windows must be positive");
    }
    return c;
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(StrCat("lag config: ", e.what()));
  }
}

double ScaleFloor(std::span<const double> values) {
  if (values.empty()) return 1.0;
  double sum = 0;
  for (double v : values) sum += std::fabs(v);
  const double mean = sum / static_cast<double>(values.size());
  return mean > 0 ? 0.1 * mean : 1.0;
}

double LocalLevel(const LagConfig& c, std::span<const double> history, double floor) {
  const size_t w = std::min(history.size(), static_cast<size_t>(c.scale_window));
  if (w == 0) return floor;
  double sum = 0;
  for (size_t i = history.size() - w; i < history.size(); ++i) sum += history[i];
  return std::max(sum / static_cast<double>(w), floor);
}

double ComputeFeatures(const LagConfig& c, std::span<const double> history, int64_t period,
                       int group_code, double floor, float* out) {
  const double scale = LocalLevel(c, history, floor);
  const size_t n = history.size();
  size_t j = 0;
  for (int k : c.lags) {
    out[j++] = static_cast<size_t>(k) <= n ? static_cast<float>(history[n - k] / scale) : kMissing;
  }
  for (int w : c.mean_windows) {
    if (static_cast<size_t>(w) > n) {
      out[j++] = kMissing;
      continue;
    }
    double sum = 0;
    for (size_t i = n - w; i < n; ++i) sum += history[i];
    out[j++] = static_cast<float>(sum / w / scale);
  }
  for (int w : c.std_windows) {
    if (w < 2 || static_cast<size_t>(w) > n) {
      out[j++] = kMissing;
      continue;
    }
    double sum = 0, sq = 0;
    for (size_t i = n - w; i < n; ++i) {
      sum += history[i];
      sq += history[i] * history[i];
    }
    const double mean = sum / w;
    const double var = std::max(0.0, sq / w - mean * mean);
    out[j++] = static_cast<float>(std::sqrt(var) / scale);
  }
  out[j++] = static_cast<float>(std::log1p(std::max(0.0, scale)));
  const int64_t first = PeriodFirstDay(c.frequency, period);
  switch (c.frequency) {
    case Frequency::kDaily: {
      const CivilDate d = CivilFromDays(first);
      out[j++] = static_cast<float>(DayOfWeek(first));
      out[j++] = static_cast<float>(d.day);
      out[j++] = static_cast<float>(d.month);
      out[j++] = static_cast<float>(DayOfYear(first));
      out[j++] = static_cast<float>(IsoWeek(first));
      out[j++] = IsHoliday(first) ? 1.0f : 0.0f;
      out[j++] = (IsHoliday(first - 1) || IsHoliday(first + 1)) ? 1.0f : 0.0f;
      break;
    }
    case Frequency::kWeekly: {
      out[j++] = static_cast<float>(IsoWeek(first));
      out[j++] = static_cast<float>(CivilFromDays(first + 3).month);  // the week's Thursday
      out[j++] = static_cast<float>(HolidaysInPeriod(c.frequency, period));
      break;
    }
    case Frequency::kMonthly: {
      out[j++] = static_cast<float>(CivilFromDays(first).month);
      out[j++] = static_cast<float>(HolidaysInPeriod(c.frequency, period));
      break;
    }
  }
  // Local trend: the level of the last window against the one before it.
  const size_t w = static_cast<size_t>(c.scale_window);
  if (n >= 2 * w) {
    double before = 0;
    for (size_t i = n - 2 * w; i < n - w; ++i) before += history[i];
    before = std::max(before / static_cast<double>(w), floor);
    out[j++] = static_cast<float>(scale / before);
  } else {
    out[j++] = kMissing;
  }
  out[j++] = static_cast<float>(group_code);
  return scale;
}

absl::StatusOr<std::vector<std::vector<double>>> RecursiveForecast(
    const xgb::Booster& booster, const LagConfig& c, std::vector<LagSeriesState> states, int h,
    const common::CancellationToken* cancel) {
  const size_t cols = c.NumFeatures();
  const size_t lookback = static_cast<size_t>(c.Lookback());
  std::vector<std::vector<double>> out(states.size());
  if (states.empty() || h <= 0) return out;
  std::vector<float> x(states.size() * cols);
  std::vector<double> scales(states.size());
  for (int step = 0; step < h; ++step) {
    if (cancel != nullptr && cancel->cancelled()) {
      return absl::CancelledError("training was cancelled");
    }
    for (size_t i = 0; i < states.size(); ++i) {
      const LagSeriesState& s = states[i];
      std::span<const double> hist(s.history);
      if (hist.size() > lookback) hist = hist.subspan(hist.size() - lookback);
      scales[i] =
          ComputeFeatures(c, hist, s.next_period + step, s.group_code, s.scale_floor, &x[i * cols]);
    }
    auto pred = booster.Predict(x.data(), states.size(), cols);
    if (!pred.ok()) return pred.status();
    if (pred->size() != states.size()) {
      return absl::InternalError("the booster returned an unexpected number of predictions");
    }
    for (size_t i = 0; i < states.size(); ++i) {
      double v = static_cast<double>((*pred)[i]) * scales[i];
      if (!std::isfinite(v)) v = 0;
      if (states[i].non_negative) v = std::max(0.0, v);
      states[i].history.push_back(v);
      out[i].push_back(v);
    }
  }
  return out;
}

}  // namespace tsml::train::forecast
