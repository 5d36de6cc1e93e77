#include "train/recommend/recommend_model.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <new>
#include <numeric>
#include <queue>

#include "common/strings.h"
#include "train/bundle.h"

namespace tsml::train::recommend {
namespace {

using common::StrCat;

constexpr int kMaxK = 1000;

// json[key] as n values of T (train::DecodeArray), with the recommender's error messages.
template <typename T>
absl::StatusOr<std::vector<T>> DecodeMember(const Json& json, std::string_view key, size_t n) {
  auto it = json.find(std::string(key));
  if (it == json.end() || !it->is_string()) {
    return absl::InvalidArgumentError(StrCat("recommender model: '", key, "' is missing"));
  }
  auto values = DecodeArray<T>(it->get_ref<const std::string&>(), n);
  if (!values.ok()) {
    return absl::InvalidArgumentError(
        StrCat("recommender model: '", key, "' does not hold ", n, " values"));
  }
  return values;
}

absl::StatusOr<int64_t> ReadCount(const Json& json, std::string_view key, int64_t max) {
  auto it = json.find(std::string(key));
  if (it == json.end() || !it->is_number_integer() || it->get<int64_t>() < 0 ||
      it->get<int64_t>() > max) {
    return absl::InvalidArgumentError(
        StrCat("recommender model: '", key, "' must be an integer from 0 to ", max));
  }
  return it->get<int64_t>();
}

// Rebuilds CSR offsets from per-row counts; checks columns are in range and ascending.
absl::StatusOr<std::vector<int64_t>> Offsets(const std::vector<int32_t>& counts,
                                             const std::vector<int32_t>& index, int32_t cols,
                                             bool ascending, std::string_view what) {
  std::vector<int64_t> ptr(counts.size() + 1, 0);
  for (size_t r = 0; r < counts.size(); ++r) {
    if (counts[r] < 0) return absl::InvalidArgumentError(StrCat("recommender model: bad ", what));
    ptr[r + 1] = ptr[r] + counts[r];
  }
  if (ptr.back() != static_cast<int64_t>(index.size())) {
    return absl::InvalidArgumentError(StrCat("recommender model: ", what, " counts do not add up"));
  }
  for (size_t r = 0; r < counts.size(); ++r) {
    for (int64_t e = ptr[r]; e < ptr[r + 1]; ++e) {
      if (index[e] < 0 || index[e] >= cols ||
          (ascending && e > ptr[r] && index[e] <= index[e - 1])) {
        return absl::InvalidArgumentError(StrCat("recommender model: bad ", what, " index"));
      }
    }
  }
  return ptr;
}

bool AllFinite(const std::vector<float>& v) {
  return std::all_of(v.begin(), v.end(), [](float x) { return std::isfinite(x); });
}

// Keeps the best k of a stream of (score, item) where "best" is a higher score, then a more
// popular item (lower rank).
class TopKSelector {
 public:
  TopKSelector(int k, const std::vector<int32_t>& rank) : k_(static_cast<size_t>(k)), rank_(rank) {}

  void Offer(int32_t item, float score) {
    if (std::isnan(score)) score = -std::numeric_limits<float>::infinity();
    if (heap_.size() < k_) {
      heap_.push_back({item, score});
      std::push_heap(heap_.begin(), heap_.end(), cmp_);
    } else if (k_ > 0 && Better({item, score}, heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), cmp_);
      heap_.back() = {item, score};
      std::push_heap(heap_.begin(), heap_.end(), cmp_);
    }
  }
  std::vector<ScoredItem> Take() {
    std::sort(heap_.begin(), heap_.end(), cmp_);
    return std::move(heap_);
  }

 private:
  bool Better(const ScoredItem& a, const ScoredItem& b) const {
    return a.score != b.score ? a.score > b.score : rank_[a.item] < rank_[b.item];
  }
  struct Cmp {  // max-heap on "worse": the front is the worst kept item
    const TopKSelector* self;
    bool operator()(const ScoredItem& a, const ScoredItem& b) const { return self->Better(a, b); }
  };

