// Wires demand_forecast into the registries (called from main.cc and tests).
#ifndef TSML_TRAIN_FORECAST_REGISTER_H_
#define TSML_TRAIN_FORECAST_REGISTER_H_

#include <string>

#include "absl/status/status.h"
#include "train/predictor.h"
#include "train/trainer.h"

namespace tsml::train::forecast {

// Registers the `demand_forecast` trainer (with its hyperparameter schema) and predictor.
void RegisterForecast(train::TrainerRegistry& trainers, train::PredictorRegistry& predictors);

}  // namespace tsml::train::forecast

#endif  // TSML_TRAIN_FORECAST_REGISTER_H_
