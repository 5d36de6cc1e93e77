// Additive Holt-Winters (ETS with additive damped trend and additive seasonality) for one
// series. Smoothing parameters are fitted by minimizing the one-step-ahead sum of squared
// errors: a coarse grid, then Nelder–Mead from the best grid point, inside the unit box
// (phi in [0.8, 1]).
//
// Components used depend on the history: seasonality when it covers at least two seasons,
// a trend with at least 4 values, otherwise simple exponential smoothing of the level.
#ifndef TSML_TRAIN_FORECAST_HOLT_WINTERS_H_
#define TSML_TRAIN_FORECAST_HOLT_WINTERS_H_

#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "common/json_util.h"

namespace tsml::train::forecast {

struct HoltWintersParams {
  double alpha = 0.3;  // level
  double beta = 0.05;  // trend
  double gamma = 0.1;  // seasonality
  double phi = 0.98;   // trend damping
};

// A fitted model: the final state after the last observation. Immutable; thread-safe.
struct HoltWintersModel {
  int season = 0;  // 0: no seasonal component
  bool trend = false;
  HoltWintersParams params;
  double level = 0;
  double slope = 0;
  std::vector<double> seasonal;  // indexed by (time index mod season)
  int64_t n = 0;                 // observations seen: the next time index
  double sse = 0;                // one-step SSE of the fit
  bool non_negative = false;     // clamp forecasts at 0 (the history had no negative value)

  // Values for the `h` periods after the history.
  std::vector<double> Forecast(int h) const;
  Json ToJson() const;
  static absl::StatusOr<HoltWintersModel> FromJson(const Json& j);
};

// Fits `y` (at least one value; InvalidArgument otherwise). `season` <= 1 disables seasonality.
absl::StatusOr<HoltWintersModel> FitHoltWinters(std::span<const double> y, int season);

// Runs the recursions with fixed parameters and returns the one-step SSE (for tests) and,
// when `model` is given, the final state.
double HoltWintersSse(std::span<const double> y, int season, bool trend, const HoltWintersParams& p,
                      HoltWintersModel* model = nullptr);

}  // namespace tsml::train::forecast

#endif  // TSML_TRAIN_FORECAST_HOLT_WINTERS_H_