  size_t k_;
  const std::vector<int32_t>& rank_;
  Cmp cmp_{this};
  std::vector<ScoredItem> heap_;
};

// Offers every item but the (sorted) seen ones.
void OfferUnseen(TopKSelector& top, const float* scores, int32_t items, const int32_t* seen,
                 const int32_t* seen_end) {
  for (int32_t j = 0; j < items; ++j) {
    while (seen != seen_end && *seen < j) ++seen;
    if (seen != seen_end && *seen == j) continue;
    top.Offer(j, scores[j]);
  }
}

}  // namespace

std::string_view AlgorithmName(Algorithm a) { return a == Algorithm::kAls ? "als" : "item_knn"; }

RecommenderModel RecommenderModel::FromAls(AlsFactors factors,
                                           std::shared_ptr<const SparseMatrix> seen) {
  RecommenderModel m;
  m.algorithm_ = Algorithm::kAls;
  m.factors_ = std::move(factors);
  m.seen_ = std::move(seen);
  m.Finish();
  return m;
}

RecommenderModel RecommenderModel::FromItemKnn(ItemNeighbors neighbors,
                                               std::shared_ptr<const SparseMatrix> seen) {
  RecommenderModel m;
  m.algorithm_ = Algorithm::kItemKnn;
  m.neighbors_ = std::move(neighbors);
  m.seen_ = std::move(seen);
  m.Finish();
  return m;
}

void RecommenderModel::Finish() {
  const int32_t items = seen_->cols;
  std::vector<int64_t> count(static_cast<size_t>(items), 0);
  for (int32_t j : seen_->index) ++count[j];
  popularity_.assign(static_cast<size_t>(items), 0);
  const double users = std::max<int32_t>(1, seen_->rows);
  for (int32_t j = 0; j < items; ++j) popularity_[j] = static_cast<float>(count[j] / users);
  popular_order_.resize(static_cast<size_t>(items));
  std::iota(popular_order_.begin(), popular_order_.end(), 0);
  std::stable_sort(popular_order_.begin(), popular_order_.end(),
                   [&](int32_t a, int32_t b) { return count[a] > count[b]; });
  popular_rank_.assign(static_cast<size_t>(items), 0);
  for (int32_t r = 0; r < items; ++r) popular_rank_[popular_order_[r]] = r;
}

absl::StatusOr<std::vector<std::vector<ScoredItem>>> RecommenderModel::Recommend(
    std::span<const int32_t> users, int k, int threads,
    const common::CancellationToken* cancel) const {
  if (k < 1) return absl::InvalidArgumentError("k must be >= 1");
  const int32_t items = num_items();
  for (int32_t u : users) {
    if (u < 0 || u >= num_users()) return absl::InvalidArgumentError("unknown user index");
  }
  std::vector<std::vector<ScoredItem>> out(users.size());
  const SparseMatrix& seen = *seen_;
  try {
    if (algorithm_ == Algorithm::kAls) {
      // Blocks of users scored by one product (block × f)(f × items), ≤ ~16 MB of scores.
      const int64_t block = std::clamp<int64_t>(4'000'000 / std::max<int32_t>(1, items), 1, 256);
      const int64_t blocks = (static_cast<int64_t>(users.size()) + block - 1) / block;
      const int f = static_cast<int>(factors_.items.cols());
      absl::Status s = ParallelFor(blocks, threads, 1, cancel, [&](int64_t b0, int64_t b1) {
        FactorMatrix ub;
        FactorMatrix scores;
        for (int64_t b = b0; b < b1; ++b) {
          const int64_t first = b * block;
          const int64_t n = std::min<int64_t>(block, static_cast<int64_t>(users.size()) - first);
          ub.resize(n, f);
          for (int64_t r = 0; r < n; ++r) ub.row(r) = factors_.users.row(users[first + r]);
          scores.resize(n, items);
          scores.noalias() = ub * factors_.items.transpose();
          for (int64_t r = 0; r < n; ++r) {
            const int32_t u = users[first + r];
            TopKSelector top(k, popular_rank_);
            OfferUnseen(top, scores.row(r).data(), items, seen.index.data() + seen.ptr[u],
                        seen.index.data() + seen.ptr[u + 1]);
            out[first + r] = top.Take();
          }
        }
      });
      if (!s.ok()) return s;
    } else {
      absl::Status s = ParallelFor(
          static_cast<int64_t>(users.size()), threads, 64, cancel, [&](int64_t begin, int64_t end) {
            std::vector<float> scores(static_cast<size_t>(items), 0);
            for (int64_t r = begin; r < end; ++r) {
              const int32_t u = users[r];
              std::fill(scores.begin(), scores.end(), 0.0f);
              const int64_t lo = seen.ptr[u], n = seen.ptr[u + 1] - lo;
              AddNeighborScores(neighbors_, seen.index.data() + lo, seen.value.data() + lo, n,
                                scores.data());
              TopKSelector top(k, popular_rank_);
              OfferUnseen(top, scores.data(), items, seen.index.data() + lo,
                          seen.index.data() + lo + n);
              out[r] = top.Take();
            }
          });
      if (!s.ok()) return s;
    }
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError("out of memory while scoring recommendations");
  }
  return out;
}

