// The `recommendation` model type (CONTRACT §7): user × item interactions from a source with
// user_id and item_id (user_events by default; bookings and reviews work too), weighted by
// event type (view 1 < click 2 < wishlist 3 < book 5), by `rating` where the source has one, by
// a numeric `trainingData.target` column, or 1 per row. Implicit-feedback ALS (als.h) by
// default, item-kNN (item_knn.h) with `algorithm: "item_knn"`; evaluated against the
// most-popular-items baseline on the same held-out users (docs/models/recommendation.md).
#ifndef TSML_TRAIN_RECOMMEND_RECOMMEND_TRAINER_H_
#define TSML_TRAIN_RECOMMEND_RECOMMEND_TRAINER_H_

#include <string_view>
#include <vector>

#include "train/hyperparams.h"
#include "train/trainer.h"

namespace tsml::train::recommend {

std::vector<HyperparamSpec> RecommendHyperparams();

// Weight of an event type on the implicit-feedback ladder (case-insensitive; synonyms such as
// "purchase" → book); 1 for an unknown type, with *known = false.
float EventTypeWeight(std::string_view event_type, bool* known = nullptr);

// Validation strategies: train_test_split holds out each user's latest `testSize` share of
// distinct items (users with ≥ 2); k_fold splits every user's items into `folds` folds;
// time_series_split trains on interactions before a time cut and tests on the items users
// first touch after it (expanding windows). The deployed model is refit on every interaction.
class RecommendTrainer final : public Trainer {
 public:
  absl::StatusOr<TrainResult> Train(const TrainSpec& spec, TrainContext& ctx) override;
};

}  // namespace tsml::train::recommend

#endif  // TSML_TRAIN_RECOMMEND_RECOMMEND_TRAINER_H_
