// Wiring of the `recommendation` model type into the registries (called from main.cc).
#ifndef TSML_TRAIN_RECOMMEND_REGISTER_H_
#define TSML_TRAIN_RECOMMEND_REGISTER_H_

#include "train/predictor.h"
#include "train/trainer.h"

namespace tsml::train::recommend {

// Registers RecommendTrainer with RecommendHyperparams() and LoadRecommendPredictor.
void RegisterRecommendation(TrainerRegistry& trainers, PredictorRegistry& predictors);

}  // namespace tsml::train::recommend

#endif  // TSML_TRAIN_RECOMMEND_REGISTER_H_
