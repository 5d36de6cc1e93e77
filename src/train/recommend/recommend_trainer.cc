#include "train/recommend/recommend_trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <new>
#include <numeric>
#include <optional>
#include <thread>
#include <unordered_map>

#include "common/errors.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "data/catalog.h"
#include "data/filters.h"
#include "train/bundle.h"
#include "train/eval/charts.h"
#include "train/eval/metrics.h"
#include "train/recommend/als.h"
#include "train/recommend/item_knn.h"
#include "train/recommend/recommend_model.h"

namespace tsml::train::recommend {
namespace {

using common::StrCat;
using SteadyClock = std::chrono::steady_clock;

constexpr int64_t kPageRows = 20000;
constexpr int kEarlyStoppingMinEpochs = 6;  // early stopping applies when epochs >= this
constexpr int kPatience = 3;                // epochs without a better validation ndcg
constexpr int kValidationUsers = 500;       // users in the early-stopping slice
constexpr int kMinValidationUsers = 20;
constexpr int64_t kColdMax = 4;     // users with ≤ 4 training items are "cold"
constexpr int64_t kMediumMax = 19;  // 5–19 "medium", ≥ 20 "heavy"

// ---- Parameters ---------------------------------------------------------------------------

struct Params {
  std::string algorithm = "als";
  int factors = 32;
  double regularization = 100;
  double alpha = 10;
  int epochs = 15;
  int cg_steps = 3;
  int k = 10;
  int neighbors = 50;
  double test_size = 0.2;
  int folds = 5;
  bool early_stopping = true;
  uint64_t seed = 42;

