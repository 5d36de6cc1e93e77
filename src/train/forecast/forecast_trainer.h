// `demand_forecast`: rows (or the sum of a numeric target) per day, week or month of
// `created_at`, per group, forecast `horizon` periods ahead (CONTRACT §7).
//
// Algorithms: a global XGBoost model over every series (lag, rolling and calendar features on
// the series' local scale, see lag_features.h) forecasting recursively, and per-series additive
// Holt-Winters (holt_winters.h). `algorithm: auto` fits both on the last `horizon` periods before
// the evaluation window and keeps the one with the lower mean MASE (sMAPE when MASE is
// undefined). Baseline: seasonal naive (season 7 / 52 / 12; naive when the history is shorter).
//
// Validation: train_test_split holds out the last `horizon` periods (never shuffled);
// time_series_split evaluates `folds` consecutive windows of `horizon` periods at the end, each
// fitted on everything before it (expanding window); k_fold is refused (shuffled folds would
// train on the future). The saved model is refitted on all periods and forecasts the periods
// that follow the data.
#ifndef TSML_TRAIN_FORECAST_FORECAST_TRAINER_H_
#define TSML_TRAIN_FORECAST_FORECAST_TRAINER_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "train/forecast/holt_winters.h"
#include "train/forecast/lag_features.h"
#include "train/forecast/series.h"
#include "train/hyperparams.h"
#include "train/predictor.h"
#include "train/trainer.h"
#include "train/xgb/booster.h"

namespace tsml::train::forecast {

inline constexpr char kModelType[] = "demand_forecast";

// OK for train_test_split and time_series_split; InvalidArgument (field "validationStrategy",
// with the reason) for k_fold and anything else. The API calls it at submission (400).
absl::Status CheckForecastRequest(const std::string& validation_strategy);

// The hyperparameter schema of demand_forecast (docs/models/demand_forecast.md).
std::vector<HyperparamSpec> ForecastHyperparams();

class ForecastTrainer final : public Trainer {
 public:
  // Errors: InvalidArgument (k_fold, unknown groupBy/target column, too little history),
  // ResourceExhausted (memory cap), FailedPrecondition (gpu requested: this XGBoost has no GPU
  // support; no data database), Cancelled.
  absl::StatusOr<TrainResult> Train(const TrainSpec& spec, TrainContext& ctx) override;
};

// Serves a saved demand_forecast bundle.
//   instances: [{"group": "x"}] or [{}] (the total, or the only series); group values may be
//              strings or numbers (matched as text).
//   options:   {"horizon": h}, 1 ≤ h ≤ 2 × the trained horizon (default: the trained horizon).
//   returns:   [{"group": "x" | null, "forecast": [{"period": ISO 8601 start, "value"}]}]
// InvalidArgument naming the instance for an unknown group or a malformed value.
class ForecastPredictor final : public Predictor {
 public:
  static absl::StatusOr<std::unique_ptr<ForecastPredictor>> FromBundle(const Json& bundle);

  absl::StatusOr<Json> Predict(const Json& instances, const Json& options) const override;
  std::vector<std::string> InputColumns() const override;

  const std::string& algorithm() const { return algorithm_; }
  int horizon() const { return horizon_; }
  int max_horizon() const { return max_horizon_; }
  std::vector<std::string> SeriesNames() const;

 private:
  struct SeriesModel {
    std::string name;
    int64_t next_period = 0;
    LagSeriesState lag;
    std::optional<HoltWintersModel> hw;
  };
  ForecastPredictor() = default;

  std::string algorithm_;
  Frequency frequency_ = Frequency::kDaily;
  std::string group_by_;
  int horizon_ = 14;
  int max_horizon_ = 28;
  std::optional<LagConfig> config_;
  std::unique_ptr<xgb::Booster> booster_;
  std::vector<SeriesModel> series_;
  std::map<std::string, size_t> by_name_;
  size_t total_ = 0;
};

// PredictorRegistry loader: reads the bundle file (ReadBundle) and builds the predictor.
absl::StatusOr<std::unique_ptr<Predictor>> LoadForecastPredictor(const std::string& path);

}  // namespace tsml::train::forecast

#endif  // TSML_TRAIN_FORECAST_FORECAST_TRAINER_H_
