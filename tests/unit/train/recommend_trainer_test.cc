// The recommendation trainer on seeded demo data (SQLite): ALS and item-kNN beat the
// most-popular baseline, every validation strategy, save → load → same recommendations, cold
// start, cancellation, progress, and the predictor's input checks.
#include "support/train_spec.h"
#include "support/recording_sink.h"
#include "train/recommend/recommend_trainer.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/cancellation.h"
#include "common/clock.h"
#include "common/errors.h"
#include "data/demo_data.h"
#include "gtest/gtest.h"
#include "store/sql.h"
#include "train/bundle.h"
#include "train/hyperparams.h"
#include "train/recommend/als.h"
#include "train/recommend/item_knn.h"
#include "train/recommend/recommend_model.h"
#include "train/recommend/register.h"

namespace tsml::train::recommend {
namespace {

namespace fs = std::filesystem;

using test::RecordingSink;

class RecommendTrainerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ =
        new fs::path(fs::temp_directory_path() / ("tsml_rec_test_" + std::to_string(::getpid())));
    fs::remove_all(*dir_);
    fs::create_directories(*dir_);
    auto db = store::OpenDatabase("sqlite://" + (*dir_ / "d.db").string());
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = db->release();
    data::DemoOptions options;
    options.events = 30000;
    options.seed = 7;
    auto report = data::SeedDemo(*db_, options);
    ASSERT_TRUE(report.ok()) << report.status();
  }
  static void TearDownTestSuite() {
    delete db_;
    db_ = nullptr;
    fs::remove_all(*dir_);
    delete dir_;
  }

  using Run = test::TrainRun;

  // Trains with `hyperparameters` (validated and defaults filled, as the service does).
  Run Train(Json hyperparameters = Json::object(), std::string strategy = "train_test_split",
            Json training_data = {{"source", "user_events"}},
            common::CancellationToken* token = nullptr, double memory_gb = 8) {
    TrainSpec spec = test::MakeTrainSpec("job" + std::to_string(++counter_), "recommendation",
                                         std::move(training_data), RecommendHyperparams(),
                                         hyperparameters, std::move(strategy), dir_->string(),
                                         memory_gb);
    RecommendTrainer trainer;
    return test::RunTrainer(trainer, spec, db_, token);
  }

  static std::unique_ptr<RecommendPredictor> LoadPredictor(const TrainResult& r) {
    auto p = RecommendPredictor::Load(r.model->file_path);
    EXPECT_TRUE(p.ok()) << p.status();
    return p.ok() ? std::move(*p) : nullptr;
  }

  static void ExpectMonotonic(const Run& run) {
    test::ExpectMonotonicProgress(run.progress, run.stages);
  }

  static inline fs::path* dir_ = nullptr;
  static inline store::Database* db_ = nullptr;
  static inline int counter_ = 0;
};

TEST_F(RecommendTrainerTest, AlsBeatsMostPopularByAClearMargin) {
  Run run = Train();
  ASSERT_TRUE(run.result.ok()) << run.result.status();
  const Json& ev = run.result->evaluation;
  const Json& m = ev["metrics"];
  const Json& b = ev["baseline"]["metrics"];
  std::cout << "ALS ndcg@10 " << m["ndcgAtK"] << " vs most popular " << b["ndcgAtK"]
            << "; precision@10 " << m["precisionAtK"] << " vs " << b["precisionAtK"] << " in "
            << run.seconds << " s\n";
  EXPECT_EQ(ev["task"], "ranking");
  EXPECT_EQ(ev["baseline"]["name"], "most_popular");
  for (const char* key : {"precisionAtK", "recallAtK", "ndcgAtK", "mapAtK", "coverage", "k"}) {
    EXPECT_TRUE(m.contains(key)) << key;
    EXPECT_TRUE(b.contains(key)) << key;
  }
  EXPECT_EQ(m["k"], 10);
  EXPECT_GE(m["ndcgAtK"].get<double>(), 1.2 * b["ndcgAtK"].get<double>());
  EXPECT_GE(m["precisionAtK"].get<double>(), 1.2 * b["precisionAtK"].get<double>());
  EXPECT_GT(m["coverage"].get<double>(), b["coverage"].get<double>());
  EXPECT_TRUE(ev["featureImportance"].is_array());
  EXPECT_EQ(ev["errorAnalysis"]["byUserActivity"].size(), 3u);
  EXPECT_GT(ev["dataSummary"]["users"].get<int>(), 1000);
  EXPECT_EQ(ev["dataSummary"]["items"].get<int>(), 300);
  EXPECT_GT(ev["dataSummary"]["evaluatedUsers"].get<int>(), 1000);
  EXPECT_GE(ev["trainingCurve"]["values"].size(), 2u);
  ASSERT_GE(ev["visualizations"].size(), 2u);
  for (const Json& c : ev["visualizations"]) {
    EXPECT_TRUE(fs::exists(c["file"].get<std::string>())) << c;
  }
  ASSERT_TRUE(run.result->model.has_value());
  EXPECT_EQ(run.result->model->framework, "eigen");
  EXPECT_TRUE(fs::exists(run.result->model->file_path));
  ExpectMonotonic(run);
  EXPECT_EQ(run.progress.back(), 100);
  EXPECT_EQ(run.stages.back(), "saving");
}