std::vector<ScoredItem> RecommenderModel::Popular(int k, int32_t user) const {
  std::vector<ScoredItem> out;
  const int32_t* seen = nullptr;
  const int32_t* seen_end = nullptr;
  if (user >= 0 && user < num_users()) {
    seen = seen_->index.data() + seen_->ptr[user];
    seen_end = seen_->index.data() + seen_->ptr[user + 1];
  }
  for (int32_t j : popular_order_) {
    if (static_cast<int>(out.size()) >= k) break;
    if (seen != seen_end && std::binary_search(seen, seen_end, j)) continue;
    out.push_back({j, popularity_[j]});
  }
  return out;
}

std::vector<ScoredItem> RecommenderModel::SimilarItems(int32_t item, int k) const {
  std::vector<ScoredItem> out;
  if (item < 0 || item >= num_items() || k < 1) return out;
  if (algorithm_ == Algorithm::kItemKnn) {
    for (int64_t e = neighbors_.ptr[item]; e < neighbors_.ptr[item + 1]; ++e) {
      if (static_cast<int>(out.size()) >= k) break;
      out.push_back({neighbors_.index[e], neighbors_.similarity[e]});
    }
    return out;
  }
  const FactorMatrix& v = factors_.items;
  const Eigen::VectorXf norms = v.rowwise().norm();
  const Eigen::VectorXf dots = v * v.row(item).transpose();
  std::vector<float> cos(static_cast<size_t>(num_items()), 0);
  for (int32_t j = 0; j < num_items(); ++j) {
    const float d = norms[j] * norms[item];
    cos[j] = d > 0 ? dots[j] / d : 0;
  }
  TopKSelector top(k, popular_rank_);
  const int32_t self[] = {item};
  OfferUnseen(top, cos.data(), num_items(), self, self + 1);
  return top.Take();
}

Json RecommenderModel::ToJson() const {
  const SparseMatrix& s = *seen_;
  std::vector<int32_t> counts(static_cast<size_t>(s.rows));
  for (int32_t u = 0; u < s.rows; ++u) counts[u] = static_cast<int32_t>(s.RowSize(u));
  Json j = {{"algorithm", std::string(AlgorithmName(algorithm_))},
            {"numUsers", s.rows},
            {"numItems", s.cols},
            {"seenCounts", EncodeArray(counts.data(), counts.size())},
            {"seenItems", EncodeArray(s.index.data(), s.index.size())}};
  if (algorithm_ == Algorithm::kAls) {
    j["factors"] = factors_.users.cols();
    j["userFactors"] =
        EncodeArray(factors_.users.data(), static_cast<size_t>(factors_.users.size()));
    j["itemFactors"] =
        EncodeArray(factors_.items.data(), static_cast<size_t>(factors_.items.size()));
  } else {
    j["seenWeights"] = EncodeArray(s.value.data(), s.value.size());
    std::vector<int32_t> nc(static_cast<size_t>(neighbors_.items));
    for (int32_t i = 0; i < neighbors_.items; ++i) {
      nc[i] = static_cast<int32_t>(neighbors_.ptr[i + 1] - neighbors_.ptr[i]);
    }
    j["neighborCounts"] = EncodeArray(nc.data(), nc.size());
    j["neighborItems"] = EncodeArray(neighbors_.index.data(), neighbors_.index.size());
    j["neighborSimilarity"] =
        EncodeArray(neighbors_.similarity.data(), neighbors_.similarity.size());
  }
  return j;
}

