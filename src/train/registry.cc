#include "train/registry.h"

#include "train/forecast/register.h"
#include "train/recommend/register.h"
#include "train/tabular/tabular_trainer.h"
#include "train/text/register.h"

namespace tsml::train {

void RegisterAllModels(TrainerRegistry& trainers, PredictorRegistry& predictors) {
  tabular::RegisterTabular(trainers, predictors);
  recommend::RegisterRecommendation(trainers, predictors);
  forecast::RegisterForecast(trainers, predictors);
  text::RegisterText(trainers, predictors);
}

}  // namespace tsml::train