TEST_F(RecommendTrainerTest, ItemKnnTrainsAndIsEvaluated) {
  Run run = Train({{"algorithm", "item_knn"}, {"neighbors", 40}});
  ASSERT_TRUE(run.result.ok()) << run.result.status();
  const Json& ev = run.result->evaluation;
  std::cout << "item-kNN ndcg@10 " << ev["metrics"]["ndcgAtK"] << " vs most popular "
            << ev["baseline"]["metrics"]["ndcgAtK"] << "\n";
  EXPECT_GT(ev["metrics"]["ndcgAtK"].get<double>(),
            ev["baseline"]["metrics"]["ndcgAtK"].get<double>());
  EXPECT_EQ(ev["algorithm"]["params"]["algorithm"], "item_knn");
  auto predictor = LoadPredictor(*run.result);
  ASSERT_NE(predictor, nullptr);
  auto out = predictor->Predict(Json::array({{{"userId", predictor->user_ids()[3]}}}), {{"k", 5}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ((*out)[0]["items"].size(), 5u);
  EXPECT_FALSE((*out)[0]["coldStart"].get<bool>());
  auto similar = predictor->SimilarItems(predictor->item_ids()[0], 3);
  ASSERT_TRUE(similar.ok());
  EXPECT_EQ(similar->size(), 3u);
  ExpectMonotonic(run);
}

TEST_F(RecommendTrainerTest, SaveLoadGivesIdenticalRecommendationsAndColdStartGetsPopularItems) {
  Run run = Train({{"epochs", 5}});
  ASSERT_TRUE(run.result.ok()) << run.result.status();
  auto a = LoadPredictor(*run.result);
  ASSERT_NE(a, nullptr);
  // Through the registry, as the serving path loads it.
  TrainerRegistry trainers;
  PredictorRegistry predictors;
  RegisterRecommendation(trainers, predictors);
  ASSERT_TRUE(trainers.Has("recommendation"));
  ASSERT_NE(trainers.Hyperparams("recommendation"), nullptr);
  auto b = predictors.Load("recommendation", run.result->model->file_path);
  ASSERT_TRUE(b.ok()) << b.status();

  Json instances = Json::array();
  for (int i = 0; i < 50; ++i) instances.push_back({{"userId", a->user_ids()[i * 7]}});
  instances.push_back({{"user_id", a->user_ids()[1]}, {"k", 3}});
  instances.push_back({{"userId", "nobody-knows-me"}});
  auto pa = a->Predict(instances, {{"k", 10}});
  auto pb = (*b)->Predict(instances, {{"k", 10}});
  ASSERT_TRUE(pa.ok()) << pa.status();
  ASSERT_TRUE(pb.ok()) << pb.status();
  EXPECT_EQ(*pa, *pb);
  ASSERT_EQ(pa->size(), instances.size());
  EXPECT_EQ((*pa)[0]["items"].size(), 10u);
  EXPECT_EQ((*pa)[50]["items"].size(), 3u);
  EXPECT_EQ((*pa)[50]["userId"], a->user_ids()[1]);

  // The user's own training items are never recommended.
  const int32_t u = 7 * 3;
  const SparseMatrix& seen = a->model().seen();
  for (const Json& item : (*pa)[3]["items"]) {
    const std::string id = item["itemId"];
    const auto pos =
        std::find(a->item_ids().begin(), a->item_ids().end(), id) - a->item_ids().begin();
    EXPECT_FALSE(seen.Contains(u, static_cast<int32_t>(pos))) << id;
  }
  // Scores are in descending order.
  for (size_t i = 1; i < (*pa)[0]["items"].size(); ++i) {
    EXPECT_GE((*pa)[0]["items"][i - 1]["score"].get<double>(),
              (*pa)[0]["items"][i]["score"].get<double>());
  }

  // Cold start: the most popular items.
  const Json& cold = (*pa)[51];
  EXPECT_TRUE(cold["coldStart"].get<bool>());
  const std::vector<ScoredItem> popular = a->model().Popular(10);
  ASSERT_EQ(cold["items"].size(), 10u);
  for (size_t i = 0; i < popular.size(); ++i) {
    EXPECT_EQ(cold["items"][i]["itemId"], a->item_ids()[popular[i].item]);
  }
  EXPECT_FALSE((*pa)[0]["coldStart"].get<bool>());
}

TEST_F(RecommendTrainerTest, PredictRejectsBadInput) {
  Run run = Train({{"epochs", 2}, {"k", 4}});
  ASSERT_TRUE(run.result.ok()) << run.result.status();
  EXPECT_EQ(run.result->evaluation["metrics"]["k"], 4);
  auto p = LoadPredictor(*run.result);
  ASSERT_NE(p, nullptr);
  // Without options, lists have the length the model was evaluated at.
  auto plain =
      p->Predict(Json::array({{{"userId", p->user_ids()[0]}}, {{"userId", "new"}}}), Json());
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ((*plain)[0]["items"].size(), 4u);
  EXPECT_EQ((*plain)[1]["items"].size(), 4u);
  auto expect_invalid = [&](const Json& instances, const Json& options, const std::string& needle) {
    auto out = p->Predict(instances, options);
    ASSERT_FALSE(out.ok()) << instances;
    EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(std::string(out.status().message()).find(needle), std::string::npos) << out.status();
  };
  expect_invalid(Json::array({{{"userId", 100001}}}), Json::object(), "instances[0].userId");
  expect_invalid(Json::array({{{"userId", "u1"}}, {{"name", "x"}}}), Json::object(),
                 "instances[1]");
  expect_invalid(Json::array({Json("u1")}), Json::object(), "instances[0]");
  expect_invalid(Json::object(), Json::object(), "array");
  expect_invalid(Json::array({{{"userId", "u1"}}}), {{"k", 0}}, "options.k");
  expect_invalid(Json::array({{{"userId", "u1"}}}), {{"k", "ten"}}, "options.k");
  expect_invalid(Json::array({{{"userId", "u1"}, {"k", 2.5}}}), Json::object(), "instances[0].k");
  auto empty = p->Predict(Json::array(), Json());
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  EXPECT_EQ(p->SimilarItems("no-such-item", 5).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(p->InputColumns(), std::vector<std::string>{"userId"});
}

TEST_F(RecommendTrainerTest, TimeSeriesSplitTrainsOnThePastOnly) {
  Run run = Train({{"epochs", 8}}, "time_series_split");
  ASSERT_TRUE(run.result.ok()) << run.result.status();
  const Json& ev = run.result->evaluation;
  ASSERT_TRUE(ev["folds"].is_array());
  EXPECT_GE(ev["folds"].size(), 2u);
  for (const Json& f : ev["folds"]) EXPECT_TRUE(f.contains("trainBefore")) << f;
  EXPECT_TRUE(ev["foldSummary"].contains("std"));
  EXPECT_GT(ev["metrics"]["ndcgAtK"].get<double>(),
            ev["baseline"]["metrics"]["ndcgAtK"].get<double>());
  ExpectMonotonic(run);
}

TEST_F(RecommendTrainerTest, KFoldReportsEveryFoldWithMeanAndStd) {
  Run run = Train({{"folds", 3}, {"epochs", 8}}, "k_fold");
  ASSERT_TRUE(run.result.ok()) << run.result.status();
  const Json& ev = run.result->evaluation;
  ASSERT_EQ(ev["folds"].size(), 3u);
  EXPECT_TRUE(ev["foldSummary"]["mean"].contains("ndcgAtK"));
  EXPECT_TRUE(ev["foldSummary"]["std"]["ndcgAtK"].is_number());
  EXPECT_NEAR(ev["metrics"]["ndcgAtK"].get<double>(),
              ev["foldSummary"]["mean"]["ndcgAtK"].get<double>(), 1e-12);
  EXPECT_GE(ev["metrics"]["ndcgAtK"].get<double>(),
            1.2 * ev["baseline"]["metrics"]["ndcgAtK"].get<double>());
  ExpectMonotonic(run);
}

TEST_F(RecommendTrainerTest, CancellationStopsWithinTwoSeconds) {
  common::CancellationToken token;
  std::chrono::steady_clock::time_point cancelled_at;
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    cancelled_at = std::chrono::steady_clock::now();
    token.Cancel(common::CancelReason::kUser);
  });
  // A long job: many wide epochs without early stopping.
  Run run = Train({{"factors", 256}, {"epochs", 100}, {"earlyStopping", false}, {"cgSteps", 20}},
                  "k_fold", {{"source", "user_events"}}, &token);
  const auto finished = std::chrono::steady_clock::now();
  canceller.join();
  ASSERT_FALSE(run.result.ok());
  EXPECT_EQ(run.result.status().code(), absl::StatusCode::kCancelled) << run.result.status();
  EXPECT_LT(std::chrono::duration<double>(finished - cancelled_at).count(), 2.0);

  common::CancellationToken already;
  already.Cancel(common::CancelReason::kUser);
  Run early = Train(Json::object(), "train_test_split", {{"source", "user_events"}}, &already);
  EXPECT_EQ(early.result.status().code(), absl::StatusCode::kCancelled);
}

TEST_F(RecommendTrainerTest, TuningRunsARandomSearch) {
  Run run = Train({{"epochs", 6}, {"tuning", {{"trials", 3}, {"timeBudgetSeconds", 60}}}});
  ASSERT_TRUE(run.result.ok()) << run.result.status();
  const Json& t = run.result->evaluation["tuning"];
  EXPECT_EQ(t["trials"], 3);
  EXPECT_TRUE(t["best"].contains("factors"));
  EXPECT_EQ(t["history"].size(), 3u);
  bool saw_tuning = false;
  for (const auto& s : run.stages) saw_tuning = saw_tuning || s == "tuning";
  EXPECT_TRUE(saw_tuning);
  ExpectMonotonic(run);
}

TEST_F(RecommendTrainerTest, OtherSourcesAndErrors) {
  // reviews: weighted by rating.
  Run reviews = Train({{"epochs", 5}}, "train_test_split", {{"source", "reviews"}});
  ASSERT_TRUE(reviews.result.ok()) << reviews.result.status();
  EXPECT_NE(
      reviews.result->evaluation["dataSummary"]["weighting"].get<std::string>().find("rating"),
      std::string::npos);
  // bookings: one per row.
  Run bookings = Train({{"epochs", 5}}, "train_test_split", {{"source", "bookings"}});
  ASSERT_TRUE(bookings.result.ok()) << bookings.result.status();
  // trips has no item_id.
  Run trips = Train(Json::object(), "train_test_split", {{"source", "trips"}});
  EXPECT_EQ(trips.result.status().code(), absl::StatusCode::kInvalidArgument);
  // Filters that match nothing.
  Run none = Train(Json::object(), "train_test_split",
                   {{"source", "user_events"}, {"filters", {{"event_type", "no-such-type"}}}});
  EXPECT_EQ(none.result.status().code(), absl::StatusCode::kFailedPrecondition);
  // A memory cap far below the data.
  Run small =
      Train(Json::object(), "train_test_split", {{"source", "user_events"}}, nullptr, 0.001);
  EXPECT_EQ(small.result.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(std::string(small.result.status().message()).find("computeResources.memory"),
            std::string::npos);
}

TEST(RecommendHyperparamsTest, RangesAreChecked) {
  common::ValidationErrors errors;
  Json out = ValidateHyperparameters(RecommendHyperparams(), Json::object(), errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(out["algorithm"], "als");
  EXPECT_EQ(out["factors"], 32);
  EXPECT_EQ(out["epochs"], 15);
  EXPECT_EQ(out["k"], 10);
  common::ValidationErrors bad;
  ValidateHyperparameters(RecommendHyperparams(),
                          {{"factors", 1}, {"algorithm", "svd"}, {"alpha", -1}, {"nope", 1}}, bad);
  EXPECT_EQ(bad.errors().size(), 4u);
  EXPECT_NE(HyperparamTable(RecommendHyperparams()).find("`factors`"), std::string::npos);
}

TEST(EventTypeWeightTest, Ladder) {
  bool known = false;
  EXPECT_LT(EventTypeWeight("view"), EventTypeWeight("click"));
  EXPECT_LT(EventTypeWeight("click"), EventTypeWeight("wishlist"));
  EXPECT_LT(EventTypeWeight("wishlist"), EventTypeWeight("BOOK ", &known));
  EXPECT_TRUE(known);
  EXPECT_EQ(EventTypeWeight("scroll", &known), 1.0f);
  EXPECT_FALSE(known);
}

// Two groups of users each consuming their own half of the items: ALS must rank the unseen
// items of the user's own half first, and item-kNN too.
SparseMatrix Blocks(int32_t users, int32_t items) {
  std::vector<Triplet> t;
  for (int32_t u = 0; u < users; ++u) {
    const int32_t half = u % 2;
    for (int32_t i = 0; i < items / 2; ++i) {
      // Leave a pseudo-random 30 % unseen (a pattern without structure of its own).
      const uint32_t h =
          (static_cast<uint32_t>(u) * 2654435761u) ^ (static_cast<uint32_t>(i) * 40503u);
      if ((h >> 7) % 100 < 30) continue;
      t.push_back({u, half * (items / 2) + i, 1.0f});
    }
  }
  return SparseMatrix::FromTriplets(users, items, std::move(t));
}

TEST(AlsTest, LearnsBlockStructureAndRoundTrips) {
  auto seen = std::make_shared<SparseMatrix>(Blocks(40, 20));
  AlsOptions o;
  o.factors = 2;  // the block structure, with no room to overfit the random holes
  o.regularization = 1;
  o.epochs = 10;
  o.threads = 2;
  int epochs_seen = 0;
  AlsHooks hooks;
  hooks.on_epoch = [&](int epoch, const AlsFactors&) {
    epochs_seen = epoch;
    return true;
  };
  auto f = TrainAls(*seen, o, hooks);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(epochs_seen, 10);
  const RecommenderModel m = RecommenderModel::FromAls(*f, seen);
  std::vector<int32_t> users(40);
  for (int32_t u = 0; u < 40; ++u) users[u] = u;
  auto recs = m.Recommend(users, 20);
  ASSERT_TRUE(recs.ok());
  for (int32_t u = 0; u < 40; ++u) {
    // Every unseen item of the user's own half ranks above every item of the other half.
    size_t own_unseen = 0;
    for (int32_t i = 0; i < 10; ++i) own_unseen += !seen->Contains(u, (u % 2) * 10 + i);
    ASSERT_EQ((*recs)[u].size(), static_cast<size_t>(20 - seen->RowSize(u)));
    for (size_t r = 0; r < (*recs)[u].size(); ++r) {
      const ScoredItem& s = (*recs)[u][r];
      EXPECT_EQ(s.item / 10 == u % 2, r < own_unseen) << "user " << u << " rank " << r;
      EXPECT_FALSE(seen->Contains(u, s.item));
    }
  }
  // ToJson → FromJson gives the same recommendations.
  auto back = RecommenderModel::FromJson(Json::parse(m.ToJson().dump()));
  ASSERT_TRUE(back.ok()) << back.status();
  auto recs2 = back->Recommend(users, 20);
  ASSERT_TRUE(recs2.ok());
  for (int32_t u = 0; u < 40; ++u) {
    ASSERT_EQ((*recs)[u].size(), (*recs2)[u].size());
    for (size_t i = 0; i < (*recs)[u].size(); ++i) {
      EXPECT_EQ((*recs)[u][i].item, (*recs2)[u][i].item);
      EXPECT_EQ((*recs)[u][i].score, (*recs2)[u][i].score);
    }
  }
  // Similar items stay in the same half.
  for (const ScoredItem& s : m.SimilarItems(2, 5)) EXPECT_LT(s.item, 10);

  // A corrupted model is refused.
  Json broken = m.ToJson();
  broken["numItems"] = 5;
  EXPECT_EQ(RecommenderModel::FromJson(broken).status().code(), absl::StatusCode::kInvalidArgument);
}

// With as many CG steps as factors, each half-epoch is an exact least-squares solve, so the
// Hu–Koren–Volinsky objective never increases: a check of the solver against its definition.
TEST(AlsTest, ObjectiveDecreasesEveryEpoch) {
  const SparseMatrix m = Blocks(30, 16);
  AlsOptions o;
  o.factors = 3;
  o.cg_steps = 3;
  o.regularization = 0.5f;
  o.alpha = 4;
  o.epochs = 8;
  auto objective = [&](const AlsFactors& f) {
    double loss = 0;
    for (int32_t u = 0; u < m.rows; ++u) {
      for (int32_t i = 0; i < m.cols; ++i) {
        const double w = m.Contains(u, i) ? 1.0 : 0.0;  // Blocks() weights are 1
        const double c = 1 + o.alpha * w;
        const double e = w - static_cast<double>(f.users.row(u).dot(f.items.row(i)));
        loss += c * e * e;
      }
    }
    return loss + o.regularization * (f.users.squaredNorm() + f.items.squaredNorm());
  };
  std::vector<double> losses;
  AlsHooks hooks;
  hooks.on_epoch = [&](int, const AlsFactors& f) {
    losses.push_back(objective(f));
    return true;
  };
  ASSERT_TRUE(TrainAls(m, o, hooks).ok());
  ASSERT_EQ(losses.size(), 8u);
  for (size_t e = 1; e < losses.size(); ++e) EXPECT_LE(losses[e], losses[e - 1] * (1 + 1e-5)) << e;
  EXPECT_LT(losses.back(), 0.5 * static_cast<double>(m.rows) * m.cols);
}

TEST(AlsTest, WarmStartCopiesKnownRowsByIdAndRandomizesNewOnes) {
  AlsOptions o;
  o.factors = 3;
  NamedFactors prev;
  prev.user_ids = {"a", "b"};
  prev.item_ids = {"x", "y"};
  prev.factors.users = FactorMatrix::Constant(2, 3, 1.0f);
  prev.factors.users.row(1).setConstant(2.0f);
  prev.factors.items = FactorMatrix::Constant(2, 3, 3.0f);
  auto init = WarmStartFactors(prev, {"b", "new", "a"}, {"y", "z"}, o);
  ASSERT_TRUE(init.ok()) << init.status();
  EXPECT_EQ(init->users(0, 0), 2.0f);
  EXPECT_EQ(init->users(2, 1), 1.0f);
  EXPECT_LT(std::abs(init->users(1, 0)), 0.5f);
  EXPECT_EQ(init->items(0, 2), 3.0f);
  o.factors = 4;
  EXPECT_EQ(WarmStartFactors(prev, {"a"}, {"x"}, o).status().code(),
            absl::StatusCode::kInvalidArgument);

  // Retraining from a trained model converges at least as well in fewer epochs.
  SparseMatrix m = Blocks(40, 20);
  AlsOptions full;
  full.factors = 4;
  full.epochs = 10;
  auto trained = TrainAls(m, full);
  ASSERT_TRUE(trained.ok());
  std::vector<std::string> users, items;
  for (int i = 0; i < 40; ++i) users.push_back("u" + std::to_string(i));
  for (int i = 0; i < 20; ++i) items.push_back("i" + std::to_string(i));
  NamedFactors named{users, items, *trained};
  AlsOptions one = full;
  one.epochs = 1;
  auto warm = TrainAlsWarm(m, users, items, named, one);
  ASSERT_TRUE(warm.ok()) << warm.status();
  EXPECT_TRUE(warm->users.allFinite());
}

TEST(AlsTest, CancelledTokenStopsTraining) {
  common::CancellationToken token;
  token.Cancel(common::CancelReason::kUser);
  AlsHooks hooks;
  hooks.cancel = &token;
  auto f = TrainAls(Blocks(40, 20), AlsOptions{}, hooks);
  EXPECT_EQ(f.status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(TrainAls(SparseMatrix{}, AlsOptions{}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ItemKnnTest, NeighboursComeFromTheSameBlock) {
  auto seen = std::make_shared<SparseMatrix>(Blocks(40, 20));
  ItemKnnOptions o;
  o.neighbors = 4;
  auto nb = BuildItemNeighbors(*seen, o);
  ASSERT_TRUE(nb.ok()) << nb.status();
  for (int32_t i = 0; i < 20; ++i) {
    ASSERT_LE(nb->ptr[i + 1] - nb->ptr[i], 4);
    for (int64_t e = nb->ptr[i]; e < nb->ptr[i + 1]; ++e) {
      EXPECT_EQ(nb->index[e] / 10, i / 10);
      EXPECT_NE(nb->index[e], i);
      if (e > nb->ptr[i]) {
        EXPECT_LE(nb->similarity[e], nb->similarity[e - 1]);
      }
    }
  }
  const RecommenderModel m = RecommenderModel::FromItemKnn(*nb, seen);
  auto back = RecommenderModel::FromJson(Json::parse(m.ToJson().dump()));
  ASSERT_TRUE(back.ok()) << back.status();
  std::vector<int32_t> users = {0, 1, 2, 3};
  auto a = m.Recommend(users, 5);
  auto b = back->Recommend(users, 5);
  ASSERT_TRUE(a.ok() && b.ok());
  for (size_t u = 0; u < users.size(); ++u) {
    ASSERT_EQ((*a)[u].size(), (*b)[u].size());
    for (size_t i = 0; i < (*a)[u].size(); ++i) EXPECT_EQ((*a)[u][i].item, (*b)[u][i].item);
  }
}

// Prints the hyperparameter table of docs/models/recommendation.md.
TEST(RecommendExperiment, DISABLED_PrintHyperparamTable) {
  std::cout << HyperparamTable(RecommendHyperparams());
}

// Manual experiments: TSML_REC_EVENTS=100000 TSML_REC_HP='{"alpha":5}' TSML_REC_STRATEGY=k_fold
// recommend_trainer_tests --gtest_also_run_disabled_tests --gtest_filter='*Experiment*'
TEST(RecommendExperiment, DISABLED_Experiment) {
  const char* ev = std::getenv("TSML_REC_EVENTS");
  const int64_t events = ev ? std::atoll(ev) : 100000;
  const std::string path = "/tmp/tsml_rec_exp_" + std::to_string(events) + ".db";
  const bool fresh = !fs::exists(path);
  auto db = store::OpenDatabase("sqlite://" + path);
  ASSERT_TRUE(db.ok());
  if (fresh) {
    data::DemoOptions o;
    o.events = events;
    ASSERT_TRUE(data::SeedDemo(**db, o).ok());
  }
  const char* hp = std::getenv("TSML_REC_HP");
  common::ValidationErrors errors;
  TrainSpec spec;
  spec.model_type = "recommendation";
  spec.training_data = {
      {"source", std::getenv("TSML_REC_SOURCE") ? std::getenv("TSML_REC_SOURCE") : "user_events"}};
  spec.hyperparameters = ValidateHyperparameters(RecommendHyperparams(),
                                                 hp ? Json::parse(hp) : Json::object(), errors);
  ASSERT_TRUE(errors.empty()) << errors.ToStatus();
  if (const char* s = std::getenv("TSML_REC_STRATEGY")) spec.validation_strategy = s;
  spec.cpu = 2;
  spec.artifact_dir = "/tmp/tsml_rec_exp_out";
  common::CancellationToken token;
  TrainContext ctx{nullptr, &token, common::SystemClock::Default(), db->get()};
  RecommendTrainer trainer;
  const auto start = std::chrono::steady_clock::now();
  auto r = trainer.Train(spec, ctx);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(r.ok()) << r.status();
  Json e = r->evaluation;
  std::cout << "seconds " << s << "\nmetrics " << e["metrics"].dump() << "\nbaseline "
            << e["baseline"]["metrics"].dump() << "\nalgorithm " << e["algorithm"].dump()
            << "\ncurve " << e.value("trainingCurve", Json()).dump() << "\nsummary "
            << e["dataSummary"].dump() << "\nerrors " << e["errorAnalysis"].dump() << "\nwarnings "
            << e["warnings"].dump() << "\ntuning " << e.value("tuning", Json()).dump()
            << "\nbundle bytes " << fs::file_size(r->model->file_path) << "\n";
}

}  // namespace
}  // namespace tsml::train::recommend
