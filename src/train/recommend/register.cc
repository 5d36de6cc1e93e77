#include "train/recommend/register.h"

#include <memory>

#include "train/recommend/recommend_model.h"
#include "train/recommend/recommend_trainer.h"

namespace tsml::train::recommend {

void RegisterRecommendation(TrainerRegistry& trainers, PredictorRegistry& predictors) {
  trainers.Register(
      "recommendation", [] { return std::make_unique<RecommendTrainer>(); },
      RecommendHyperparams());
  predictors.Register("recommendation", LoadRecommendPredictor);
}

}  // namespace tsml::train::recommend