  Json ToJson() const {
    if (algorithm == "item_knn") {
      return {{"algorithm", algorithm}, {"neighbors", neighbors}, {"k", k}, {"seed", seed}};
    }
    return {{"algorithm", algorithm},
            {"factors", factors},
            {"regularization", regularization},
            {"alpha", alpha},
            {"epochs", epochs},
            {"cgSteps", cg_steps},
            {"earlyStopping", early_stopping},
            {"k", k},
            {"seed", seed}};
  }
};

Params ParamsFrom(const Json& h) {
  Params p;
  if (!h.is_object()) return p;
  p.algorithm = h.value("algorithm", p.algorithm);
  p.factors = h.value("factors", p.factors);
  p.regularization = h.value("regularization", p.regularization);
  p.alpha = h.value("alpha", p.alpha);
  p.epochs = h.value("epochs", p.epochs);
  p.cg_steps = h.value("cgSteps", p.cg_steps);
  p.k = h.value("k", p.k);
  p.neighbors = h.value("neighbors", p.neighbors);
  p.test_size = h.value("testSize", p.test_size);
  p.folds = h.value("folds", p.folds);
  p.early_stopping = h.value("earlyStopping", p.early_stopping);
  p.seed = h.value("seed", static_cast<int64_t>(p.seed));
  return p;
}

AlsOptions AlsOptionsOf(const Params& p, int threads) {
  AlsOptions o;
  o.factors = p.factors;
  o.regularization = static_cast<float>(p.regularization);
  o.alpha = static_cast<float>(p.alpha);
  o.epochs = p.epochs;
  o.cg_steps = p.cg_steps;
  o.threads = threads;
  o.seed = p.seed;
  return o;
}

uint64_t Mix(uint64_t a, uint64_t b) {
  uint64_t z = a * 0x9e3779b97f4a7c15ULL + b + 0x632be59bd9b4e019ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// ---- Progress -----------------------------------------------------------------------------

// Monotonic progress with an ETA extrapolated from the elapsed time of the current phase.
class Progress {
 public:
  explicit Progress(TrainContext& ctx) : ctx_(ctx) {}
  void Report(double pct, std::string_view stage,
              std::optional<common::Millis> eta = std::nullopt) {
    pct = std::clamp(pct, last_, 100.0);
    last_ = pct;
    if (ctx_.progress) ctx_.progress->Report(pct, stage, eta);
  }
  // `done` of `total` units of a phase spanning [from, to], started at `phase_start`.
  void Phase(double from, double to, double done, double total, std::string_view stage,
             SteadyClock::time_point phase_start) {
    const double frac = total > 0 ? std::clamp(done / total, 0.0, 1.0) : 1.0;
    std::optional<common::Millis> eta;
    if (ctx_.clock && done > 0 && frac < 1) {
      const double elapsed =
          std::chrono::duration<double, std::milli>(SteadyClock::now() - phase_start).count();
      eta = ctx_.clock->NowMillis() +
            static_cast<common::Millis>(elapsed / done * (total - done) * 1.1 + 500);
    }
    Report(from + (to - from) * frac, stage, eta);
  }
  double last() const { return last_; }

 private:
  TrainContext& ctx_;
  double last_ = 0;
};


// ---- Data ---------------------------------------------------------------------------------

struct Event {
  int32_t user;
  int32_t item;
  float weight;
  int64_t time;
};

struct Pair {
  int32_t user;
  int32_t item;
  float weight;
  int64_t time;  // first interaction
};

enum class WeightMode { kCount, kLadder, kNumeric };

struct Data {
  std::vector<std::string> user_ids;
  std::vector<std::string> item_ids;
  std::vector<Event> events;
  int64_t rows = 0;
  int64_t skipped_missing_id = 0;
  int64_t skipped_weight = 0;
  int64_t unknown_event_types = 0;
  std::vector<std::string> unknown_type_examples;
  std::string weight_column;
  WeightMode mode = WeightMode::kCount;
  bool has_time = false;

  std::string WeightingDescription() const {
    switch (mode) {
      case WeightMode::kLadder:
        return StrCat("'", weight_column, "' ladder: view 1, click 2, wishlist 3, book 5");
      case WeightMode::kNumeric:
        return StrCat("value of '", weight_column, "' (rows with values <= 0 are skipped)");
      case WeightMode::kCount:
        break;
    }
    return "1 per row";
  }
};

absl::StatusOr<Data> LoadData(const TrainSpec& spec, TrainContext& ctx, Progress& progress) {
  if (ctx.data_db == nullptr)
    return absl::FailedPreconditionError("no data database is configured");
  data::DataCatalog catalog(ctx.data_db);
  ASSIGN_OR_RETURN(data::ResolvedTrainingData resolved,
                   data::ResolveTrainingData(catalog, "recommendation", spec.training_data));
  const data::SourceSchema& schema = resolved.schema;
  Data d;
  // How interactions are weighted.
  if (!resolved.target.empty()) {
    const data::ColumnInfo* c = schema.Find(resolved.target);
    if (c == nullptr) return absl::InvalidArgumentError("unknown target column");
    d.weight_column = c->name;
    if (data::IsNumeric(c->type)) {
      d.mode = WeightMode::kNumeric;
    } else if (c->type == data::LogicalType::kCategorical) {
      d.mode = WeightMode::kLadder;
    } else {
      return common::ValidationError(
          "trainingData.target",
          StrCat("recommendation weights interactions by a numeric column or an event-type "
                 "column; '",
                 c->name, "' is ", data::LogicalTypeName(c->type)));
    }
  } else if (const auto* c = schema.Find("event_type");
             c != nullptr && c->type == data::LogicalType::kCategorical) {
    d.mode = WeightMode::kLadder;
    d.weight_column = c->name;
  } else if (const auto* r = schema.Find("rating"); r != nullptr && data::IsNumeric(r->type)) {
    d.mode = WeightMode::kNumeric;
    d.weight_column = r->name;
  }
  const data::ColumnInfo* created = schema.Find("created_at");
  d.has_time = created != nullptr && created->type == data::LogicalType::kTimestamp;

  std::string select = "SELECT \"_row\", \"user_id\", \"item_id\"";
  if (d.mode != WeightMode::kCount) select += ", " + data::QuoteIdent(d.weight_column);
  if (d.has_time) select += ", \"created_at\"";
  select += " FROM " + data::QuoteIdent(schema.source);
  const std::string where =
      resolved.where.sql.empty() ? " WHERE \"_row\" > ?" : resolved.where.sql + " AND \"_row\" > ?";
  const std::string page_sql = StrCat(select, where, " ORDER BY \"_row\" LIMIT ", kPageRows);

  // Up-front size check: every row becomes an event (24 B), an aggregated pair (24 B), sort
  // and hash space; ids cost their length plus map overhead (checked while loading).
  int64_t total = 0;
  {
    absl::StatusOr<store::SqlRows> count;
    RETURN_IF_ERROR(ctx.data_db->Run([&](store::SqlConnection& conn) -> absl::Status {
      count = conn.Query(
          StrCat("SELECT COUNT(*) FROM ", data::QuoteIdent(schema.source), resolved.where.sql),
          resolved.where.params);
      return count.status();
    }));
    total = count->empty() ? 0 : (*count)[0].Int(0);
  }
  const int64_t limit = static_cast<int64_t>(spec.memory_gb * 1024 * 1024 * 1024);
  constexpr int64_t kBytesPerRow = 120;
  if (limit > 0 && total * kBytesPerRow > limit) {
    return absl::ResourceExhaustedError(
        StrCat("the interactions do not fit the memory limit: ", total, " rows need about ",
               total * kBytesPerRow / (1 << 20) + 1, " MiB, the limit is ", limit / (1 << 20),
               " MiB; add filters or a dateRange, or raise computeResources.memory"));
  }
  if (total == 0) {
    return absl::FailedPreconditionError(
        StrCat("no rows in source '", schema.source, "' match the filters"));
  }

  std::unordered_map<std::string, int32_t> users, items;
  int64_t id_bytes = 0;
  auto intern = [&](std::unordered_map<std::string, int32_t>& map, std::vector<std::string>& names,
                    std::string s) {
    auto it = map.find(s);
    if (it != map.end()) return it->second;
    const int32_t id = static_cast<int32_t>(names.size());
    id_bytes += 2 * static_cast<int64_t>(s.size()) + 96;
    names.push_back(s);
    map.emplace(std::move(s), id);
    return id;
  };
  try {
    d.events.reserve(static_cast<size_t>(total));
    int64_t last_row = 0;
    bool done = false;
    // The filter's parameters, then the paging key (updated in place each page).
    std::vector<store::SqlValue> params = resolved.where.params;
    params.emplace_back(std::in_place_type<int64_t>, 0);
    while (!done) {
      RETURN_IF_ERROR(CheckCancel(ctx));
      absl::StatusOr<store::SqlRows> page;
      params.back().emplace<int64_t>(last_row);
      RETURN_IF_ERROR(ctx.data_db->Run([&](store::SqlConnection& conn) -> absl::Status {
        page = conn.Query(page_sql, params);
        return page.status();
      }));
      if (static_cast<int64_t>(page->size()) < kPageRows) done = true;
      for (const store::SqlRow& r : *page) {
        last_row = r.Int(0);
        ++d.rows;
        if (r.IsNull(1) || r.IsNull(2)) {
          ++d.skipped_missing_id;
          continue;
        }
        std::string user = r.Str(1), item = r.Str(2);
        if (user.empty() || item.empty()) {
          ++d.skipped_missing_id;
          continue;
        }
        float w = 1;
        size_t col = 3;
        if (d.mode == WeightMode::kLadder) {
          bool known = true;
          w = r.IsNull(col) ? 1.0f : EventTypeWeight(r.Str(col), &known);
          if (!known && !r.IsNull(col)) {
            ++d.unknown_event_types;
            if (d.unknown_type_examples.size() < 5) {
              std::string t = r.Str(col);
              if (std::find(d.unknown_type_examples.begin(), d.unknown_type_examples.end(), t) ==
                  d.unknown_type_examples.end()) {
                d.unknown_type_examples.push_back(std::move(t));
              }
            }
          }
          ++col;
        } else if (d.mode == WeightMode::kNumeric) {
          const double v = r.IsNull(col) ? std::nan("") : r.Double(col);
          ++col;
          if (!(v > 0) || !std::isfinite(v)) {
            ++d.skipped_weight;
            continue;
          }
          w = static_cast<float>(std::min(v, 1e6));
        }
        const int64_t t = d.has_time && !r.IsNull(col) ? r.Int(col) : 0;
        const int32_t u = intern(users, d.user_ids, std::move(user));
        const int32_t i = intern(items, d.item_ids, std::move(item));
        d.events.push_back({u, i, w, t});
      }
      if (limit > 0 && id_bytes + static_cast<int64_t>(d.events.size()) * kBytesPerRow > limit) {
        return absl::ResourceExhaustedError(
            StrCat("the interactions do not fit the memory limit of ", limit / (1 << 20),
                   " MiB (exceeded after ", d.rows,
                   " rows); add filters or a dateRange, or raise "
                   "computeResources.memory"));
      }
      progress.Report(1 + 19.0 * static_cast<double>(d.rows) / static_cast<double>(total),
                      "loading_data");
    }
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError("out of memory while loading the interactions");
  }
  if (d.events.empty()) {
    return absl::FailedPreconditionError(StrCat("no usable interactions in source '", schema.source,
                                                "': ", d.rows, " rows read, ", d.skipped_missing_id,
                                                " without user_id or item_id, ", d.skipped_weight,
                                                " with a weight <= 0"));
  }
  if (d.item_ids.size() < 2) {
    return absl::FailedPreconditionError("recommendation needs at least 2 distinct items");
  }
  return d;
}

// Sums weights per (user, item), keeping the first interaction time; sorted by user, item.
std::vector<Pair> Aggregate(std::vector<Event> events) {
  std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
    return a.user != b.user ? a.user < b.user : a.item < b.item;
  });
  std::vector<Pair> out;
  out.reserve(events.size() / 2 + 1);
  for (const Event& e : events) {
    if (!out.empty() && out.back().user == e.user && out.back().item == e.item) {
      out.back().weight += e.weight;
      out.back().time = std::min(out.back().time, e.time);
    } else {
      out.push_back({e.user, e.item, e.weight, e.time});
    }
  }
  return out;
}

std::shared_ptr<const SparseMatrix> MatrixOf(const std::vector<Pair>& pairs, int32_t users,
                                             int32_t items) {
  std::vector<Triplet> t;
  t.reserve(pairs.size());
  for (const Pair& p : pairs) t.push_back({p.user, p.item, p.weight});
  return std::make_shared<SparseMatrix>(SparseMatrix::FromTriplets(users, items, std::move(t)));
}

// Ranges [begin, end) of each user's pairs in a user-sorted pair list.
std::vector<std::pair<size_t, size_t>> UserRanges(const std::vector<Pair>& pairs) {
  std::vector<std::pair<size_t, size_t>> out;
  for (size_t b = 0; b < pairs.size();) {
    size_t e = b;
    while (e < pairs.size() && pairs[e].user == pairs[b].user) ++e;
    out.emplace_back(b, e);
    b = e;
  }
  return out;
}

// ---- Splits -------------------------------------------------------------------------------

struct Fold {
  std::string name;
  std::vector<Pair> train;                 // sorted by user, item
  std::vector<std::vector<int32_t>> test;  // per user: held-out items (sorted)
  int64_t test_pairs = 0;
  int64_t cold_users = 0;  // users with test items but no training interactions
  Json info = Json::object();
};

// Orders a user's pairs oldest first (ties in a seeded random order).
void SortByTime(std::vector<Pair>& v, uint64_t seed) {
  std::sort(v.begin(), v.end(), [seed](const Pair& a, const Pair& b) {
    if (a.time != b.time) return a.time < b.time;
    return Mix(seed, static_cast<uint64_t>(a.item)) < Mix(seed, static_cast<uint64_t>(b.item));
  });
}

Fold HoldOutLatest(const std::vector<Pair>& pairs, int32_t num_users, double test_size,
                   uint64_t seed) {
  Fold f;
  f.name = "holdout";
  f.test.resize(static_cast<size_t>(num_users));
  f.train.reserve(pairs.size());
  for (auto [b, e] : UserRanges(pairs)) {
    std::vector<Pair> mine(pairs.begin() + static_cast<int64_t>(b),
                           pairs.begin() + static_cast<int64_t>(e));
    const int64_t n = static_cast<int64_t>(mine.size());
    int64_t hold = 0;
    if (n >= 2)
      hold = std::clamp<int64_t>(std::llround(test_size * static_cast<double>(n)), 1, n - 1);
    SortByTime(mine, Mix(seed, static_cast<uint64_t>(mine[0].user)));
    for (int64_t i = 0; i < n; ++i) {
      if (i >= n - hold) {
        f.test[mine[i].user].push_back(mine[i].item);
        ++f.test_pairs;
      } else {
        f.train.push_back(mine[i]);
      }
    }
  }
  for (auto& t : f.test) std::sort(t.begin(), t.end());
  std::sort(f.train.begin(), f.train.end(), [](const Pair& a, const Pair& b) {
    return a.user != b.user ? a.user < b.user : a.item < b.item;
  });
  return f;
}

// Fold `fold` of `folds`: each user's pairs (users with ≥ 2) are shuffled and dealt round-robin
// from a random offset, so a user never loses all its items to one fold.
Fold KFold(const std::vector<Pair>& pairs, int32_t num_users, int folds, int fold, uint64_t seed) {
  Fold f;
  f.name = StrCat("fold ", fold + 1);
  f.test.resize(static_cast<size_t>(num_users));
  for (auto [b, e] : UserRanges(pairs)) {
    const size_t n = e - b;
    if (n < 2) {
      f.train.push_back(pairs[b]);
      continue;
    }
    const uint64_t us = Mix(seed, static_cast<uint64_t>(pairs[b].user));
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), b);
    std::sort(order.begin(), order.end(), [&](size_t x, size_t y) {
      return Mix(us, static_cast<uint64_t>(pairs[x].item)) <
             Mix(us, static_cast<uint64_t>(pairs[y].item));
    });
    const size_t offset = us % static_cast<uint64_t>(folds);
    std::vector<char> in_test(n, 0);
    for (size_t pos = 0; pos < n; ++pos) {
      if (static_cast<int>((pos + offset) % static_cast<size_t>(folds)) == fold)
        in_test[order[pos] - b] = 1;
    }
    for (size_t i = 0; i < n; ++i) {
      if (in_test[i]) {
        f.test[pairs[b + i].user].push_back(pairs[b + i].item);
        ++f.test_pairs;
      } else {
        f.train.push_back(pairs[b + i]);
      }
    }
  }
  for (auto& t : f.test) std::sort(t.begin(), t.end());
  return f;
}

