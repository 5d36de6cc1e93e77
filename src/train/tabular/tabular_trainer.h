// Tabular models: churn_prediction, user_behavior and predictive_analytics. Gradient-boosted
// trees (XGBoost, hist) by default, or an L2 logistic / ridge model (liblinear); binary,
// multiclass or regression by the target's type; every validation strategy; optional random
// search; an evaluation against the class-prior / mean baseline on the same held-out rows.
#ifndef TSML_TRAIN_TABULAR_TABULAR_TRAINER_H_
#define TSML_TRAIN_TABULAR_TABULAR_TRAINER_H_

#include <vector>

#include "train/hyperparams.h"
#include "train/predictor.h"
#include "train/trainer.h"

namespace tsml::train::tabular {

std::vector<HyperparamSpec> TabularHyperparams();

class TabularTrainer final : public Trainer {
 public:
  absl::StatusOr<TrainResult> Train(const TrainSpec& spec, TrainContext& ctx) override;
};

// Registers the three tabular model types.
void RegisterTabular(TrainerRegistry& trainers, PredictorRegistry& predictors);

}  // namespace tsml::train::tabular

#endif  // TSML_TRAIN_TABULAR_TABULAR_TRAINER_H_
