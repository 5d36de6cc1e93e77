#include "train/forecast/register.h"

#include <memory>

#include "train/forecast/forecast_trainer.h"

namespace tsml::train::forecast {

void RegisterForecast(train::TrainerRegistry& trainers, train::PredictorRegistry& predictors) {
  trainers.Register(
      kModelType, [] { return std::make_unique<ForecastTrainer>(); }, ForecastHyperparams());
  predictors.Register(kModelType, LoadForecastPredictor);
}

}  // namespace tsml::train::forecast
