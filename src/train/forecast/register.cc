#include "train/forecast/register.h"

#include <memory>

#include "train/forecast/forecast_trainer.h"

#include "common/errors.h"

namespace tsml::train::forecast {

void RegisterForecast(train::TrainerRegistry& trainers, train::PredictorRegistry& predictors) {
  trainers.Register(
      kModelType, [] { return std::make_unique<ForecastTrainer>(); }, ForecastHyperparams(),
      [](const std::string& strategy, const Json&, common::ValidationErrors& errors) {
        if (absl::Status s = CheckForecastRequest(strategy); !s.ok()) {
          for (const auto& e : common::FieldErrorsOf(s)) errors.Add(e.field, e.message);
          if (common::FieldErrorsOf(s).empty()) {
            errors.Add("validationStrategy", std::string(s.message()));
          }
        }
      });
  predictors.Register(kModelType, LoadForecastPredictor);
}

}  // namespace tsml::train::forecast
