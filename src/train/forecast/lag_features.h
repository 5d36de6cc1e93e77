// Lag, rolling-window and calendar features for the pooled XGBoost forecaster, and the
// recursive multi-step forecast that feeds its own predictions back as lags.
//
// Every series is put on a common scale: the value of period t is divided by the series' local
// level s_t = mean of its last `scale_window` values before t (at least the series' floor), and
// so are its lags and rolling statistics. The booster learns the ratio y_t / s_t, which makes
// one model fit series of very different sizes (the groups and the total) and lets the level
// follow a trend the trees could not extrapolate. Prediction = ratio × s_t.
//
// Features, in order (see FeatureNames): lag_k (k in `lags`: 1..L then seasonal lags),
// mean_w and std_w (rolling windows), log_level (log1p s_t), the calendar of period t (daily:
// day_of_week (Monday 0), day_of_month, month, day_of_year, week_of_year, holiday,
// holiday_adjacent; weekly: week_of_year, month, holidays; monthly: month, holidays), trend
// (the local level over the level of the `scale_window` periods before it) and group (the
// series' integer code). A feature that needs more history than there is is missing (NaN),
// which XGBoost handles. There is deliberately no period-index feature: trees cannot extrapolate
// an index, they extend whatever happened at the end of the training window into the future.
// The trend enters through the local level and the `trend` ratio instead.
#ifndef TSML_TRAIN_FORECAST_LAG_FEATURES_H_
#define TSML_TRAIN_FORECAST_LAG_FEATURES_H_

#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/cancellation.h"
#include "common/json_util.h"
#include "train/forecast/series.h"
#include "train/xgb/booster.h"

namespace tsml::train::forecast {

struct LagConfig {
  Frequency frequency = Frequency::kDaily;
  std::vector<int> lags;          // sorted, unique, >= 1
  std::vector<int> mean_windows;  // rolling means
  std::vector<int> std_windows;   // rolling standard deviations
  int scale_window = 28;

  std::vector<std::string> FeatureNames() const;
  size_t NumFeatures() const;
  // The number of past values any feature reads.
  int Lookback() const;
  Json ToJson() const;
  static absl::StatusOr<LagConfig> FromJson(const Json& j);
};

// Defaults per frequency; `consecutive_lags` > 0 replaces the 1..L part (7 daily, 8 weekly,
// 12 monthly). Seasonal lags: daily 14, 21, 28, 364; weekly 52; monthly 24.
LagConfig MakeLagConfig(Frequency f, int consecutive_lags);

// The local level used to scale period t, from the values before it.
double LocalLevel(const LagConfig& c, std::span<const double> history, double floor);

// Writes NumFeatures() floats for the period `period` that follows `history` (the series'
// values before it, oldest first; only the last Lookback() are read). Returns the scale s_t.
double ComputeFeatures(const LagConfig& c, std::span<const double> history, int64_t period,
                       int group_code, double floor, float* out);

// The lower bound of a series' scale: a tenth of its mean (1 when the mean is 0), so that a
// run of empty periods does not blow the ratios up.
double ScaleFloor(std::span<const double> values);

// What the recursive forecast needs to know about one series.
struct LagSeriesState {
  std::vector<double> history;  // the latest values, oldest first (at least Lookback() if known)
  int64_t next_period = 0;      // the period that follows `history`
  int group_code = 0;
  double scale_floor = 1;
  bool non_negative = true;  // clamp forecasts at 0
};

// Forecasts `h` periods for every state at once: each step predicts one row per series in a
// single booster call and appends the predictions to the histories. Returns one vector of `h`
// values per state. Cancelled between steps when `cancel` fires.
absl::StatusOr<std::vector<std::vector<double>>> RecursiveForecast(
    const xgb::Booster& booster, const LagConfig& c, std::vector<LagSeriesState> states, int h,
    const common::CancellationToken* cancel = nullptr);

// ISO 8601 week number (1-53) of a day.
int IsoWeek(int64_t day);

}  // namespace tsml::train::forecast

#endif  // TSML_TRAIN_FORECAST_LAG_FEATURES_H_
