// Every model type this build can train and serve.
#ifndef TSML_TRAIN_REGISTRY_H_
#define TSML_TRAIN_REGISTRY_H_

#include "train/predictor.h"
#include "train/trainer.h"

namespace tsml::train {

void RegisterAllModels(TrainerRegistry& trainers, PredictorRegistry& predictors);

}  // namespace tsml::train

#endif  // TSML_TRAIN_REGISTRY_H_
