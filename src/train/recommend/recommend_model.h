// A trained recommender (ALS factors or item neighbours) with the items each known user has
// already seen and the training popularity of every item, its serialization into the model
// bundle, and the `recommendation` Predictor built on it.
#ifndef TSML_TRAIN_RECOMMEND_RECOMMEND_MODEL_H_
#define TSML_TRAIN_RECOMMEND_RECOMMEND_MODEL_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "common/cancellation.h"
#include "common/json_util.h"
#include "train/predictor.h"
#include "train/recommend/als.h"
#include "train/recommend/item_knn.h"

namespace tsml::train::recommend {

struct ScoredItem {
  int32_t item = 0;
  float score = 0;
};

enum class Algorithm { kAls, kItemKnn };
std::string_view AlgorithmName(Algorithm a);  // "als", "item_knn"

// Immutable after construction; every method is const and thread-safe.
class RecommenderModel {
 public:
  // `seen` is the users × items weight matrix the model was trained on: its rows are the known
  // users, its entries are excluded from their recommendations, and its column counts give the
  // popularity ranking. Factors' rows must match seen's shape (programmer error otherwise).
  static RecommenderModel FromAls(AlsFactors factors, std::shared_ptr<const SparseMatrix> seen);
  static RecommenderModel FromItemKnn(ItemNeighbors neighbors,
                                      std::shared_ptr<const SparseMatrix> seen);

  Algorithm algorithm() const { return algorithm_; }
  int32_t num_users() const { return seen_->rows; }
  int32_t num_items() const { return seen_->cols; }
  const SparseMatrix& seen() const { return *seen_; }
  const AlsFactors& factors() const { return factors_; }         // ALS only
  const ItemNeighbors& neighbors() const { return neighbors_; }  // item_knn only
  // Share of known users who interacted with each item.
  const std::vector<float>& popularity() const { return popularity_; }

  // The top `k` items for each user index (< num_users()), best first, excluding the user's
  // seen items; ties (and items the model cannot score) are ordered by popularity. Batched:
  // ALS scores a block of users with one matrix product. Cancelled when `cancel` is set.
  absl::StatusOr<std::vector<std::vector<ScoredItem>>> Recommend(
      std::span<const int32_t> users, int k, int threads = 1,
      const common::CancellationToken* cancel = nullptr) const;

  // The `k` most popular items (score: popularity share), skipping `user`'s seen items when
  // user >= 0: the cold-start answer and the evaluation baseline.
  std::vector<ScoredItem> Popular(int k, int32_t user = -1) const;

  // The `k` items most similar to `item`: cosine of item factors (ALS) or the stored
  // neighbours (item_knn). Empty for an item index out of range.
  std::vector<ScoredItem> SimilarItems(int32_t item, int k) const;

  // The bundle's "model" object without ids: algorithm, shapes, base64 arrays (float32/int32
  // little-endian). FromJson checks shapes, ranges and finiteness (InvalidArgument).
  Json ToJson() const;
  static absl::StatusOr<RecommenderModel> FromJson(const Json& json);

 private:
  RecommenderModel() = default;
  void Finish();  // popularity and its order from seen_

  Algorithm algorithm_ = Algorithm::kAls;
  AlsFactors factors_;
  ItemNeighbors neighbors_;
  std::shared_ptr<const SparseMatrix> seen_;
  std::vector<float> popularity_;
  std::vector<int32_t> popular_order_;  // items by popularity, most popular first
  std::vector<int32_t> popular_rank_;   // item → position in popular_order_
};

// The `recommendation` predictor: instances {"userId": "u1"} (or "user_id"), optional "k";
// options {"k": N} (1–1000; default: the k the model was trained with, else 10). Returns {"userId",
// "items": [{"itemId", "score"}], "coldStart"} per instance; an unknown user gets the most popular
// items with coldStart true. InvalidArgument names the instance and field for a wrong type or
// range.
class RecommendPredictor final : public Predictor {
 public:
  RecommendPredictor(RecommenderModel model, std::vector<std::string> user_ids,
                     std::vector<std::string> item_ids, int default_k = 10);

  // From a bundle (ReadBundle's JSON) or a bundle file. InvalidArgument for a malformed model.
  static absl::StatusOr<std::unique_ptr<RecommendPredictor>> FromBundle(const Json& bundle);
  static absl::StatusOr<std::unique_ptr<RecommendPredictor>> Load(const std::string& path);

  absl::StatusOr<Json> Predict(const Json& instances, const Json& options) const override;
  std::vector<std::string> InputColumns() const override { return {"userId"}; }

  // [{"itemId", "score"}] of the `k` items most similar to `item_id`; NotFound when unknown.
  absl::StatusOr<Json> SimilarItems(std::string_view item_id, int k) const;

  const RecommenderModel& model() const { return model_; }
  const std::vector<std::string>& user_ids() const { return user_ids_; }
  const std::vector<std::string>& item_ids() const { return item_ids_; }
  // The model's factors with their ids (ALS only; for a warm-started retrain).
  absl::StatusOr<NamedFactors> Factors() const;

 private:
  RecommenderModel model_;
  std::vector<std::string> user_ids_;
  std::vector<std::string> item_ids_;
  int default_k_;
  std::unordered_map<std::string, int32_t> user_index_;
  std::unordered_map<std::string, int32_t> item_index_;
};

// The bundle's "model" object: RecommenderModel::ToJson() plus "userIds" and "itemIds".
Json EncodeRecommender(const RecommenderModel& model, const std::vector<std::string>& user_ids,
                       const std::vector<std::string>& item_ids);

// PredictorRegistry loader.
absl::StatusOr<std::unique_ptr<Predictor>> LoadRecommendPredictor(const std::string& path);

}  // namespace tsml::train::recommend

#endif  // TSML_TRAIN_RECOMMEND_RECOMMEND_MODEL_H_