// Train on events before `cut`, test on the items users first touch in [cut, end).
Fold TimeWindow(const std::vector<Event>& events, int32_t num_users, int32_t num_items, int64_t cut,
                int64_t end, bool last) {
  Fold f;
  std::vector<Event> before;
  before.reserve(events.size());
  for (const Event& e : events) {
    if (e.time < cut) before.push_back(e);
  }
  f.train = Aggregate(std::move(before));
  f.test.resize(static_cast<size_t>(num_users));
  std::vector<int64_t> train_count(static_cast<size_t>(num_users), 0);
  for (const Pair& p : f.train) ++train_count[p.user];
  const auto matrix = MatrixOf(f.train, num_users, num_items);
  std::vector<char> cold(static_cast<size_t>(num_users), 0);
  for (const Event& e : events) {
    if (e.time < cut || (!last && e.time >= end)) continue;
    if (train_count[e.user] == 0) {
      cold[e.user] = 1;
      continue;
    }
    if (matrix->Contains(e.user, e.item)) continue;
    f.test[e.user].push_back(e.item);
  }
  for (auto& t : f.test) {
    std::sort(t.begin(), t.end());
    t.erase(std::unique(t.begin(), t.end()), t.end());
    f.test_pairs += static_cast<int64_t>(t.size());
  }
  f.cold_users = std::count(cold.begin(), cold.end(), 1);
  f.name = StrCat("window from ", common::FormatIso8601(cut));
  f.info = {{"trainBefore", common::FormatIso8601(cut)}};
  if (!last) f.info["testUntil"] = common::FormatIso8601(end);
  return f;
}

// The early-stopping / tuning slice carved out of a fold's training pairs: up to
// kValidationUsers users with ≥ 3 items each lose their latest item to it.
struct Validation {
  std::vector<Pair> fit;
  std::vector<int32_t> users;
  std::vector<std::vector<int64_t>> relevant;
  bool empty() const { return users.size() < static_cast<size_t>(kMinValidationUsers); }
};

Validation MakeValidation(const std::vector<Pair>& train, uint64_t seed) {
  Validation v;
  const auto ranges = UserRanges(train);
  int64_t eligible = 0;
  for (auto [b, e] : ranges) eligible += (e - b >= 3);
  const double share =
      eligible > 0 ? std::min(1.0, kValidationUsers / static_cast<double>(eligible)) : 0;
  v.fit.reserve(train.size());
  for (auto [b, e] : ranges) {
    const int32_t user = train[b].user;
    const bool pick =
        e - b >= 3 &&
        static_cast<double>(Mix(seed ^ 0xa5a5, static_cast<uint64_t>(user)) >> 11) * 0x1.0p-53 <
            share;
    if (!pick) {
      v.fit.insert(v.fit.end(), train.begin() + static_cast<int64_t>(b),
                   train.begin() + static_cast<int64_t>(e));
      continue;
    }
    std::vector<Pair> mine(train.begin() + static_cast<int64_t>(b),
                           train.begin() + static_cast<int64_t>(e));
    SortByTime(mine, Mix(seed, static_cast<uint64_t>(user) + 17));
    v.users.push_back(user);
    v.relevant.push_back({mine.back().item});
    mine.pop_back();
    std::sort(mine.begin(), mine.end(),
              [](const Pair& a, const Pair& b) { return a.item < b.item; });
    v.fit.insert(v.fit.end(), mine.begin(), mine.end());
  }
  return v;
}

// ---- Fitting ------------------------------------------------------------------------------

struct Fitted {
  Algorithm algorithm = Algorithm::kAls;
  AlsFactors factors;
  ItemNeighbors neighbors;
  std::vector<double> curve;  // validation ndcg per epoch
  double baseline_val = std::numeric_limits<double>::quiet_NaN();
  double best_val = std::numeric_limits<double>::quiet_NaN();
  int best_epoch = 0;
  int epochs_run = 0;
  bool early_stopped = false;
};

RecommenderModel ModelOf(const Fitted& f, std::shared_ptr<const SparseMatrix> seen) {
  if (f.algorithm == Algorithm::kAls) return RecommenderModel::FromAls(f.factors, std::move(seen));
  return RecommenderModel::FromItemKnn(f.neighbors, std::move(seen));
}

