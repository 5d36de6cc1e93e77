#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <pugixml.hpp>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "train/eval/charts.h"
#include "train/eval/metrics.h"

namespace tsml::train::eval {
namespace {

constexpr double kTol = 1e-9;

// The small example used throughout (as in scikit-learn's roc_auc_score docs).
const std::vector<int> kY = {0, 0, 1, 1};
const std::vector<double> kP = {0.1, 0.4, 0.35, 0.8};

template <typename T>
T ValueOrDie(absl::StatusOr<T> s) {
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *std::move(s) : T{};
}

// ---- Binary classification ----------------------------------------------------------------

TEST(BinaryMetricsTest, HandComputedExample) {
  const Json m = ValueOrDie(BinaryClassificationMetrics(kY, kP));
  // Predicted positive: only 0.8 → TP 1, FN 1, TN 2, FP 0.
  EXPECT_NEAR(m["accuracy"].get<double>(), 0.75, kTol);
  EXPECT_NEAR(m["precision"].get<double>(), 1.0, kTol);
  EXPECT_NEAR(m["recall"].get<double>(), 0.5, kTol);
  EXPECT_NEAR(m["f1Score"].get<double>(), 2.0 / 3.0, kTol);
  EXPECT_NEAR(m["rocAuc"].get<double>(), 0.75, kTol);
  // -(ln 0.9 + ln 0.6 + ln 0.35 + ln 0.8) / 4
  EXPECT_NEAR(m["logLoss"].get<double>(), 0.4722879534, 1e-9);
  // Ranked: + (R .5, P 1), - , + (R 1, P 2/3), -  →  .5 * 1 + .5 * 2/3.
  EXPECT_NEAR(m["averagePrecision"].get<double>(), 5.0 / 6.0, kTol);
  EXPECT_EQ(m["threshold"].get<double>(), 0.5);
}

TEST(BinaryMetricsTest, ContractNamesOnly) {
  const Json m = ValueOrDie(BinaryClassificationMetrics(kY, kP));
  for (const char* key : {"accuracy", "precision", "recall", "f1Score", "rocAuc", "logLoss"}) {
    EXPECT_TRUE(m.contains(key)) << key;
  }
}

TEST(BinaryMetricsTest, ThresholdChangesPredictions) {
  const Json m = ValueOrDie(BinaryClassificationMetrics(kY, kP, 0.3));
  // Positive: 0.4 (neg), 0.35 (pos), 0.8 (pos) → TP 2, FP 1, TN 1.
  EXPECT_NEAR(m["precision"].get<double>(), 2.0 / 3.0, kTol);
  EXPECT_NEAR(m["recall"].get<double>(), 1.0, kTol);
  EXPECT_NEAR(m["accuracy"].get<double>(), 0.75, kTol);
}

TEST(BinaryMetricsTest, AucCountsTiesAsHalf) {
  // Positive scores {0.5, 0.9}, negative {0.5, 0.2}: pairs 0.5/0.5 tie (1/2), the rest won.
  const std::optional<double> auc =
      ValueOrDie(RocAuc(std::vector<int>{0, 1, 0, 1}, std::vector<double>{0.5, 0.5, 0.2, 0.9}));
  ASSERT_TRUE(auc.has_value());
  EXPECT_NEAR(*auc, 3.5 / 4.0, kTol);
}

TEST(BinaryMetricsTest, AucMatchesPairwiseReferenceWithTies) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<int> y(500);
  std::vector<double> p(500);
  for (size_t i = 0; i < y.size(); ++i) {
    y[i] = u(rng) < 0.3 ? 1 : 0;
    p[i] = std::round((y[i] ? 0.2 : 0.0) + 0.8 * u(rng) * 20) / 20;  // heavy ties
  }
  double wins = 0, pairs = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    for (size_t j = 0; j < y.size(); ++j) {
      if (y[i] != 1 || y[j] != 0) continue;
      pairs += 1;
      wins += p[i] > p[j] ? 1.0 : p[i] == p[j] ? 0.5 : 0.0;
    }
  }
  const std::optional<double> auc = ValueOrDie(RocAuc(y, p));
  ASSERT_TRUE(auc.has_value());
  EXPECT_NEAR(*auc, wins / pairs, 1e-12);
  // The trapezoidal area under the full (unsampled) ROC curve agrees.
  const Json roc = ValueOrDie(RocCurve(y, p, 100000));
  double area = 0;
  for (size_t i = 1; i < roc.size(); ++i) {
    area += (roc[i]["fpr"].get<double>() - roc[i - 1]["fpr"].get<double>()) *
            (roc[i]["tpr"].get<double>() + roc[i - 1]["tpr"].get<double>()) / 2;
  }
  EXPECT_NEAR(area, *auc, 1e-12);
}

