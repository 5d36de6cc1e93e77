// Item-based k-nearest-neighbour recommendations (Sarwar et al., "Item-based collaborative
// filtering recommendation algorithms", WWW 2001; Deshpande & Karypis, TOIS 2004): cosine
// similarity between the items' user columns of the weighted interaction matrix, each item
// keeping its `neighbors` most similar items. A user's score for item j is
// Σ_{i seen by the user} w_ui · sim(i, j).
#ifndef TSML_TRAIN_RECOMMEND_ITEM_KNN_H_
#define TSML_TRAIN_RECOMMEND_ITEM_KNN_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "common/cancellation.h"
#include "train/recommend/als.h"

namespace tsml::train::recommend {

// Each item's neighbours, most similar first: index/similarity[ptr[i], ptr[i+1]).
struct ItemNeighbors {
  int32_t items = 0;
  std::vector<int64_t> ptr = {0};
  std::vector<int32_t> index;
  std::vector<float> similarity;
};

struct ItemKnnOptions {
  int neighbors = 50;
  int threads = 1;
};

// `user_items` holds the weights (users × items). Cost: Σ over users of (items per user)².
// Errors: InvalidArgument (neighbors < 1, empty matrix), Cancelled, ResourceExhausted.
absl::StatusOr<ItemNeighbors> BuildItemNeighbors(const SparseMatrix& user_items,
                                                 const ItemKnnOptions& options,
                                                 const common::CancellationToken* cancel = nullptr);

// Adds Σ_i weights[i] · sim(items[i], j) to scores[j] (scores has nb.items entries).
void AddNeighborScores(const ItemNeighbors& nb, const int32_t* items, const float* weights,
                       int64_t n, float* scores);

}  // namespace tsml::train::recommend

#endif  // TSML_TRAIN_RECOMMEND_ITEM_KNN_H_