std::vector<std::vector<int64_t>> ItemLists(const std::vector<std::vector<ScoredItem>>& recs) {
  std::vector<std::vector<int64_t>> out(recs.size());
  for (size_t u = 0; u < recs.size(); ++u) {
    for (const ScoredItem& s : recs[u]) out[u].push_back(s.item);
  }
  return out;
}

absl::StatusOr<double> NdcgOn(const RecommenderModel& model, const Validation& val, int k,
                              int threads, const common::CancellationToken* cancel, bool baseline) {
  std::vector<std::vector<int64_t>> lists;
  if (baseline) {
    for (int32_t u : val.users) {
      std::vector<int64_t> l;
      for (const ScoredItem& s : model.Popular(k, u)) l.push_back(s.item);
      lists.push_back(std::move(l));
    }
  } else {
    ASSIGN_OR_RETURN(auto recs, model.Recommend(val.users, k, threads, cancel));
    lists = ItemLists(recs);
  }
  ASSIGN_OR_RETURN(Json m, eval::RankingMetrics(lists, val.relevant, k, model.num_items()));
  return m["ndcgAtK"].get<double>();
}

// Trains on `pairs`; with a validation slice, records ndcg per epoch and (ALS, epochs ≥
// kEarlyStoppingMinEpochs, early stopping on) stops after kPatience epochs without a better
// score, keeping the best epoch's factors. `on_unit` is called after each epoch (or once).
// Ids of the rows and columns and the previous model's factors, for an incremental retrain.
struct WarmStart {
  const NamedFactors* previous = nullptr;
  const std::vector<std::string>* user_ids = nullptr;
  const std::vector<std::string>* item_ids = nullptr;
};

absl::StatusOr<Fitted> Fit(const std::vector<Pair>& pairs, int32_t num_users, int32_t num_items,
                           const Params& p, const Validation* val, int threads,
                           const common::CancellationToken* cancel,
                           const std::function<void()>& on_unit, const WarmStart& warm = {}) {
  Fitted out;
  const auto seen = MatrixOf(pairs, num_users, num_items);
  const bool use_val = val != nullptr && !val->empty();
  if (p.algorithm == "item_knn") {
    out.algorithm = Algorithm::kItemKnn;
    ItemKnnOptions o;
    o.neighbors = p.neighbors;
    o.threads = threads;
    ASSIGN_OR_RETURN(out.neighbors, BuildItemNeighbors(*seen, o, cancel));
    out.epochs_run = 1;
    if (use_val) {
      const RecommenderModel m = ModelOf(out, seen);
      ASSIGN_OR_RETURN(out.best_val, NdcgOn(m, *val, p.k, threads, cancel, false));
      ASSIGN_OR_RETURN(out.baseline_val, NdcgOn(m, *val, p.k, threads, cancel, true));
      out.curve.push_back(out.best_val);
    }
    if (on_unit) on_unit();
    return out;
  }
  out.algorithm = Algorithm::kAls;
  const bool stop_early = use_val && p.early_stopping && p.epochs >= kEarlyStoppingMinEpochs;
  AlsHooks hooks;
  hooks.cancel = cancel;
  absl::Status hook_error;
  AlsFactors best;
  hooks.on_epoch = [&](int epoch, const AlsFactors& f) {
    out.epochs_run = epoch;
    if (use_val) {
      const RecommenderModel m = RecommenderModel::FromAls(f, seen);
      auto ndcg = NdcgOn(m, *val, p.k, threads, cancel, false);
      if (!ndcg.ok()) {
        hook_error = ndcg.status();
        return false;
      }
      if (epoch == 1) {
        auto base = NdcgOn(m, *val, p.k, threads, cancel, true);
        if (base.ok()) out.baseline_val = *base;
      }
      out.curve.push_back(*ndcg);
      if (out.best_epoch == 0 || *ndcg > out.best_val) {
        out.best_val = *ndcg;
        out.best_epoch = epoch;
        if (stop_early) best = f;
      }
    }
    if (on_unit) on_unit();
    if (stop_early && epoch - out.best_epoch >= kPatience) {
      out.early_stopped = true;
      return false;
    }
    return true;
  };
  auto trained = warm.previous ? TrainAlsWarm(*seen, *warm.user_ids, *warm.item_ids,
                                              *warm.previous, AlsOptionsOf(p, threads), hooks)
                               : TrainAls(*seen, AlsOptionsOf(p, threads), hooks);
  if (!hook_error.ok()) return hook_error;
  if (!trained.ok()) return trained.status();
  out.factors = stop_early ? std::move(best) : std::move(*trained);
  if (!use_val) out.best_epoch = out.epochs_run;
  return out;
}

// ---- Evaluation ---------------------------------------------------------------------------

struct Segment {
  std::string name;
  int64_t users = 0;
  double sums[4] = {0, 0, 0, 0};       // model precision, recall, ndcg, map (× users)
  double base_sums[4] = {0, 0, 0, 0};  // baseline
};

constexpr const char* kMetricKeys[4] = {"precisionAtK", "recallAtK", "ndcgAtK", "mapAtK"};

struct FoldEval {
  Json metrics;
  Json baseline;
  int64_t users = 0;
  int64_t head_hits = 0, tail_hits = 0, base_head_hits = 0, base_tail_hits = 0;
};

absl::StatusOr<FoldEval> EvaluateFold(const RecommenderModel& model, const Fold& fold, int k,
                                      int threads, const common::CancellationToken* cancel,
                                      std::vector<Segment>& segments) {
  std::vector<int32_t> users;
  for (int32_t u = 0; u < static_cast<int32_t>(fold.test.size()); ++u) {
    if (!fold.test[u].empty() && model.seen().RowSize(u) > 0) users.push_back(u);
  }
  FoldEval out;
  out.users = static_cast<int64_t>(users.size());
  if (users.empty()) return out;
  ASSIGN_OR_RETURN(auto recs, model.Recommend(users, k, threads, cancel));
  std::vector<std::vector<int64_t>> lists = ItemLists(recs), base(users.size()),
                                    relevant(users.size());
  for (size_t i = 0; i < users.size(); ++i) {
    for (const ScoredItem& s : model.Popular(k, users[i])) base[i].push_back(s.item);
    relevant[i].assign(fold.test[users[i]].begin(), fold.test[users[i]].end());
  }
  ASSIGN_OR_RETURN(out.metrics, eval::RankingMetrics(lists, relevant, k, model.num_items()));
  ASSIGN_OR_RETURN(out.baseline, eval::RankingMetrics(base, relevant, k, model.num_items()));

  // Hits on the head (the most popular 10 % of items) and on the tail.
  std::vector<float> pop = model.popularity();
  std::vector<float> sorted = pop;
  const size_t head_n = std::max<size_t>(1, sorted.size() / 10);
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<int64_t>(head_n - 1), sorted.end(),
                   std::greater<float>());
  const float head_cut = sorted[head_n - 1];
  for (size_t i = 0; i < users.size(); ++i) {
    for (int64_t item : lists[i]) {
      if (std::binary_search(relevant[i].begin(), relevant[i].end(), item)) {
        (pop[item] >= head_cut ? out.head_hits : out.tail_hits)++;
      }
    }
    for (int64_t item : base[i]) {
      if (std::binary_search(relevant[i].begin(), relevant[i].end(), item)) {
        (pop[item] >= head_cut ? out.base_head_hits : out.base_tail_hits)++;
      }
    }
  }

  // By training activity.
  for (int s = 0; s < 3; ++s) {
    std::vector<std::vector<int64_t>> l, b, r;
    for (size_t i = 0; i < users.size(); ++i) {
      const int64_t n = model.seen().RowSize(users[i]);
      const int seg = n <= kColdMax ? 0 : n <= kMediumMax ? 1 : 2;
      if (seg != s) continue;
      l.push_back(lists[i]);
      b.push_back(base[i]);
      r.push_back(relevant[i]);
    }
    if (l.empty()) continue;
    ASSIGN_OR_RETURN(Json m, eval::RankingMetrics(l, r, k, model.num_items()));
    ASSIGN_OR_RETURN(Json bm, eval::RankingMetrics(b, r, k, model.num_items()));
    Segment& seg = segments[s];
    seg.users += static_cast<int64_t>(l.size());
    for (int j = 0; j < 4; ++j) {
      seg.sums[j] += m[kMetricKeys[j]].get<double>() * static_cast<double>(l.size());
      seg.base_sums[j] += bm[kMetricKeys[j]].get<double>() * static_cast<double>(l.size());
    }
  }
  return out;
}