TEST(BinaryMetricsTest, RocCurveSmallExample) {
  const Json roc = ValueOrDie(RocCurve(kY, kP));
  ASSERT_EQ(roc.size(), 5u);
  EXPECT_TRUE(roc[0]["threshold"].is_null());
  const double expected[5][3] = {{0, 0, 0}, {0, .5, .8}, {.5, .5, .4}, {.5, 1, .35}, {1, 1, .1}};
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_NEAR(roc[i]["fpr"].get<double>(), expected[i][0], kTol) << i;
    EXPECT_NEAR(roc[i]["tpr"].get<double>(), expected[i][1], kTol) << i;
    if (i > 0) {
      EXPECT_NEAR(roc[i]["threshold"].get<double>(), expected[i][2], kTol) << i;
    }
  }
}

TEST(BinaryMetricsTest, PrecisionRecallCurveSmallExample) {
  const Json pr = ValueOrDie(PrecisionRecallCurve(kY, kP));
  ASSERT_EQ(pr.size(), 5u);
  const double expected[5][2] = {{0, 1}, {.5, 1}, {.5, .5}, {1, 2.0 / 3}, {1, .5}};
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_NEAR(pr[i]["recall"].get<double>(), expected[i][0], kTol) << i;
    EXPECT_NEAR(pr[i]["precision"].get<double>(), expected[i][1], kTol) << i;
  }
}

TEST(BinaryMetricsTest, CurvesAreDownsampledAndMonotone) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<int> y(20000);
  std::vector<double> p(y.size());
  for (size_t i = 0; i < y.size(); ++i) {
    y[i] = u(rng) < 0.4 ? 1 : 0;
    p[i] = std::clamp(0.3 * y[i] + 0.7 * u(rng), 0.0, 1.0);
  }
  const Json report = ValueOrDie(EvaluateBinary(y, p));
  const Json& roc = report["rocCurve"];
  ASSERT_LE(roc.size(), 200u);
  ASSERT_GE(roc.size(), 100u);
  EXPECT_EQ(roc.front()["fpr"].get<double>(), 0.0);
  EXPECT_EQ(roc.front()["tpr"].get<double>(), 0.0);
  EXPECT_EQ(roc.back()["fpr"].get<double>(), 1.0);
  EXPECT_EQ(roc.back()["tpr"].get<double>(), 1.0);
  for (size_t i = 1; i < roc.size(); ++i) {
    EXPECT_GE(roc[i]["fpr"].get<double>(), roc[i - 1]["fpr"].get<double>()) << i;
    EXPECT_GE(roc[i]["tpr"].get<double>(), roc[i - 1]["tpr"].get<double>()) << i;
  }
  for (size_t i = 2; i < roc.size(); ++i) {
    EXPECT_LT(roc[i]["threshold"].get<double>(), roc[i - 1]["threshold"].get<double>()) << i;
  }
  const Json& pr = report["precisionRecallCurve"];
  ASSERT_LE(pr.size(), 200u);
  for (size_t i = 1; i < pr.size(); ++i) {
    EXPECT_GE(pr[i]["recall"].get<double>(), pr[i - 1]["recall"].get<double>()) << i;
  }
  EXPECT_EQ(pr.back()["recall"].get<double>(), 1.0);
  EXPECT_GT(report["metrics"]["rocAuc"].get<double>(), 0.6);
  const Json& cm = report["confusionMatrix"];
  EXPECT_EQ(cm["labels"], Json({"0", "1"}));
  int64_t total = 0;
  for (const Json& row : cm["counts"]) {
    for (const Json& c : row) total += c.get<int64_t>();
  }
  EXPECT_EQ(total, 20000);
}

TEST(BinaryMetricsTest, ConfusionMatrixRowsAreActual) {
  const std::vector<std::string> names = {"stay", "churn"};
  const Json cm = ValueOrDie(BinaryConfusionMatrix(kY, kP, 0.3, names));
  EXPECT_EQ(cm["labels"], Json({"stay", "churn"}));
  // Actual 0: 0.1 → 0, 0.4 → 1; actual 1: both predicted 1.
  EXPECT_EQ(cm["counts"], Json({{1, 1}, {0, 2}}));
}