absl::StatusOr<RecommenderModel> RecommenderModel::FromJson(const Json& json) {
  if (!json.is_object()) return absl::InvalidArgumentError("recommender model: not an object");
  try {
    const std::string algorithm = json.value("algorithm", "");
    if (algorithm != "als" && algorithm != "item_knn") {
      return absl::InvalidArgumentError("recommender model: unknown algorithm");
    }
    constexpr int64_t kMax = std::numeric_limits<int32_t>::max() - 1;
    auto users = ReadCount(json, "numUsers", kMax);
    if (!users.ok()) return users.status();
    auto items = ReadCount(json, "numItems", kMax);
    if (!items.ok()) return items.status();
    auto counts = DecodeMember<int32_t>(json, "seenCounts", static_cast<size_t>(*users));
    if (!counts.ok()) return counts.status();
    int64_t nnz = 0;
    for (int32_t c : *counts) nnz += std::max(0, c);
    auto index = DecodeMember<int32_t>(json, "seenItems", static_cast<size_t>(nnz));
    if (!index.ok()) return index.status();
    auto ptr = Offsets(*counts, *index, static_cast<int32_t>(*items), true, "seen item");
    if (!ptr.ok()) return ptr.status();
    auto seen = std::make_shared<SparseMatrix>();
    seen->rows = static_cast<int32_t>(*users);
    seen->cols = static_cast<int32_t>(*items);
    seen->ptr = std::move(*ptr);
    seen->index = std::move(*index);
    if (algorithm == "als") {
      seen->value.assign(seen->index.size(), 1.0f);
      auto f = ReadCount(json, "factors", 4096);
      if (!f.ok()) return f.status();
      auto uf = DecodeMember<float>(json, "userFactors", static_cast<size_t>(*users * *f));
      if (!uf.ok()) return uf.status();
      auto itf = DecodeMember<float>(json, "itemFactors", static_cast<size_t>(*items * *f));
      if (!itf.ok()) return itf.status();
      if (!AllFinite(*uf) || !AllFinite(*itf)) {
        return absl::InvalidArgumentError("recommender model: non-finite factors");
      }
      AlsFactors factors;
      factors.users = Eigen::Map<const FactorMatrix>(uf->data(), *users, *f);
      factors.items = Eigen::Map<const FactorMatrix>(itf->data(), *items, *f);
      return FromAls(std::move(factors), std::move(seen));
    }
    auto weights = DecodeMember<float>(json, "seenWeights", seen->index.size());
    if (!weights.ok()) return weights.status();
    if (!AllFinite(*weights)) return absl::InvalidArgumentError("recommender model: bad weights");
    seen->value = std::move(*weights);
    auto nc = DecodeMember<int32_t>(json, "neighborCounts", static_cast<size_t>(*items));
    if (!nc.ok()) return nc.status();
    int64_t nn = 0;
    for (int32_t c : *nc) nn += std::max(0, c);
    auto ni = DecodeMember<int32_t>(json, "neighborItems", static_cast<size_t>(nn));
    if (!ni.ok()) return ni.status();
    auto ns = DecodeMember<float>(json, "neighborSimilarity", static_cast<size_t>(nn));
    if (!ns.ok()) return ns.status();
    auto nptr = Offsets(*nc, *ni, static_cast<int32_t>(*items), false, "neighbor");
    if (!nptr.ok()) return nptr.status();
    if (!AllFinite(*ns)) return absl::InvalidArgumentError("recommender model: bad similarity");
    ItemNeighbors nb;
    nb.items = static_cast<int32_t>(*items);
    nb.ptr = std::move(*nptr);
    nb.index = std::move(*ni);
    nb.similarity = std::move(*ns);
    return FromItemKnn(std::move(nb), std::move(seen));
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError("out of memory loading the recommender model");
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(StrCat("recommender model: ", e.what()));
  }
}