std::string AlgorithmTitle(const std::string& algorithm) {
  return algorithm == "item_knn" ? "item-kNN (cosine)" : "implicit ALS (conjugate gradient)";
}

// ---- Tuning -------------------------------------------------------------------------------

double LogUniform(uint64_t& state, double lo, double hi) {
  state = Mix(state, 0x1234567);
  const double u = static_cast<double>(state >> 11) * 0x1.0p-53;
  return std::exp(std::log(lo) + u * (std::log(hi) - std::log(lo)));
}

Params Sample(const Params& base, uint64_t& state) {
  Params p = base;
  if (base.algorithm == "item_knn") {
    p.neighbors = static_cast<int>(std::lround(LogUniform(state, 5, 400)));
    return p;
  }
  static constexpr int kFactors[] = {8, 16, 24, 32, 48, 64, 96, 128};
  state = Mix(state, 99);
  p.factors = kFactors[state % 8];
  p.regularization = LogUniform(state, 1, 1000);
  p.alpha = LogUniform(state, 0.5, 100);
  return p;
}

}  // namespace

float EventTypeWeight(std::string_view event_type, bool* known) {
  const std::string t = common::ToLower(common::StripWhitespace(event_type));
  float w = 0;
  if (t == "view" || t == "views" || t == "impression" || t == "page_view" || t == "pageview" ||
      t == "visit") {
    w = 1;
  } else if (t == "click" || t == "clicks" || t == "search_click" || t == "detail") {
    w = 2;
  } else if (t == "wishlist" || t == "wish" || t == "like" || t == "save" || t == "favorite" ||
             t == "favourite" || t == "cart" || t == "add_to_cart" || t == "share") {
    w = 3;
  } else if (t == "book" || t == "booking" || t == "booked" || t == "purchase" || t == "buy" ||
             t == "order" || t == "checkout") {
    w = 5;
  }
  if (known != nullptr) *known = w > 0;
  return w > 0 ? w : 1.0f;
}

std::vector<HyperparamSpec> RecommendHyperparams() {
  using T = HyperparamSpec::Type;
  return {
      {"algorithm",
       T::kEnum,
       0,
       0,
       "als",
       {"als", "item_knn"},
       "als: implicit-feedback matrix factorization; item_knn: cosine item neighbours"},
      {"factors", T::kInt, 2, 256, 32, {}, "ALS: latent factors per user and item"},
      {"regularization",
       T::kNumber,
       0,
       10000,
       100,
       {},
       "ALS: L2 penalty λ on the factors (absolute, as in Hu et al.; larger for few items per "
       "user)"},
      {"alpha", T::kNumber, 0, 1000, 10, {}, "ALS: confidence = 1 + alpha · weight"},
      {"epochs",
       T::kInt,
       1,
       100,
       15,
       {},
       "ALS: alternating sweeps (early stopping on a validation slice from 6 epochs on)"},
      {"cgSteps", T::kInt, 1, 20, 3, {}, "ALS: conjugate-gradient steps per row and sweep"},
      {"earlyStopping",
       T::kBool,
       0,
       0,
       true,
       {},
       "ALS: stop when validation ndcg@k has not improved for 3 epochs, keep the best"},
      {"neighbors", T::kInt, 1, 1000, 50, {}, "item_knn: neighbours kept per item"},
      {"k",
       T::kInt,
       1,
       100,
       10,
       {},
       "list length for the @k metrics (and default for predictions)"},
      {"testSize",
       T::kNumber,
       0.05,
       0.5,
       0.2,
       {},
       "train_test_split: share of each user's latest distinct items held out"},
      {"folds",
       T::kInt,
       2,
       10,
       5,
       {},
       "k_fold: folds over each user's items; time_series_split: expanding windows"},
      {"seed", T::kInt, 0, 2147483647, 42, {}, "random seed (initial factors, splits)"},
  };
}

