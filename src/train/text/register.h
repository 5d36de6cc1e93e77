// Wires nlp_sentiment into the registries (called from main.cc and tests).
#ifndef TSML_TRAIN_TEXT_REGISTER_H_
#define TSML_TRAIN_TEXT_REGISTER_H_

#include "train/predictor.h"
#include "train/trainer.h"

namespace tsml::train::text {

// Registers the nlp_sentiment trainer (with its hyperparameter schema) and its predictor loader.
void RegisterText(TrainerRegistry& trainers, PredictorRegistry& predictors);

}  // namespace tsml::train::text

#endif  // TSML_TRAIN_TEXT_REGISTER_H_
