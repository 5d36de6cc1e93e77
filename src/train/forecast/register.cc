#include "train/forecast/register.h"

#include <memory>

#include "train/forecast/forecast_trainer.h"

#include "common/errors.h"

namespace tsml::train::forecast {

void RegisterForecast(train::TrainerRegistry& trainers, train::PredictorRegistry& predictors) {
  trainers.Register(
      kModelType, [] { return std::make_unique<ForecastTrainer>(); }, ForecastHyperparams(),
      [](const std::string& strategy, const Json&, common::ValidationErrors& errors) {
        // CheckForecastRequest's errors name their field (validationStrategy).
        for (const auto& e : common::FieldErrorsOf(CheckForecastRequest(strategy))) {
          errors.Add(e.field, e.message);
        }
      });
  predictors.Register(kModelType, LoadForecastPredictor);
}

}  // namespace tsml::train::forecast