namespace {

absl::StatusOr<TrainResult> TrainRecommender(const TrainSpec& spec, TrainContext& ctx) {
  Progress progress(ctx);
  progress.Report(0, "loading_data");
  if (spec.artifact_dir.empty()) {
    return absl::FailedPreconditionError("no artifact directory was given for the model");
  }
  const Params params = ParamsFrom(spec.hyperparameters);
  // computeResources.cpu caps the threads; more than the machine's cores would only contend.
  const int hardware = static_cast<int>(std::thread::hardware_concurrency());
  const int threads = std::clamp(spec.cpu, 1, hardware > 0 ? std::min(hardware, 64) : 64);
  const std::string& strategy = spec.validation_strategy;
  if (strategy != "train_test_split" && strategy != "k_fold" && strategy != "time_series_split") {
    return common::ValidationError("validationStrategy",
                                   "must be one of: train_test_split, k_fold, time_series_split");
  }
  const auto started = SteadyClock::now();
  ASSIGN_OR_RETURN(Data data, LoadData(spec, ctx, progress));
  RETURN_IF_ERROR(CheckCancel(ctx));
  progress.Report(20, "preparing_features");
  const int32_t num_users = static_cast<int32_t>(data.user_ids.size());
  const int32_t num_items = static_cast<int32_t>(data.item_ids.size());
  if (strategy == "time_series_split" && !data.has_time) {
    return common::ValidationError("validationStrategy",
                                   "time_series_split needs a created_at column in the source");
  }
  std::vector<Pair> pairs;
  try {
    pairs = Aggregate(data.events);
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError("out of memory while aggregating the interactions");
  }
  const auto ranges = UserRanges(pairs);
  int64_t multi_users = 0;
  for (auto [b, e] : ranges) multi_users += (e - b >= 2);
  if (strategy != "time_series_split" && multi_users == 0) {
    return absl::FailedPreconditionError(
        "no user has interactions with two or more distinct items, so nothing can be held out "
        "for evaluation");
  }

  // ---- Folds (built one at a time) ----
  std::vector<int64_t> cuts;  // time_series_split window starts, and the end sentinel
  int n_folds = 1;
  if (strategy == "k_fold") {
    n_folds = params.folds;
  } else if (strategy == "time_series_split") {
    std::vector<int64_t> times;
    times.reserve(data.events.size());
    for (const Event& e : data.events) times.push_back(e.time);
    std::sort(times.begin(), times.end());
    // `folds + 1` blocks of equal event counts; window j trains on blocks 1..j and tests on
    // block j + 1 (the tabular trainers' expanding window).
    const int64_t blocks = params.folds + 1;
    for (int64_t j = 1; j <= params.folds; ++j) {
      const size_t idx = static_cast<size_t>(static_cast<int64_t>(times.size()) * j / blocks);
      if (idx < times.size() && (cuts.empty() || times[idx] > cuts.back())) {
        cuts.push_back(times[idx]);
      }
    }
    // A window with nothing before it cannot train.
    cuts.erase(
        std::remove_if(cuts.begin(), cuts.end(), [&](int64_t c) { return c <= times.front(); }),
        cuts.end());
    if (cuts.empty()) {
      return absl::FailedPreconditionError(
          "time_series_split needs interactions spread over time; the created_at values are "
          "(nearly) all equal");
    }
    n_folds = static_cast<int>(cuts.size());
    cuts.push_back(std::numeric_limits<int64_t>::max());
  }
  auto make_fold = [&](int i) -> Fold {
    if (strategy == "k_fold") return KFold(pairs, num_users, n_folds, i, params.seed);
    if (strategy == "time_series_split") {
      return TimeWindow(data.events, num_users, num_items, cuts[i], cuts[i + 1], i + 1 == n_folds);
    }
    return HoldOutLatest(pairs, num_users, params.test_size, params.seed);
  };
  RETURN_IF_ERROR(CheckCancel(ctx));
  progress.Report(25, "preparing_features");

  // ---- Tuning: random search on a validation slice of the first fold's training data (the
  // last, largest window for time_series_split) ----
  Params best = params;
  Json tuning;
  std::vector<std::string> warnings;
  const Json tuning_request =
      spec.hyperparameters.is_object() && spec.hyperparameters.contains("tuning")
          ? spec.hyperparameters["tuning"]
          : Json();
  double train_from = 25;
  if (tuning_request.is_object()) {
    train_from = 45;
    const int trials = tuning_request.value("trials", 10);
    const double budget_s = tuning_request.value("timeBudgetSeconds", 300);
    const Validation val = MakeValidation(
        make_fold(strategy == "time_series_split" ? n_folds - 1 : 0).train, params.seed);
    if (val.empty()) {
      warnings.push_back(
          "tuning skipped: too few users with 3 or more training items for a "
          "validation slice");
    } else {
      const auto tune_start = SteadyClock::now();
      uint64_t state = Mix(params.seed, 777);
      Json history = Json::array();
      double best_score = -1;
      int done = 0;
      for (int t = 0; t < trials; ++t) {
        const double elapsed =
            std::chrono::duration<double>(SteadyClock::now() - tune_start).count();
        if (t > 0 && elapsed > budget_s) break;
        RETURN_IF_ERROR(CheckCancel(ctx));
        const Params candidate = t == 0 ? params : Sample(params, state);
        ASSIGN_OR_RETURN(Fitted fit, Fit(val.fit, num_users, num_items, candidate, &val, threads,
                                         ctx.cancel, nullptr));
        ++done;
        Json entry = candidate.ToJson();
        entry["validationNdcgAtK"] = fit.best_val;
        if (candidate.algorithm == "als") entry["bestEpoch"] = fit.best_epoch;
        history.push_back(entry);
        if (fit.best_val > best_score) {
          best_score = fit.best_val;
          best = candidate;
        }
        progress.Phase(25, 45, t + 1, trials, "tuning", tune_start);
      }
      Json best_json = best.ToJson();
      best_json["validationNdcgAtK"] = best_score;
      tuning = {
          {"trials", done},
          {"timeBudgetSeconds", budget_s},
          {"metric", StrCat("ndcg@", params.k, " on a validation slice of the training data")},
          {"best", best_json},
          {"history", history}};
    }
  }

  // ---- Training and evaluation, fold by fold, then the final refit ----
  const bool als = best.algorithm == "als";
  const int units_per_fit = als ? best.epochs : 1;
  const double total_units = static_cast<double>((n_folds + 1) * units_per_fit);
  double units_done = 0;
  const auto train_start = SteadyClock::now();
  auto on_unit = [&] {
    units_done += 1;
    progress.Phase(train_from, 88, units_done, total_units, "training", train_start);
  };
  progress.Report(train_from, "training");
  std::vector<Json> fold_metrics, fold_baselines;
  Json folds_json = Json::array();
  std::vector<Segment> segments = {{"cold"}, {"medium"}, {"heavy"}};
  int64_t head_hits = 0, tail_hits = 0, base_head_hits = 0, base_tail_hits = 0;
  int64_t evaluated_users = 0, cold_users = 0, train_pairs_last = 0, test_pairs_last = 0;
  std::vector<int> best_epochs;
  bool any_early_stop = false;
  Fitted curve_fit;
  for (int i = 0; i < n_folds; ++i) {
    RETURN_IF_ERROR(CheckCancel(ctx));
    Fold fold = make_fold(i);
    if (fold.train.empty()) {
      warnings.push_back(StrCat(fold.name, ": no training interactions, skipped"));
      units_done += units_per_fit;
      continue;
    }
    Validation val;
    if (als) val = MakeValidation(fold.train, params.seed + static_cast<uint64_t>(i));
    const Validation* val_ptr = als && !val.empty() ? &val : nullptr;
    const double before = units_done;
    ASSIGN_OR_RETURN(Fitted fit, Fit(val_ptr ? val.fit : fold.train, num_users, num_items, best,
                                     val_ptr, threads, ctx.cancel, on_unit));
    units_done = before + units_per_fit;  // early stopping skips the remaining epochs
    if (fit.early_stopped) any_early_stop = true;
    if (val_ptr != nullptr) best_epochs.push_back(fit.best_epoch);
    const RecommenderModel model = ModelOf(fit, MatrixOf(fold.train, num_users, num_items));
    ASSIGN_OR_RETURN(FoldEval fe, EvaluateFold(model, fold, best.k, threads, ctx.cancel, segments));
    cold_users += fold.cold_users;
    // The last fold (the largest window of time_series_split) stands for the others in
    // dataSummary and the training curve.
    train_pairs_last = static_cast<int64_t>(fold.train.size());
    test_pairs_last = fold.test_pairs;
    curve_fit = std::move(fit);
    if (fe.users == 0) {
      warnings.push_back(StrCat(fold.name,
                                ": no user with both training and held-out items, "
                                "not evaluated"));
      continue;
    }
    evaluated_users += fe.users;
    head_hits += fe.head_hits;
    tail_hits += fe.tail_hits;
    base_head_hits += fe.base_head_hits;
    base_tail_hits += fe.base_tail_hits;
    fold_metrics.push_back(fe.metrics);
    fold_baselines.push_back(fe.baseline);
    Json fj = {{"fold", i + 1},
               {"name", fold.name},
               {"trainInteractions", fold.train.size()},
               {"testInteractions", fold.test_pairs},
               {"users", fe.users},
               {"metrics", fe.metrics},
               {"baseline", fe.baseline}};
    for (auto it = fold.info.begin(); it != fold.info.end(); ++it) fj[it.key()] = it.value();
    if (fold.cold_users > 0) fj["coldStartUsersSkipped"] = fold.cold_users;
    folds_json.push_back(std::move(fj));
  }
  if (fold_metrics.empty()) {
    return absl::FailedPreconditionError(
        "no user has both training and held-out interactions under this validation strategy; "
        "use more data or another strategy");
  }

  // Final model on every interaction, for as many epochs as early stopping found best.
  Params final_params = best;
  if (als && any_early_stop && !best_epochs.empty()) {
    double mean = 0;
    for (int e : best_epochs) mean += e;
    final_params.epochs =
        std::max(1, static_cast<int>(std::lround(mean / static_cast<double>(best_epochs.size()))));
  }
  RETURN_IF_ERROR(CheckCancel(ctx));
  const double before_final = units_done;
  // Incremental retrain: ALS starts from the deployed model's factors (known users and items
  // keep theirs; new ones start random).
  Json training_mode = {{"mode", "full"}};
  std::optional<NamedFactors> previous;
  if (spec.incremental) {
    std::string why;
    if (spec.warm_start_path.empty()) {
      why = "the deployed model's artifact is unavailable";
    } else if (!als) {
      why = "item-kNN has no factors to continue from";
    } else if (auto loaded = LoadRecommendPredictor(spec.warm_start_path); !loaded.ok()) {
      why = "the deployed model could not be read";
    } else if (auto* rp = dynamic_cast<RecommendPredictor*>(loaded->get()); rp == nullptr) {
      why = "the deployed model is not a recommender";
    } else if (auto f = rp->Factors(); !f.ok() || f->factors.users.cols() != final_params.factors) {
      why = "the deployed model has a different number of factors";
    } else {
      previous = *std::move(f);
    }
    training_mode = previous ? Json{{"mode", "incremental"},
                                    {"warmStartedUsers", previous->user_ids.size()},
                                    {"warmStartedItems", previous->item_ids.size()}}
                             : Json{{"mode", "full"}, {"incrementalRequested", true}, {"reason", why}};
  }
  WarmStart warm;
  if (previous) warm = {&*previous, &data.user_ids, &data.item_ids};
  ASSIGN_OR_RETURN(Fitted final_fit, Fit(pairs, num_users, num_items, final_params, nullptr,
                                         threads, ctx.cancel, on_unit, warm));
  units_done = before_final + units_per_fit;
  const auto all_seen = MatrixOf(pairs, num_users, num_items);
  const RecommenderModel final_model = ModelOf(final_fit, all_seen);
  const double train_seconds = std::chrono::duration<double>(SteadyClock::now() - started).count();
  RETURN_IF_ERROR(CheckCancel(ctx));

  // ---- Evaluation document ----
  progress.Report(88, "evaluating");
  Json evaluation;
  evaluation["task"] = "ranking";
  Json metrics, baseline_metrics;
  if (n_folds > 1) {
    ASSIGN_OR_RETURN(Json summary, eval::SummarizeFolds(fold_metrics));
    ASSIGN_OR_RETURN(Json base_summary, eval::SummarizeFolds(fold_baselines));
    metrics = summary["mean"];
    baseline_metrics = base_summary["mean"];
    metrics["k"] = best.k;
    baseline_metrics["k"] = best.k;
    evaluation["folds"] = folds_json;
    evaluation["foldSummary"] = summary;
    evaluation["baselineFoldSummary"] = base_summary;
  } else {
    metrics = fold_metrics[0];
    baseline_metrics = fold_baselines[0];
  }
  evaluation["metrics"] = metrics;
  evaluation["baseline"] = {{"name", "most_popular"},
                            {"description",
                             "the k items with the most distinct users in the "
                             "training split that the user has not seen"},
                            {"metrics", baseline_metrics}};
  const double model_ndcg = metrics.value("ndcgAtK", 0.0);
  const double base_ndcg = baseline_metrics.value("ndcgAtK", 0.0);
  evaluation["liftOverBaseline"] = {
      {"ndcgAtK", base_ndcg > 0 ? Json(model_ndcg / base_ndcg) : Json()},
      {"precisionAtK",
       baseline_metrics.value("precisionAtK", 0.0) > 0
           ? Json(metrics.value("precisionAtK", 0.0) / baseline_metrics.value("precisionAtK", 0.0))
           : Json()}};
  evaluation["featureImportance"] = Json::array();

  // Error analysis: by user activity, and hits on popular vs. long-tail items.
  Json by_activity = Json::array();
  std::string worst;
  double worst_ndcg = 2;
  for (const Segment& s : segments) {
    if (s.users == 0) continue;
    Json m = Json::object(), b = Json::object();
    for (int j = 0; j < 4; ++j) {
      m[kMetricKeys[j]] = s.sums[j] / static_cast<double>(s.users);
      b[kMetricKeys[j]] = s.base_sums[j] / static_cast<double>(s.users);
    }
    const std::string range = s.name == "cold"     ? StrCat("1–", kColdMax)
                              : s.name == "medium" ? StrCat(kColdMax + 1, "–", kMediumMax)
                                                   : StrCat(kMediumMax + 1, "+");
    by_activity.push_back({{"segment", s.name},
                           {"trainingItems", range},
                           {"users", s.users},
                           {"metrics", m},
                           {"baselineMetrics", b}});
    if (m["ndcgAtK"].get<double>() < worst_ndcg) {
      worst_ndcg = m["ndcgAtK"].get<double>();
      worst = s.name;
    }
  }
  evaluation["errorAnalysis"] = {
      {"byUserActivity", by_activity},
      {"worstSegment", worst},
      {"hitsByItemPopularity",
       {{"headItems", "the most popular 10% of items in the training split"},
        {"model", {{"head", head_hits}, {"tail", tail_hits}}},
        {"baseline", {{"head", base_head_hits}, {"tail", base_tail_hits}}}}}};

  // Warnings.
  if (evaluated_users < 50) {
    warnings.push_back(
        StrCat("only ", evaluated_users, " users could be evaluated; the metrics are noisy"));
  }
  if (num_items < 20) warnings.push_back(StrCat("the catalogue has only ", num_items, " items"));
  const double density = static_cast<double>(pairs.size()) /
                         (static_cast<double>(num_users) * static_cast<double>(num_items));
  if (density > 0.5) {
    warnings.push_back("users have interacted with most items; little is left to recommend");
  }
  const int64_t single = static_cast<int64_t>(ranges.size()) - multi_users;
  if (single * 2 > static_cast<int64_t>(ranges.size())) {
    warnings.push_back(StrCat(single, " of ", ranges.size(),
                              " users have a single item; they are "
                              "never held out and are hard to personalise"));
  }
  if (cold_users > 0) {
    warnings.push_back(StrCat(cold_users, " test users",
                              n_folds > 1 ? " (summed over windows)" : "",
                              " had no interactions before the time cut (cold start) and were "
                              "not evaluated; a cold-start user gets the most popular items"));
  }
  if (data.skipped_missing_id + data.skipped_weight > 0) {
    warnings.push_back(StrCat(data.skipped_missing_id + data.skipped_weight, " of ", data.rows,
                              " rows were skipped (", data.skipped_missing_id,
                              " without user_id/item_id, ", data.skipped_weight,
                              " with a weight <= 0)"));
  }
  if (data.unknown_event_types > 0) {
    warnings.push_back(StrCat(data.unknown_event_types,
                              " rows have an event type outside the "
                              "view/click/wishlist/book ladder (e.g. '",
                              common::StrJoin(data.unknown_type_examples, "', '"),
                              "'); they count as views"));
  }
  if (!(model_ndcg > base_ndcg)) {
    warnings.push_back(StrCat("the model does not beat the most-popular baseline on ndcg@", best.k,
                              " (", model_ndcg, " vs ", base_ndcg, "); try more data, more ",
                              "epochs, or the other algorithm"));
  }
  if (best.algorithm == "item_knn" && best.neighbors >= num_items) {
    warnings.push_back("neighbors is at least the number of items: every item keeps all others");
  }
  evaluation["warnings"] = warnings;

  // Charts.
  RETURN_IF_ERROR(CheckCancel(ctx));
  Json charts = Json::array();
  {
    eval::BarChart bars;
    bars.title = StrCat("Ranking metrics @", best.k, ": model vs. most popular");
    bars.x_label = "value";
    static constexpr const char* kShort[4] = {"precision", "recall", "ndcg", "map"};
    for (int j = 0; j < 4; ++j) {
      bars.bars.push_back(
          {StrCat(kShort[j], "@", best.k, " model"), metrics.value(kMetricKeys[j], 0.0)});
      bars.bars.push_back({StrCat(kShort[j], "@", best.k, " most popular"),
                           baseline_metrics.value(kMetricKeys[j], 0.0)});
    }
    ASSIGN_OR_RETURN(std::string svg, eval::RenderBarChart(bars));
    ASSIGN_OR_RETURN(Json c, WriteChart(spec.artifact_dir, "metrics_vs_baseline",
                                        "Ranking metrics vs. the most-popular baseline", svg));
    charts.push_back(c);
  }
  if (curve_fit.curve.size() >= 2) {
    eval::LineChart line;
    line.title = StrCat("Validation ndcg@", best.k, " by epoch");
    line.x_label = "epoch";
    line.y_label = StrCat("ndcg@", best.k);
    eval::Series s{"model", {}, curve_fit.curve, false};
    for (size_t e = 0; e < curve_fit.curve.size(); ++e) s.x.push_back(static_cast<double>(e + 1));
    line.series.push_back(s);
    if (std::isfinite(curve_fit.baseline_val)) {
      line.series.push_back(
          {"most popular", s.x, std::vector<double>(s.x.size(), curve_fit.baseline_val), true});
    }
    if (curve_fit.early_stopped) {
      line.marker_x = curve_fit.best_epoch;
      line.marker_label = "best epoch";
    }
    ASSIGN_OR_RETURN(std::string svg, eval::RenderLineChart(line));
    ASSIGN_OR_RETURN(
        Json c, WriteChart(spec.artifact_dir, "ndcg_by_epoch", "Validation ndcg by epoch", svg));
    charts.push_back(c);
  }
  if (by_activity.size() > 0) {
    eval::BarChart bars;
    bars.title = StrCat("ndcg@", best.k, " by user activity");
    bars.x_label = StrCat("ndcg@", best.k);
    for (const Json& s : by_activity) {
      const std::string seg = s["segment"].get<std::string>();
      bars.bars.push_back({seg + " model", s["metrics"]["ndcgAtK"].get<double>()});
      bars.bars.push_back({seg + " most popular", s["baselineMetrics"]["ndcgAtK"].get<double>()});
    }
    ASSIGN_OR_RETURN(std::string svg, eval::RenderBarChart(bars));
    ASSIGN_OR_RETURN(Json c, WriteChart(spec.artifact_dir, "ndcg_by_user_activity",
                                        "ndcg by user activity", svg));
    charts.push_back(c);
  }
  evaluation["visualizations"] = charts;
  if (!curve_fit.curve.empty()) {
    evaluation["trainingCurve"] = {
        {"metric", StrCat("ndcg@", best.k, " on a validation slice")},
        {"values", curve_fit.curve},
        {"baseline", std::isfinite(curve_fit.baseline_val) ? Json(curve_fit.baseline_val) : Json()},
        {"bestEpoch", curve_fit.best_epoch},
        {"earlyStopped", curve_fit.early_stopped}};
  }

  std::vector<int64_t> per_user;
  for (auto [b, e] : ranges) per_user.push_back(static_cast<int64_t>(e - b));
  std::sort(per_user.begin(), per_user.end());
  evaluation["dataSummary"] = {
      {"source", spec.training_data.value("source", "")},
      {"rows", data.rows},
      {"skippedRows", data.skipped_missing_id + data.skipped_weight},
      {"users", num_users},
      {"items", num_items},
      {"interactions", pairs.size()},
      {"events", data.events.size()},
      {"density", density},
      {"itemsPerUser",
       {{"median", per_user[per_user.size() / 2]},
        {"mean", static_cast<double>(pairs.size()) / static_cast<double>(num_users)},
        {"max", per_user.back()}}},
      {"weighting", data.WeightingDescription()},
      {"trainInteractions", train_pairs_last},
      {"testInteractions", test_pairs_last},
      {"evaluatedUsers", evaluated_users},
      {"trainSeconds", train_seconds}};
  Json validation = {{"strategy", strategy}};
  if (strategy == "train_test_split") {
    validation["description"] =
        StrCat("each user with 2+ items: the latest ", params.test_size * 100,
               "% of their distinct items (at least 1) held out");
  } else if (strategy == "k_fold") {
    validation["description"] = StrCat(n_folds,
                                       " folds over each user's distinct items; metrics "
                                       "are the mean over folds");
  } else {
    validation["description"] = StrCat(
        n_folds, " expanding windows over ", params.folds + 1, " blocks of equal event count in ",
        "created_at order: train on every interaction before a block, test on the items users "
        "first touch in it; metrics are the mean over windows");
  }
  evaluation["validation"] = validation;
  Json algo = {{"name", AlgorithmTitle(best.algorithm)}, {"params", best.ToJson()}};
  if (als) {
    algo["finalEpochs"] = final_params.epochs;
    algo["earlyStopped"] = any_early_stop;
    if (!best_epochs.empty()) algo["bestEpochs"] = best_epochs;
    algo["threads"] = threads;
  }
  algo["refit"] = "the deployed model is refit on every interaction";
  evaluation["algorithm"] = algo;
  evaluation["trainingMode"] = training_mode;
  if (!tuning.is_null()) evaluation["tuning"] = tuning;

  // ---- Artifact ----
  progress.Report(94, "saving");
  RETURN_IF_ERROR(CheckCancel(ctx));
  std::vector<int32_t> ids;
  std::vector<float> weights;
  ids.reserve(pairs.size() * 2);
  weights.reserve(pairs.size());
  for (const Pair& p : pairs) {
    ids.push_back(p.user);
    ids.push_back(p.item);
    weights.push_back(p.weight);
  }
  const std::string eigen_version =
      StrCat(EIGEN_WORLD_VERSION, ".", EIGEN_MAJOR_VERSION, ".", EIGEN_MINOR_VERSION);
  Json bundle = {{"modelType", spec.model_type.empty() ? "recommendation" : spec.model_type},
                 {"task", "ranking"},
                 {"framework", "eigen"},
                 {"libraryVersions", {{"eigen", eigen_version}}},
                 {"trainedAt", common::FormatIso8601(ctx.clock ? ctx.clock->NowMillis() : 0)},
                 {"dataFingerprint", Fingerprint(ids.data(), ids.size() * sizeof(int32_t),
                                                 weights.data(), weights.size() * sizeof(float))},
                 {"transform",
                  {{"userColumn", "user_id"},
                   {"itemColumn", "item_id"},
                   {"weighting", data.WeightingDescription()},
                   {"source", spec.training_data.value("source", "")}}},
                 {"hyperparameters", final_params.ToJson()},
                 {"model", EncodeRecommender(final_model, data.user_ids, data.item_ids)}};
  const std::string path = spec.artifact_dir + "/model.json";
  RETURN_IF_ERROR(WriteBundle(path, bundle));
  TrainResult result;
  result.evaluation = std::move(evaluation);
  TrainedModel tm;
  tm.framework = "eigen";
  tm.version = eigen_version;
  tm.file_path = path;
  tm.metadata = {{"task", "ranking"},
                 {"algorithm", best.algorithm},
                 {"inputColumns", {"userId"}},
                 {"users", num_users},
                 {"items", num_items},
                 {"dataFingerprint", bundle["dataFingerprint"]},
                 {"libraryVersions", bundle["libraryVersions"]}};
  result.model = std::move(tm);
  progress.Report(100, "saving");
  return result;
}

}  // namespace

absl::StatusOr<TrainResult> RecommendTrainer::Train(const TrainSpec& spec, TrainContext& ctx) {
  try {
    return TrainRecommender(spec, ctx);
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(
        "out of memory while training the recommender; raise computeResources.memory or add "
        "filters");
  } catch (const std::exception& e) {
    return absl::InternalError(StrCat("recommendation training failed: ", e.what()));
  }
}

}  // namespace tsml::train::recommend