TEST(BinaryMetricsTest, SingleClassGivesNullAucAndEmptyRoc) {
  const std::vector<int> y = {1, 1, 1};
  const std::vector<double> p = {0.2, 0.7, 0.9};
  const Json report = ValueOrDie(EvaluateBinary(y, p));
  EXPECT_TRUE(report["metrics"]["rocAuc"].is_null());
  EXPECT_TRUE(report["rocCurve"].empty());
  EXPECT_NEAR(report["metrics"]["averagePrecision"].get<double>(), 1.0, kTol);
  EXPECT_FALSE(report["precisionRecallCurve"].empty());

  const Json negatives =
      ValueOrDie(EvaluateBinary(std::vector<int>{0, 0}, std::vector<double>{0.1, 0.6}));
  EXPECT_TRUE(negatives["metrics"]["rocAuc"].is_null());
  EXPECT_TRUE(negatives["metrics"]["averagePrecision"].is_null());
  EXPECT_TRUE(negatives["precisionRecallCurve"].empty());
  EXPECT_EQ(negatives["metrics"]["precision"].get<double>(), 0.0);  // 0 TP of 1 predicted
  EXPECT_EQ(negatives["metrics"]["recall"].get<double>(), 0.0);     // no positives at all
}

TEST(BinaryMetricsTest, LogLossIsClipped) {
  const Json m = ValueOrDie(
      BinaryClassificationMetrics(std::vector<int>{1, 0}, std::vector<double>{0.0, 1.0}));
  EXPECT_NEAR(m["logLoss"].get<double>(), -std::log(kLogLossEpsilon), 1e-6);
}