// ---- Predictor ----------------------------------------------------------------------------

RecommendPredictor::RecommendPredictor(RecommenderModel model, std::vector<std::string> user_ids,
                                       std::vector<std::string> item_ids, int default_k)
    : model_(std::move(model)),
      user_ids_(std::move(user_ids)),
      item_ids_(std::move(item_ids)),
      default_k_(std::clamp(default_k, 1, kMaxK)) {
  user_index_.reserve(user_ids_.size());
  for (size_t i = 0; i < user_ids_.size(); ++i)
    user_index_.emplace(user_ids_[i], static_cast<int32_t>(i));
  item_index_.reserve(item_ids_.size());
  for (size_t i = 0; i < item_ids_.size(); ++i)
    item_index_.emplace(item_ids_[i], static_cast<int32_t>(i));
}

Json EncodeRecommender(const RecommenderModel& model, const std::vector<std::string>& user_ids,
                       const std::vector<std::string>& item_ids) {
  Json j = model.ToJson();
  j["userIds"] = user_ids;
  j["itemIds"] = item_ids;
  return j;
}

absl::StatusOr<std::unique_ptr<RecommendPredictor>> RecommendPredictor::FromBundle(
    const Json& bundle) {
  if (!bundle.is_object() || !bundle.contains("model") || !bundle["model"].is_object()) {
    return absl::InvalidArgumentError("recommender bundle has no model");
  }
  const Json& m = bundle["model"];
  auto model = RecommenderModel::FromJson(m);
  if (!model.ok()) return model.status();
  auto ids = [](const Json& j, std::string_view key,
                size_t n) -> absl::StatusOr<std::vector<std::string>> {
    auto it = j.find(std::string(key));
    if (it == j.end() || !it->is_array() || it->size() != n) {
      return absl::InvalidArgumentError(
          StrCat("recommender model: '", key, "' must list ", n, " ids"));
    }
    std::vector<std::string> out;
    out.reserve(n);
    for (const Json& e : *it) {
      if (!e.is_string()) return absl::InvalidArgumentError(StrCat("recommender model: bad ", key));
      out.push_back(e.get<std::string>());
    }
    return out;
  };
  auto users = ids(m, "userIds", static_cast<size_t>(model->num_users()));
  if (!users.ok()) return users.status();
  auto items = ids(m, "itemIds", static_cast<size_t>(model->num_items()));
  if (!items.ok()) return items.status();
  int default_k = 10;
  if (const auto h = bundle.find("hyperparameters"); h != bundle.end() && h->is_object()) {
    const auto k = h->find("k");
    if (k != h->end() && k->is_number_integer()) {
      default_k = static_cast<int>(std::clamp<int64_t>(k->get<int64_t>(), 1, kMaxK));
    }
  }
  return std::make_unique<RecommendPredictor>(std::move(*model), std::move(*users),
                                              std::move(*items), default_k);
}

absl::StatusOr<std::unique_ptr<RecommendPredictor>> RecommendPredictor::Load(
    const std::string& path) {
  auto bundle = ReadBundle(path);
  if (!bundle.ok()) return bundle.status();
  return FromBundle(*bundle);
}

absl::StatusOr<std::unique_ptr<Predictor>> LoadRecommendPredictor(const std::string& path) {
  auto p = RecommendPredictor::Load(path);
  if (!p.ok()) return p.status();
  return std::unique_ptr<Predictor>(std::move(*p));
}

namespace {

// Reads an optional k (1–kMaxK) from `obj`; `fallback` when absent or null.
absl::StatusOr<int> ReadK(const Json& obj, std::string_view field, int fallback) {
  auto it = obj.find("k");
  if (it == obj.end() || it->is_null()) return fallback;
  const bool integral =
      it->is_number_integer() || (it->is_number_float() && std::isfinite(it->get<double>()) &&
                                  it->get<double>() == std::floor(it->get<double>()));
  if (!integral || it->get<double>() < 1 || it->get<double>() > kMaxK) {
    return absl::InvalidArgumentError(StrCat(field, " must be an integer from 1 to ", kMaxK));
  }
  return static_cast<int>(it->get<double>());
}

}  // namespace

