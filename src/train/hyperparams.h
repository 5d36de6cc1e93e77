// Hyperparameter schemas per model type: documented types, ranges and defaults, validated at
// submission (unknown or out-of-range → 400) and filled in for the trainer.
#ifndef TSML_TRAIN_HYPERPARAMS_H_
#define TSML_TRAIN_HYPERPARAMS_H_

#include <optional>
#include <string>
#include <vector>

#include "common/errors.h"
#include "common/json_util.h"

namespace tsml::train {

struct HyperparamSpec {
  enum class Type { kInt, kNumber, kBool, kEnum, kString, kStringList };
  std::string name;
  Type type = Type::kNumber;
  double min = 0;  // kInt / kNumber
  double max = 0;
  Json default_value;                 // null: no default (optional)
  std::vector<std::string> choices;   // kEnum
  std::string description;
};

// Checks `hyperparameters` against `specs` (every error reported, field names prefixed with
// "hyperparameters."), including the shared `tuning` object ({trials 1–200,
// timeBudgetSeconds 1–86400}). Returns the object with defaults filled in.
Json ValidateHyperparameters(const std::vector<HyperparamSpec>& specs, const Json& given,
                             common::ValidationErrors& errors);

// Markdown table of `specs` (docs/models.md is generated from these).
std::string HyperparamTable(const std::vector<HyperparamSpec>& specs);

}  // namespace tsml::train

#endif  // TSML_TRAIN_HYPERPARAMS_H_
