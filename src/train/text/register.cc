#include "train/text/register.h"

#include <memory>
#include <string>

#include "train/text/text_trainer.h"

namespace tsml::train::text {

void RegisterText(TrainerRegistry& trainers, PredictorRegistry& predictors) {
  trainers.Register(
      std::string(kModelType), [] { return std::make_unique<TextTrainer>(); }, TextHyperparams());
  predictors.Register(std::string(kModelType),
                      [](const std::string& path) { return TextPredictor::Load(path); });
}

}  // namespace tsml::train::text