absl::StatusOr<Json> RecommendPredictor::Predict(const Json& instances, const Json& options) const {
  if (!instances.is_array()) return absl::InvalidArgumentError("instances must be an array");
  if (!options.is_null() && !options.is_object()) {
    return absl::InvalidArgumentError("options must be an object");
  }
  int default_k = default_k_;
  if (options.is_object()) {
    auto k = ReadK(options, "options.k", default_k);
    if (!k.ok()) return k.status();
    default_k = *k;
  }
  struct Request {
    std::string user_id;
    int32_t user = -1;
    int k = 10;
  };
  std::vector<Request> requests(instances.size());
  std::vector<int32_t> known;
  int max_k = 1;
  for (size_t i = 0; i < instances.size(); ++i) {
    const Json& inst = instances[i];
    const std::string where = StrCat("instances[", i, "]");
    if (!inst.is_object()) return absl::InvalidArgumentError(StrCat(where, " must be an object"));
    auto it = inst.find("userId");
    std::string key = "userId";
    if (it == inst.end()) {
      it = inst.find("user_id");
      key = "user_id";
    }
    if (it == inst.end() || !it->is_string()) {
      return absl::InvalidArgumentError(StrCat(where, ".", key, " must be a string (the user id)"));
    }
    Request& r = requests[i];
    r.user_id = it->get<std::string>();
    auto k = ReadK(inst, StrCat(where, ".k"), default_k);
    if (!k.ok()) return k.status();
    r.k = *k;
    auto u = user_index_.find(r.user_id);
    if (u != user_index_.end()) {
      r.user = u->second;
      known.push_back(r.user);
      max_k = std::max(max_k, r.k);
    }
  }
  std::sort(known.begin(), known.end());
  known.erase(std::unique(known.begin(), known.end()), known.end());
  auto recs = model_.Recommend(known, max_k);
  if (!recs.ok()) return recs.status();
  auto items_json = [&](const std::vector<ScoredItem>& items, int k) {
    Json arr = Json::array();
    for (const ScoredItem& s : items) {
      if (static_cast<int>(arr.size()) >= k) break;
      arr.push_back({{"itemId", item_ids_[s.item]}, {"score", s.score}});
    }
    return arr;
  };
  Json out = Json::array();
  for (const Request& r : requests) {
    if (r.user < 0) {
      out.push_back({{"userId", r.user_id},
                     {"items", items_json(model_.Popular(r.k), r.k)},
                     {"coldStart", true}});
      continue;
    }
    const size_t pos =
        static_cast<size_t>(std::lower_bound(known.begin(), known.end(), r.user) - known.begin());
    out.push_back(
        {{"userId", r.user_id}, {"items", items_json((*recs)[pos], r.k)}, {"coldStart", false}});
  }
  return out;
}

absl::StatusOr<Json> RecommendPredictor::SimilarItems(std::string_view item_id, int k) const {
  if (k < 1 || k > kMaxK) return absl::InvalidArgumentError(StrCat("k must be from 1 to ", kMaxK));
  auto it = item_index_.find(std::string(item_id));
  if (it == item_index_.end()) {
    return absl::NotFoundError(StrCat("unknown item '", item_id, "'"));
  }
  Json arr = Json::array();
  for (const ScoredItem& s : model_.SimilarItems(it->second, k)) {
    arr.push_back({{"itemId", item_ids_[s.item]}, {"score", s.score}});
  }
  return arr;
}

absl::StatusOr<NamedFactors> RecommendPredictor::Factors() const {
  if (model_.algorithm() != Algorithm::kAls) {
    return absl::FailedPreconditionError("only an ALS model has factors to warm-start from");
  }
  return NamedFactors{user_ids_, item_ids_, model_.factors()};
}

}  // namespace tsml::train::recommend