TEST(BinaryMetricsTest, RejectsBadInput) {
  const std::vector<int> none;
  const std::vector<double> nothing;
  EXPECT_EQ(BinaryClassificationMetrics(none, nothing).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(BinaryClassificationMetrics(kY, std::vector<double>{0.1, 0.2}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(BinaryClassificationMetrics(std::vector<int>{0, 2}, std::vector<double>{0.1, 0.2})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(BinaryClassificationMetrics(std::vector<int>{0, 1}, std::vector<double>{0.1, NAN})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RocCurve(std::vector<int>{0, 1}, std::vector<double>{0.1, 1.5}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(BinaryClassificationMetrics(kY, kP, NAN).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RocCurve(kY, kP, 1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      BinaryConfusionMatrix(kY, kP, 0.5, std::vector<std::string>{"only one"}).status().code(),
      absl::StatusCode::kInvalidArgument);
}

// ---- Multiclass ---------------------------------------------------------------------------

const std::vector<int> kMultiY = {0, 1, 2, 2};
const std::vector<double> kMultiP = {0.7, 0.2, 0.1,   // → 0 (right)
                                     0.1, 0.6, 0.3,   // → 1 (right)
                                     0.2, 0.5, 0.3,   // → 1 (wrong, is 2)
                                     0.1, 0.1, 0.8};  // → 2 (right)

TEST(MulticlassMetricsTest, HandComputedExample) {
  const Json m = ValueOrDie(MulticlassClassificationMetrics(kMultiY, kMultiP, 3));
  EXPECT_NEAR(m["accuracy"].get<double>(), 0.75, kTol);
  // Per class (P, R): 0 (1, 1), 1 (1/2, 1), 2 (1, 1/2).
  EXPECT_NEAR(m["precision"].get<double>(), 2.5 / 3, kTol);
  EXPECT_NEAR(m["recall"].get<double>(), 2.5 / 3, kTol);
  EXPECT_NEAR(m["f1Score"].get<double>(), (1 + 2.0 / 3 + 2.0 / 3) / 3, kTol);
  EXPECT_NEAR(m["logLoss"].get<double>(),
              -(std::log(0.7) + std::log(0.6) + std::log(0.3) + std::log(0.8)) / 4, kTol);
  EXPECT_FALSE(m.contains("rocAuc"));
}

TEST(MulticlassMetricsTest, ConfusionMatrixWithNamesAndPerClass) {
  const std::vector<std::string> names = {"neg", "neu", "pos"};
  const Json r = ValueOrDie(EvaluateMulticlass(kMultiY, kMultiP, 3, names));
  EXPECT_EQ(r["confusionMatrix"]["labels"], Json({"neg", "neu", "pos"}));
  EXPECT_EQ(r["confusionMatrix"]["counts"], Json({{1, 0, 0}, {0, 1, 0}, {0, 1, 1}}));
  ASSERT_EQ(r["perClass"].size(), 3u);
  EXPECT_EQ(r["perClass"][2]["label"], "pos");
  EXPECT_EQ(r["perClass"][2]["support"], 2);
  EXPECT_NEAR(r["perClass"][1]["precision"].get<double>(), 0.5, kTol);
}

TEST(MulticlassMetricsTest, AbsentClassDoesNotDiluteMacroAverage) {
  std::vector<double> padded;
  for (size_t i = 0; i < kMultiY.size(); ++i) {
    for (int c = 0; c < 3; ++c) padded.push_back(kMultiP[i * 3 + c]);
    padded.push_back(0.0);
  }
  const Json m = ValueOrDie(MulticlassClassificationMetrics(kMultiY, padded, 4));
  EXPECT_NEAR(m["precision"].get<double>(), 2.5 / 3, kTol);
}

TEST(MulticlassMetricsTest, RejectsBadInput) {
  EXPECT_EQ(MulticlassClassificationMetrics(kMultiY, kMultiP, 4).status().code(),
            absl::StatusCode::kInvalidArgument);  // wrong matrix size
  EXPECT_EQ(MulticlassClassificationMetrics(std::vector<int>{3}, std::vector<double>{.2, .3, .5}, 3)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      MulticlassClassificationMetrics(std::vector<int>{0}, std::vector<double>{NAN, .3, .5}, 3)
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      MulticlassClassificationMetrics(std::vector<int>{}, std::vector<double>{}, 3).status().code(),
      absl::StatusCode::kInvalidArgument);
}

// ---- Regression ---------------------------------------------------------------------------

TEST(RegressionMetricsTest, HandComputedExample) {
  const std::vector<double> a = {1, 2, 3, 4};
  const std::vector<double> p = {1.5, 2, 2, 5};
  const Json m = ValueOrDie(RegressionMetrics(a, p));
  EXPECT_NEAR(m["mae"].get<double>(), 0.625, kTol);
  EXPECT_NEAR(m["rmse"].get<double>(), 0.75, kTol);
  EXPECT_NEAR(m["r2"].get<double>(), 1 - 2.25 / 5, kTol);
  EXPECT_NEAR(m["mape"].get<double>(), (0.5 + 1.0 / 3 + 0.25) / 4, kTol);

  // Residuals a - p sorted: -1, -0.5, 0, 1 (linear interpolation between order statistics).
  const Json q = ValueOrDie(ResidualQuantiles(a, p));
  EXPECT_NEAR(q["p5"].get<double>(), -0.925, kTol);
  EXPECT_NEAR(q["p25"].get<double>(), -0.625, kTol);
  EXPECT_NEAR(q["p50"].get<double>(), -0.25, kTol);
  EXPECT_NEAR(q["p75"].get<double>(), 0.25, kTol);
  EXPECT_NEAR(q["p95"].get<double>(), 0.85, kTol);
}

TEST(RegressionMetricsTest, MapeSkipsZeroActualsAndIsNullWhenAllZero) {
  const Json m =
      ValueOrDie(RegressionMetrics(std::vector<double>{0, 2}, std::vector<double>{1, 1}));
  EXPECT_NEAR(m["mape"].get<double>(), 0.5, kTol);
  const Json z =
      ValueOrDie(RegressionMetrics(std::vector<double>{0, 0}, std::vector<double>{1, 1}));
  EXPECT_TRUE(z["mape"].is_null());
  EXPECT_TRUE(z["r2"].is_null());  // constant actual
  EXPECT_NEAR(z["rmse"].get<double>(), 1.0, kTol);
}

TEST(RegressionMetricsTest, RejectsBadInput) {
  EXPECT_EQ(RegressionMetrics(std::vector<double>{}, std::vector<double>{}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RegressionMetrics(std::vector<double>{1, 2}, std::vector<double>{1}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      RegressionMetrics(std::vector<double>{1, NAN}, std::vector<double>{1, 2}).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      ResidualQuantiles(std::vector<double>{1}, std::vector<double>{INFINITY}).status().code(),
      absl::StatusCode::kInvalidArgument);
}

// ---- Forecasting --------------------------------------------------------------------------

TEST(ForecastMetricsTest, HandComputedMase) {
  // Seasonal-naive (lag 2) in-sample errors: |2-1|, |4-3|, |3-2|, |5-4| → scale 1.
  const std::vector<double> train = {1, 3, 2, 4, 3, 5};
  const std::vector<double> actual = {4, 6};
  const std::vector<double> forecast = {5, 5};
  const Json m = ValueOrDie(ForecastMetrics(actual, forecast, train, 2));
  EXPECT_NEAR(m["mae"].get<double>(), 1.0, kTol);
  EXPECT_NEAR(m["rmse"].get<double>(), 1.0, kTol);
  EXPECT_NEAR(m["mase"].get<double>(), 1.0, kTol);
  EXPECT_NEAR(m["mape"].get<double>(), (1.0 / 4 + 1.0 / 6) / 2, kTol);
  EXPECT_NEAR(m["smape"].get<double>(), (2.0 / 9 + 2.0 / 11) / 2, kTol);
}

TEST(ForecastMetricsTest, SeasonLongerThanHistoryFallsBackToLagOne) {
  // Lag-1 errors: 2, 1, 2, 1, 2 → scale 1.6.
  const std::vector<double> train = {1, 3, 2, 4, 3, 5};
  const Json m =
      ValueOrDie(ForecastMetrics(std::vector<double>{4, 6}, std::vector<double>{5, 5}, train, 12));
  EXPECT_NEAR(m["mase"].get<double>(), 1.0 / 1.6, kTol);
  const Json m0 =
      ValueOrDie(ForecastMetrics(std::vector<double>{4, 6}, std::vector<double>{5, 5}, train, 0));
  EXPECT_NEAR(m0["mase"].get<double>(), 1.0 / 1.6, kTol);
}

TEST(ForecastMetricsTest, UndefinedMaseAndZeroTerms) {
  const Json flat = ValueOrDie(ForecastMetrics(std::vector<double>{0, 2}, std::vector<double>{0, 1},
                                               std::vector<double>{3, 3, 3}, 1));
  EXPECT_TRUE(flat["mase"].is_null());                                // constant history
  EXPECT_NEAR(flat["smape"].get<double>(), (0 + 2.0 / 3) / 2, kTol);  // 0/0 term counts 0
  EXPECT_NEAR(flat["mape"].get<double>(), 0.5, kTol);                 // zero actual skipped
  const Json short_train = ValueOrDie(
      ForecastMetrics(std::vector<double>{1}, std::vector<double>{2}, std::vector<double>{1}, 7));
  EXPECT_TRUE(short_train["mase"].is_null());
  EXPECT_EQ(
      ForecastMetrics(std::vector<double>{}, std::vector<double>{}, std::vector<double>{1, 2}, 1)
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ForecastMetrics(std::vector<double>{1}, std::vector<double>{1},
                            std::vector<double>{1, NAN}, 1)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

// ---- Ranking ------------------------------------------------------------------------------

TEST(RankingMetricsTest, HandComputedExample) {
  const std::vector<std::vector<int64_t>> recommended = {{1, 2, 3}, {4, 5, 6}, {7, 8, 9}};
  const std::vector<std::vector<int64_t>> relevant = {{1, 3}, {5}, {}};  // third user skipped
  const Json m = ValueOrDie(RankingMetrics(recommended, relevant, 3, 20));
  // User 1: hits at ranks 1 and 3. User 2: hit at rank 2.
  EXPECT_NEAR(m["precisionAtK"].get<double>(), (2.0 / 3 + 1.0 / 3) / 2, kTol);
  EXPECT_NEAR(m["recallAtK"].get<double>(), 1.0, kTol);
  const double ndcg1 = (1 + 1 / std::log2(4.0)) / (1 + 1 / std::log2(3.0));
  const double ndcg2 = (1 / std::log2(3.0)) / 1;
  EXPECT_NEAR(m["ndcgAtK"].get<double>(), (ndcg1 + ndcg2) / 2, kTol);
  EXPECT_NEAR(m["ndcgAtK"].get<double>(), 0.7753251, 1e-6);
  const double ap1 = (1.0 / 1 + 2.0 / 3) / 2;
  const double ap2 = (1.0 / 2) / 1;
  EXPECT_NEAR(m["mapAtK"].get<double>(), (ap1 + ap2) / 2, kTol);
  EXPECT_NEAR(m["coverage"].get<double>(), 9.0 / 20, kTol);
  EXPECT_EQ(m["k"], 3);
}

TEST(RankingMetricsTest, TruncatesToKAndCountsRepeatsOnce) {
  const Json m = ValueOrDie(RankingMetrics({{1, 1, 2, 9}}, {{1, 9}}, 3, 10));
  // Top 3 = 1, 1 (repeat, no credit), 2: one hit; item 9 is beyond k.
  EXPECT_NEAR(m["precisionAtK"].get<double>(), 1.0 / 3, kTol);
  EXPECT_NEAR(m["recallAtK"].get<double>(), 0.5, kTol);
  EXPECT_NEAR(m["ndcgAtK"].get<double>(), 1.0 / (1 + 1 / std::log2(3.0)), kTol);
  EXPECT_NEAR(m["coverage"].get<double>(), 2.0 / 10, kTol);
}

TEST(RankingMetricsTest, HugeKNeedsNoTable) {
  const Json m = ValueOrDie(RankingMetrics({{4, 2}}, {{2}}, 1'000'000'000, 10));
  EXPECT_NEAR(m["recallAtK"].get<double>(), 1.0, kTol);
  EXPECT_NEAR(m["ndcgAtK"].get<double>(), 1 / std::log2(3.0), kTol);
}

TEST(RankingMetricsTest, RejectsBadInput) {
  EXPECT_EQ(RankingMetrics({}, {}, 10, 5).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RankingMetrics({{1}}, {{1}, {2}}, 10, 5).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RankingMetrics({{1}}, {{1}}, 0, 5).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RankingMetrics({{1}}, {{1}}, 5, 0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RankingMetrics({{1}}, {{}}, 5, 5).status().code(), absl::StatusCode::kInvalidArgument);
}

// ---- Segments and folds -------------------------------------------------------------------

TEST(WorstSegmentsTest, RanksByMeanErrorWithMinimumSupport) {
  const std::vector<std::string> values = {"a", "a", "b", "b", "b", "c"};
  const std::vector<double> errors = {1, 3, 0, 0, 3, 10};
  const Json r = ValueOrDie(WorstSegments("plan", values, errors, {.min_support = 2}));
  EXPECT_EQ(r["column"], "plan");
  EXPECT_NEAR(r["overallError"].get<double>(), 17.0 / 6, kTol);
  ASSERT_EQ(r["segments"].size(), 2u);  // "c" has one row only
  EXPECT_EQ(r["segments"][0]["value"], "a");
  EXPECT_NEAR(r["segments"][0]["error"].get<double>(), 2.0, kTol);
  EXPECT_EQ(r["segments"][0]["size"], 2);
  EXPECT_EQ(r["segments"][1]["value"], "b");
  EXPECT_EQ(r["segments"][1]["size"], 3);

  const Json top1 =
      ValueOrDie(WorstSegments("plan", values, errors, {.min_support = 1, .max_segments = 1}));
  ASSERT_EQ(top1["segments"].size(), 1u);
  EXPECT_EQ(top1["segments"][0]["value"], "c");
  EXPECT_EQ(WorstSegments("plan", {}, {}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(SummarizeFoldsTest, MeanAndSampleStd) {
  const Json s = ValueOrDie(SummarizeFolds({
      Json{{"accuracy", 0.8}, {"rocAuc", nullptr}, {"k", 5}, {"name", "ignored"}},
      Json{{"accuracy", 0.9}, {"rocAuc", 0.7}, {"k", 5}},
  }));
  EXPECT_NEAR(s["mean"]["accuracy"].get<double>(), 0.85, kTol);
  EXPECT_NEAR(s["std"]["accuracy"].get<double>(), std::sqrt(0.005), kTol);
  EXPECT_NEAR(s["mean"]["rocAuc"].get<double>(), 0.7, kTol);
  EXPECT_TRUE(s["std"]["rocAuc"].is_null());  // one number only
  EXPECT_NEAR(s["std"]["k"].get<double>(), 0.0, kTol);
  EXPECT_FALSE(s["mean"].contains("name"));
  EXPECT_EQ(SummarizeFolds({}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SummarizeFolds({Json::array()}).status().code(), absl::StatusCode::kInvalidArgument);
}

// ---- Charts -------------------------------------------------------------------------------

// Parses the SVG and checks the standalone-document basics.
pugi::xml_node ParseSvg(pugi::xml_document& doc, const std::string& svg) {
  const pugi::xml_parse_result parsed = doc.load_string(svg.c_str());
  EXPECT_TRUE(parsed) << parsed.description() << " at " << parsed.offset;
  const pugi::xml_node root = doc.child("svg");
  EXPECT_TRUE(root);
  EXPECT_STREQ(root.attribute("xmlns").value(), "http://www.w3.org/2000/svg");
  EXPECT_STREQ(root.attribute("width").value(), "640");
  EXPECT_STREQ(root.attribute("height").value(), "420");
  EXPECT_EQ(svg.find("nan"), std::string::npos);
  EXPECT_EQ(svg.find("inf"), std::string::npos);
  return root;
}

size_t CountNodes(pugi::xml_node root, const char* name) {
  return root.select_nodes((std::string("//") + name).c_str()).size();
}

bool HasText(pugi::xml_node root, const std::string& text) {
  for (const pugi::xpath_node& n : root.select_nodes("//text")) {
    if (text == n.node().child_value()) return true;
  }
  return false;
}

TEST(ChartsTest, RocChartIsWellFormedWithDiagonalAndLegend) {
  const Json roc = ValueOrDie(RocCurve(kY, kP));
  const std::string svg = ValueOrDie(RocChartSvg(roc, 0.75));
  pugi::xml_document doc;
  const pugi::xml_node root = ParseSvg(doc, svg);
  EXPECT_EQ(CountNodes(root, "polyline"), 2u);  // curve + chance diagonal
  EXPECT_TRUE(HasText(root, "ROC curve"));
  EXPECT_TRUE(HasText(root, "ROC (AUC 0.750)"));
  EXPECT_TRUE(HasText(root, "Chance"));
  EXPECT_TRUE(HasText(root, "False positive rate"));
  EXPECT_TRUE(HasText(root, "0.0"));
  EXPECT_TRUE(HasText(root, "1.0"));
  EXPECT_EQ(svg, ValueOrDie(RocChartSvg(roc, 0.75)));  // deterministic
  EXPECT_EQ(RocChartSvg(Json::array(), std::nullopt).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RocChartSvg(Json{{{"fpr", "x"}}}, std::nullopt).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ChartsTest, PrecisionRecallChartIsWellFormed) {
  const Json pr = ValueOrDie(PrecisionRecallCurve(kY, kP));
  const std::string svg = ValueOrDie(PrecisionRecallChartSvg(pr, 5.0 / 6));
  pugi::xml_document doc;
  const pugi::xml_node root = ParseSvg(doc, svg);
  EXPECT_EQ(CountNodes(root, "polyline"), 1u);
  EXPECT_TRUE(HasText(root, "PR (AP 0.833)"));
  EXPECT_TRUE(HasText(root, "Recall"));
  EXPECT_TRUE(HasText(root, "Precision"));
}

TEST(ChartsTest, ForecastChartHasSplitMarkerAndGaps) {
  const std::vector<double> train = {10, 12, 11, 13, 12, 14};
  const std::vector<double> test = {13, 15, 14};
  const std::vector<double> forecast = {13.5, NAN, 14.2};
  const std::string svg = ValueOrDie(ForecastChartSvg(train, test, forecast));
  pugi::xml_document doc;
  const pugi::xml_node root = ParseSvg(doc, svg);
  EXPECT_TRUE(HasText(root, "train | test"));
  EXPECT_TRUE(HasText(root, "Actual"));
  EXPECT_TRUE(HasText(root, "Forecast"));
  EXPECT_EQ(CountNodes(root, "polyline"), 1u);  // the actual line; forecast split by the NaN
  EXPECT_EQ(CountNodes(root, "circle"), 2u);    // two isolated forecast points
  EXPECT_EQ(ForecastChartSvg(train, test, std::vector<double>{1}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ChartsTest, LineChartRejectsMismatchedSeries) {
  LineChart chart{.title = "t", .series = {Series{"s", {1, 2}, {1}, false}}};
  EXPECT_EQ(RenderLineChart(chart).status().code(), absl::StatusCode::kInvalidArgument);
  chart.series = {Series{"s", {NAN}, {1}, false}};
  EXPECT_EQ(RenderLineChart(chart).status().code(), absl::StatusCode::kInvalidArgument);
  chart.series = {Series{"flat", {1, 2, 3}, {5, 5, 5}, false}};  // zero y range is padded
  pugi::xml_document doc;
  ParseSvg(doc, ValueOrDie(RenderLineChart(chart)));
}

TEST(ChartsTest, ExtremeRangesNeitherHangNorProduceBadNumbers) {
  LineChart huge{.title = "huge", .series = {Series{"s", {0, 1}, {-1e308, 1e308}, false}}};
  EXPECT_EQ(RenderLineChart(huge).status().code(), absl::StatusCode::kInvalidArgument);
  LineChart narrow{.title = "narrow", .series = {Series{"s", {0, 1}, {1e9, 1e9 + 1e-7}, false}}};
  pugi::xml_document doc;
  ParseSvg(doc, ValueOrDie(RenderLineChart(narrow)));
  EXPECT_EQ(FeatureImportanceSvg({{"a", 1.7e308}, {"b", -1.7e308}}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ChartsTest, FeatureImportanceKeepsTopTwentyLargestFirst) {
  std::vector<Bar> bars;
  for (int i = 0; i < 30; ++i) bars.push_back({"feature_" + std::to_string(i), i * 0.5});
  const std::string svg = ValueOrDie(FeatureImportanceSvg(bars));
  pugi::xml_document doc;
  const pugi::xml_node root = ParseSvg(doc, svg);
  EXPECT_EQ(root.select_nodes("//rect[@fill='#1f77b4']").size(), 20u);
  EXPECT_TRUE(HasText(root, "feature_29"));
  EXPECT_TRUE(HasText(root, "feature_10"));
  EXPECT_FALSE(HasText(root, "feature_9"));
  EXPECT_TRUE(HasText(root, "Importance"));
  // The first label drawn is the largest.
  const pugi::xpath_node first =
      root.select_node("//text[@text-anchor='end' and starts-with(., 'feature_')]");
  EXPECT_STREQ(first.node().child_value(), "feature_29");
  EXPECT_EQ(FeatureImportanceSvg({}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FeatureImportanceSvg({{"x", NAN}}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ChartsTest, ConfusionMatrixHeatmapShowsCounts) {
  const std::vector<std::string> names = {"neg", "neu", "pos"};
  const Json r = ValueOrDie(EvaluateMulticlass(kMultiY, kMultiP, 3, names));
  const std::string svg = ValueOrDie(ConfusionMatrixSvg(r["confusionMatrix"]));
  pugi::xml_document doc;
  const pugi::xml_node root = ParseSvg(doc, svg);
  // Background + 9 cells + frame.
  EXPECT_EQ(CountNodes(root, "rect"), 11u);
  EXPECT_TRUE(HasText(root, "Confusion matrix"));
  EXPECT_TRUE(HasText(root, "Predicted"));
  EXPECT_TRUE(HasText(root, "Actual"));
  EXPECT_TRUE(HasText(root, "neu"));
  size_t ones = 0;
  for (const pugi::xpath_node& n : root.select_nodes("//text")) {
    ones += std::string(n.node().child_value()) == "1" ? 1 : 0;
  }
  EXPECT_EQ(ones, 4u);
  EXPECT_EQ(ConfusionMatrixSvg(Json{{"labels", {"a", "b"}}, {"counts", {{1, 2}}}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ConfusionMatrixSvg(Json{{"labels", {"a"}}, {"counts", {{-1}}}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ConfusionMatrixSvg(Json::object()).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ChartsTest, ManyClassHeatmapIsWellFormed) {
  Heatmap h{.title = "Many"};
  for (int i = 0; i < 40; ++i) {
    h.labels.push_back("class " + std::to_string(i));
    h.counts.emplace_back(40, i);
  }
  pugi::xml_document doc;
  ParseSvg(doc, ValueOrDie(RenderHeatmap(h)));
}

TEST(ChartsTest, EscapesUserText) {
  const std::string nasty = "A & B <script>\"q\" 'x'</script>";
  EXPECT_EQ(XmlEscape(nasty), "A &amp; B &lt;script&gt;&quot;q&quot; &apos;x&apos;&lt;/script&gt;");
  EXPECT_EQ(XmlEscape(std::string("a\x01"
                                  "b\x1f"
                                  "c\td",
                                  7)),
            "abc\td");
  EXPECT_EQ(XmlEscape("caf\xc3\xa9"), "caf\xc3\xa9");                  // valid UTF-8 kept
  EXPECT_EQ(XmlEscape("bad\xff\xc3"), "bad\xef\xbf\xbd\xef\xbf\xbd");  // invalid → U+FFFD

  const std::vector<Bar> bars = {{nasty, 2.0}, {std::string("ctl\x02", 4), 1.0}};
  const std::string svg = ValueOrDie(FeatureImportanceSvg(bars, "Title <&> \"x\""));
  pugi::xml_document doc;
  const pugi::xml_node root = ParseSvg(doc, svg);
  EXPECT_EQ(root.select_nodes("//script").size(), 0u);
  EXPECT_TRUE(HasText(root, "Title <&> \"x\""));
  EXPECT_TRUE(HasText(root, "ctl"));
  EXPECT_STREQ(root.child("title").child_value(), "Title <&> \"x\"");
}

TEST(ChartsTest, LongLabelsKeepBothEndsAndWholeCodePoints) {
  std::string long_label;
  for (int i = 0; i < 40; ++i) long_label += "\xc3\xa9";  // é
  const std::string svg = ValueOrDie(FeatureImportanceSvg({{long_label, 1.0}}));
  pugi::xml_document doc;
  const pugi::xml_node root = ParseSvg(doc, svg);
  const pugi::xpath_node label = root.select_node("//text[@text-anchor='end']");
  const std::string text = label.node().child_value();
  // 28 code points: 13 from the start, an ellipsis, 14 from the end.
  std::string expected;
  for (int i = 0; i < 13; ++i) expected += "\xc3\xa9";
  expected += "\xe2\x80\xa6";  // …
  for (int i = 0; i < 14; ++i) expected += "\xc3\xa9";
  EXPECT_EQ(text, expected);
}

}  // namespace
}  // namespace tsml::train::eval
