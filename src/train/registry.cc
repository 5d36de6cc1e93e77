#include "train/registry.h"

#include "train/tabular/tabular_trainer.h"

namespace tsml::train {

void RegisterAllModels(TrainerRegistry& trainers, PredictorRegistry& predictors) {
  tabular::RegisterTabular(trainers, predictors);
}

}  // namespace tsml::train
