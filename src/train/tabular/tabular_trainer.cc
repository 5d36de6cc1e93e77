#include "train/tabular/tabular_trainer.h"

#include <linear.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <set>

#include "common/status_macros.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "data/catalog.h"
#include "data/filters.h"
#include "data/frame.h"
#include "monitor/drift.h"
#include "train/bundle.h"
#include "train/eval/charts.h"
#include "train/eval/metrics.h"
#include "train/tabular/tabular_model.h"

namespace tsml::train::tabular {
namespace {

using common::StrCat;
using Clock = std::chrono::steady_clock;
using Idx = std::vector<size_t>;

void SilentPrint(const char*) {}

// Hyperparameters after validation (defaults filled in by the service).
struct Params {
  std::string algorithm = "xgboost";
  int n_estimators = 300;
  int max_depth = 6;
  double learning_rate = 0.1;
  double min_child_weight = 1;
  double subsample = 1;
  double colsample = 1;
  double reg_alpha = 0;
  double reg_lambda = 1;
  int early_stopping = 30;
  double test_size = 0.2;
  int folds = 5;
  double c = 1.0;
  std::string task = "auto";
  std::string class_weight = "none";
  int seed = 42;
  int trials = 0;
  int time_budget_s = 300;
};

Params ReadParams(const Json& h) {
  Params p;
  p.algorithm = h.value("algorithm", p.algorithm);
  p.n_estimators = h.value("nEstimators", p.n_estimators);
  p.max_depth = h.value("maxDepth", p.max_depth);
  p.learning_rate = h.value("learningRate", p.learning_rate);
  p.min_child_weight = h.value("minChildWeight", p.min_child_weight);
  p.subsample = h.value("subsample", p.subsample);
  p.colsample = h.value("colsampleByTree", p.colsample);
  p.reg_alpha = h.value("regAlpha", p.reg_alpha);
  p.reg_lambda = h.value("regLambda", p.reg_lambda);
  p.early_stopping = h.value("earlyStoppingRounds", p.early_stopping);
  p.test_size = h.value("testSize", p.test_size);
  p.folds = h.value("folds", p.folds);
  p.c = h.value("C", p.c);
  p.task = h.value("task", p.task);
  p.class_weight = h.value("classWeight", p.class_weight);
  p.seed = h.value("seed", p.seed);
  if (h.contains("tuning") && h["tuning"].is_object()) {
    p.trials = h["tuning"].value("trials", 10);
    p.time_budget_s = h["tuning"].value("timeBudgetSeconds", 300);
  }
  return p;
}

// Progress over a stage's share of 0..100, with an ETA from the elapsed time.
class Progress {
 public:
  Progress(TrainContext& ctx) : ctx_(ctx), start_(Clock::now()) {}
  void Report(double pct, std::string_view stage) {
    pct = std::max(last_, std::min(100.0, pct));
    last_ = pct;
    std::optional<common::Millis> eta;
    const double elapsed =
        std::chrono::duration<double>(Clock::now() - start_).count();
    if (pct > 5 && ctx_.clock) {
      eta = ctx_.clock->NowMillis() + static_cast<common::Millis>(elapsed * (100 - pct) / pct * 1000);
    }
    if (ctx_.progress) ctx_.progress->Report(pct, stage, eta);
  }

 private:
  TrainContext& ctx_;
  Clock::time_point start_;
  double last_ = 0;
};


// Rows of `frame` as a contiguous matrix in the order of `idx`.
std::vector<float> Gather(const data::FeatureFrame& f, const Idx& idx) {
  const size_t cols = f.transform.num_features();
  std::vector<float> out(idx.size() * cols);
  for (size_t i = 0; i < idx.size(); ++i) {
    std::copy_n(f.x.begin() + static_cast<std::ptrdiff_t>(idx[i] * cols), cols,
                out.begin() + static_cast<std::ptrdiff_t>(i * cols));
  }
  return out;
}

std::vector<float> GatherY(const data::FeatureFrame& f, const Idx& idx) {
  std::vector<float> out(idx.size());
  for (size_t i = 0; i < idx.size(); ++i) out[i] = f.y[idx[i]];
  return out;
}

// Train/test split, stratified by class for classification.
std::pair<Idx, Idx> Split(const std::vector<float>& y, bool stratify, double test_size,
                          std::mt19937& rng, const Idx& rows) {
  std::map<int, Idx> groups;
  for (size_t r : rows) groups[stratify ? static_cast<int>(y[r]) : 0].push_back(r);
  Idx train, test;
  for (auto& [label, g] : groups) {
    std::shuffle(g.begin(), g.end(), rng);
    size_t n_test = static_cast<size_t>(std::round(g.size() * test_size));
    if (g.size() >= 2) n_test = std::clamp<size_t>(n_test, 1, g.size() - 1);
    test.insert(test.end(), g.begin(), g.begin() + static_cast<std::ptrdiff_t>(n_test));
    train.insert(train.end(), g.begin() + static_cast<std::ptrdiff_t>(n_test), g.end());
  }
  std::shuffle(train.begin(), train.end(), rng);
  std::shuffle(test.begin(), test.end(), rng);
  return {train, test};
}

// Stratified k folds: fold index per row position.
std::vector<Idx> KFolds(const std::vector<float>& y, bool stratify, int k, std::mt19937& rng,
                        size_t n) {
  std::map<int, Idx> groups;
  for (size_t r = 0; r < n; ++r) groups[stratify ? static_cast<int>(y[r]) : 0].push_back(r);
  std::vector<Idx> folds(k);
  int next = 0;
  for (auto& [label, g] : groups) {
    std::shuffle(g.begin(), g.end(), rng);
    for (size_t r : g) folds[next++ % k].push_back(r);
  }
  return folds;
}

struct Fitted {
  std::optional<xgb::Booster> booster;
  std::optional<LinearModel> linear;
  int best_round = -1;
  std::vector<double> val_curve;  // validation metric by round
  std::string val_metric;
};

std::map<std::string, std::string> XgbParams(const Params& p, Task task, int classes, int threads,
                                             double scale_pos_weight) {
  std::map<std::string, std::string> m = {
      {"tree_method", "hist"},
      {"max_depth", std::to_string(p.max_depth)},
      {"eta", StrCat(p.learning_rate)},
      {"min_child_weight", StrCat(p.min_child_weight)},
      {"subsample", StrCat(p.subsample)},
      {"colsample_bytree", StrCat(p.colsample)},
      {"alpha", StrCat(p.reg_alpha)},
      {"lambda", StrCat(p.reg_lambda)},
      {"nthread", std::to_string(threads)},
      {"seed", std::to_string(p.seed)},
      {"verbosity", "0"}};
  switch (task) {
    case Task::kBinary:
      m["objective"] = "binary:logistic";
      m["eval_metric"] = "logloss";
      if (scale_pos_weight > 0) m["scale_pos_weight"] = StrCat(scale_pos_weight);
      break;
    case Task::kMulticlass:
      m["objective"] = "multi:softprob";
      m["num_class"] = std::to_string(classes);
      m["eval_metric"] = "mlogloss";
      break;
    case Task::kRegression:
      m["objective"] = "reg:squarederror";
      m["eval_metric"] = "rmse";
      break;
  }
  return m;
}

absl::StatusOr<Fitted> FitXgb(const data::FeatureFrame& f, const Idx& train, const Idx* valid,
                              const Params& p, Task task, int classes, int threads,
                              TrainContext& ctx, const std::function<void(int, int)>& on_round,
                              int fixed_rounds = 0, const xgb::Booster* base = nullptr) {
  const size_t cols = f.transform.num_features();
  std::vector<float> xt = Gather(f, train);
  ASSIGN_OR_RETURN(xgb::Matrix mt, xgb::Matrix::FromDense(xt.data(), train.size(), cols, threads));
  std::vector<float> yt = GatherY(f, train);
  RETURN_IF_ERROR(mt.SetLabels(yt));
  std::optional<xgb::Matrix> mv;
  if (valid && !valid->empty()) {
    std::vector<float> xv = Gather(f, *valid);
    ASSIGN_OR_RETURN(xgb::Matrix m, xgb::Matrix::FromDense(xv.data(), valid->size(), cols, threads));
    RETURN_IF_ERROR(m.SetLabels(GatherY(f, *valid)));
    mv = std::move(m);
  }
  double spw = 0;
  if (task == Task::kBinary && p.class_weight == "balanced") {
    double pos = 0;
    for (float v : yt) pos += v;
    spw = pos > 0 ? (yt.size() - pos) / pos : 0;
  }
  xgb::TrainOptions o;
  o.params = XgbParams(p, task, classes, threads, spw);
  o.num_rounds = fixed_rounds > 0 ? fixed_rounds : p.n_estimators;
  o.early_stopping_rounds = fixed_rounds > 0 ? 0 : p.early_stopping;
  o.cancel = ctx.cancel;
  Fitted out;
  o.on_round = [&](int round, int total, double score) {
    if (!std::isnan(score)) out.val_curve.push_back(score);
    if (on_round) on_round(round, total);
  };
  xgb::TrainReport report;
  ASSIGN_OR_RETURN(xgb::Booster b,
                   base ? xgb::Booster::Continue(*base, mt, mv ? &*mv : nullptr, o, &report)
                        : xgb::Booster::Train(mt, mv ? &*mv : nullptr, o, &report));
  out.booster = std::move(b);
  out.best_round = report.best_round;
  out.val_metric = report.metric;
  return out;
}

// Standardized features with NaN → mean, in liblinear's sparse form.
absl::StatusOr<Fitted> FitLinear(const data::FeatureFrame& f, const Idx& train, const Params& p,
                                 Task task, int classes, TrainContext& ctx) {
  const size_t cols = f.transform.num_features();
  LinearModel m;
  m.mean.assign(cols, 0);
  m.scale.assign(cols, 1);
  std::vector<double> count(cols, 0), sq(cols, 0);
  for (size_t r : train) {
    for (size_t j = 0; j < cols; ++j) {
      const float v = f.x[r * cols + j];
      if (std::isnan(v)) continue;
      m.mean[j] += v;
      sq[j] += static_cast<double>(v) * v;
      ++count[j];
    }
  }
  for (size_t j = 0; j < cols; ++j) {
    if (count[j] > 0) m.mean[j] /= count[j];
    const double var = count[j] > 0 ? sq[j] / count[j] - m.mean[j] * m.mean[j] : 0;
    m.scale[j] = var > 1e-12 ? std::sqrt(var) : 1.0;
  }
  // One problem per output: binary/regression one, multiclass one-vs-rest.
  std::vector<std::vector<feature_node>> nodes(train.size());
  std::vector<feature_node*> rows(train.size());
  for (size_t i = 0; i < train.size(); ++i) {
    const size_t r = train[i];
    for (size_t j = 0; j < cols; ++j) {
      float v = f.x[r * cols + j];
      const double z = ((std::isnan(v) ? m.mean[j] : v) - m.mean[j]) / m.scale[j];
      if (z != 0) nodes[i].push_back({static_cast<int>(j) + 1, z});
    }
    nodes[i].push_back({static_cast<int>(cols) + 1, 1.0});  // bias feature
    nodes[i].push_back({-1, 0});
    rows[i] = nodes[i].data();
  }
  set_print_string_function(&SilentPrint);
  const int outputs = task == Task::kMulticlass ? classes : 1;
  for (int k = 0; k < outputs; ++k) {
    RETURN_IF_ERROR(CheckCancel(ctx));
    std::vector<double> y(train.size());
    for (size_t i = 0; i < train.size(); ++i) {
      const double v = f.y[train[i]];
      y[i] = task == Task::kRegression ? v : task == Task::kBinary ? (v > 0.5 ? 1 : -1)
                                                                   : (static_cast<int>(v) == k ? 1 : -1);
    }
    problem prob{static_cast<int>(train.size()), static_cast<int>(cols) + 1, y.data(), rows.data(),
                 -1};
    parameter param{};
    param.solver_type = task == Task::kRegression ? L2R_L2LOSS_SVR : L2R_LR;
    param.eps = task == Task::kRegression ? 0.001 : 0.01;
    param.C = p.c;
    param.p = 0;  // squared loss with no epsilon tube: ridge regression
    if (const char* err = check_parameter(&prob, &param)) {
      return absl::InvalidArgumentError(StrCat("liblinear: ", err));
    }
    model* lm = ::train(&prob, &param);
    if (!lm) return absl::InternalError("liblinear failed to train");
    // liblinear orders labels as first seen; make the weights those of the +1 class.
    double sign = 1;
    if (task != Task::kRegression && lm->nr_class == 2 && lm->label[0] != 1) sign = -1;
    std::vector<double> w(cols);
    for (size_t j = 0; j < cols; ++j) w[j] = sign * get_decfun_coef(lm, static_cast<int>(j) + 1, 0);
    m.weights.push_back(std::move(w));
    m.bias.push_back(sign * get_decfun_coef(lm, static_cast<int>(cols) + 1, 0));
    free_and_destroy_model(&lm);
  }
  Fitted out;
  out.linear = std::move(m);
  return out;
}

absl::StatusOr<std::vector<float>> ScoreIdx(const TabularModel& model, const data::FeatureFrame& f,
                                            const Idx& idx) {
  std::vector<float> x = Gather(f, idx);
  return model.Score(x.data(), idx.size());
}

// Metrics for `task` from labels and scores (probabilities or values).
absl::StatusOr<Json> Metrics(Task task, const std::vector<float>& y, const std::vector<float>& s,
                             int classes) {
  if (task == Task::kRegression) {
    std::vector<double> a(y.begin(), y.end()), p(s.begin(), s.end());
    return eval::RegressionMetrics(a, p);
  }
  std::vector<int> yi(y.size());
  for (size_t i = 0; i < y.size(); ++i) yi[i] = static_cast<int>(y[i]);
  std::vector<double> p(s.begin(), s.end());
  for (double& v : p) v = std::clamp(v, 0.0, 1.0);
  if (task == Task::kBinary) return eval::BinaryClassificationMetrics(yi, p);
  return eval::MulticlassClassificationMetrics(yi, p, classes);
}

// The baseline's scores: class prior / mean of the training labels, for every row.
std::vector<float> BaselineScores(Task task, const std::vector<float>& y_train, size_t rows,
                                  int classes) {
  if (task == Task::kMulticlass) {
    std::vector<double> prior(classes, 0);
    for (float v : y_train) prior[static_cast<int>(v)] += 1;
    std::vector<float> out(rows * classes);
    for (size_t r = 0; r < rows; ++r) {
      for (int k = 0; k < classes; ++k) out[r * classes + k] = static_cast<float>(prior[k] / y_train.size());
    }
    return out;
  }
  const double mean = std::accumulate(y_train.begin(), y_train.end(), 0.0) / y_train.size();
  return std::vector<float>(rows, static_cast<float>(mean));
}

std::string BaselineName(Task task) {
  return task == Task::kRegression ? "mean" : "class_prior";
}

Task DetectTask(const data::FeatureFrame& f, const std::string& forced) {
  std::set<float> distinct;
  for (float v : f.y) {
    distinct.insert(v);
    if (distinct.size() > 50) break;
  }
  if (forced == "regression") return Task::kRegression;
  if (!f.target_classes.empty()) return f.target_classes.size() == 2 ? Task::kBinary : Task::kMulticlass;
  const bool binary01 = distinct.size() <= 2 &&
                        std::all_of(distinct.begin(), distinct.end(), [](float v) { return v == 0 || v == 1; });
  if (binary01) return Task::kBinary;
  if (forced == "classification") return distinct.size() <= 2 ? Task::kBinary : Task::kMulticlass;
  return Task::kRegression;
}

// Aggregates encoded-feature importance back to raw columns ("country=FR" → country).
std::string RawColumn(const std::string& feature) {
  for (const char* sep : {"=", "__"}) {
    const auto pos = feature.find(sep);
    if (pos != std::string::npos) return feature.substr(0, pos);
  }
  return feature;
}

}  // namespace

std::vector<HyperparamSpec> TabularHyperparams() {
  using T = HyperparamSpec::Type;
  return {
      {"algorithm", T::kEnum, 0, 0, "xgboost", {"xgboost", "linear"},
       "gradient-boosted trees (XGBoost, hist) or L2 logistic / ridge regression (liblinear)"},
      {"task", T::kEnum, 0, 0, "auto", {"auto", "classification", "regression"},
       "auto: binary/multiclass for boolean or text targets, else regression"},
      {"nEstimators", T::kInt, 1, 5000, 300, {}, "maximum boosting rounds"},
      {"maxDepth", T::kInt, 1, 16, 6, {}, "tree depth"},
      {"learningRate", T::kNumber, 0.001, 1, 0.1, {}, "shrinkage (eta)"},
      {"minChildWeight", T::kNumber, 0, 100, 1, {}, "minimum hessian in a leaf"},
      {"subsample", T::kNumber, 0.1, 1, 1.0, {}, "row subsampling per tree"},
      {"colsampleByTree", T::kNumber, 0.1, 1, 1.0, {}, "column subsampling per tree"},
      {"regAlpha", T::kNumber, 0, 1000, 0.0, {}, "L1 regularization"},
      {"regLambda", T::kNumber, 0, 1000, 1.0, {}, "L2 regularization"},
      {"earlyStoppingRounds", T::kInt, 0, 500, 30, {}, "stop after this many rounds without improvement on the validation split (0: off)"},
      {"C", T::kNumber, 0.0001, 10000, 1.0, {}, "inverse regularization strength of the linear model"},
      {"classWeight", T::kEnum, 0, 0, "none", {"none", "balanced"}, "reweight the positive class (binary)"},
      {"testSize", T::kNumber, 0.05, 0.5, 0.2, {}, "held-out share for train_test_split"},
      {"folds", T::kInt, 2, 10, 5, {}, "folds for k_fold and time_series_split"},
      {"seed", T::kInt, 0, 2147483647, 42, {}, "random seed (splits, subsampling)"},
  };
}

absl::StatusOr<TrainResult> TabularTrainer::Train(const TrainSpec& spec, TrainContext& ctx) {
  Progress progress(ctx);
  progress.Report(1, "loading_data");
  const auto t_start = Clock::now();
  auto since = [&] { return std::chrono::duration<double>(Clock::now() - t_start).count(); };
  Json timings = Json::object();
  if (!ctx.data_db) return absl::FailedPreconditionError("no data database configured");
  const Params p = ReadParams(spec.hyperparameters);
  const int threads = std::max(1, spec.cpu);
  data::DataCatalog catalog(ctx.data_db);
  ASSIGN_OR_RETURN(data::ResolvedTrainingData resolved,
                   data::ResolveTrainingData(catalog, spec.model_type, spec.training_data));
  if (resolved.target.empty()) {
    return absl::FailedPreconditionError(
        StrCat("source ", resolved.schema.source, " has no target column for ", spec.model_type,
               "; name one with trainingData.target"));
  }
  data::FrameOptions fo;
  fo.target = resolved.target;
  fo.features = resolved.features;
  fo.where = resolved.where;
  fo.memory_limit_bytes = static_cast<int64_t>(spec.memory_gb * (1LL << 30));
  ASSIGN_OR_RETURN(data::FeatureFrame frame, data::LoadFeatureFrame(*ctx.data_db, resolved.schema, fo));
  RETURN_IF_ERROR(CheckCancel(ctx));
  timings["loadingSeconds"] = since();
  progress.Report(15, "preparing_features");

  const Task task = DetectTask(frame, p.task);
  const int classes = task == Task::kMulticlass ? static_cast<int>(frame.target_classes.size()) : 0;
  std::vector<std::string> class_names = frame.target_classes;
  if (task == Task::kBinary && class_names.empty()) class_names = {"0", "1"};
  const size_t n = static_cast<size_t>(frame.rows);
  const size_t cols = frame.transform.num_features();
  Json warnings = Json::array();
  for (const auto& e : frame.excluded) {
    if (common::StartsWith(e.reason, "leakage")) {
      warnings.push_back(StrCat("column '", e.column, "' was excluded: ", e.reason));
    }
  }
  if (n < 50) {
    return absl::FailedPreconditionError(
        StrCat("only ", n, " usable rows after filters; at least 50 are needed"));
  }
  if (n < 1000) warnings.push_back(StrCat("small data set: ", n, " rows; metrics are noisy"));
  if (task != Task::kRegression) {
    std::map<int, int64_t> counts;
    for (float v : frame.y) ++counts[static_cast<int>(v)];
    if (counts.size() < 2) {
      return absl::FailedPreconditionError(
          StrCat("the target '", resolved.target, "' has a single class in the selected rows"));
    }
    for (const auto& [label, c] : counts) {
      if (c < 20) {
        const std::string name = label < static_cast<int>(class_names.size()) ? class_names[label] : std::to_string(label);
        warnings.push_back(StrCat("class '", name, "' has only ", c, " rows"));
      }
    }
  }
  const bool stratify = task != Task::kRegression;
  std::mt19937 rng(static_cast<uint32_t>(p.seed));

  // Incremental retraining: continue boosting the deployed model when it encodes the same
  // features for the same task; otherwise say so and train from scratch.
  std::unique_ptr<TabularModel> warm;
  Json training_mode = {{"mode", "full"}};
  if (spec.incremental) {
    std::string why;
    if (spec.warm_start_path.empty()) {
      why = "the deployed model's artifact is unavailable";
    } else if (p.algorithm != "xgboost") {
      why = "the linear model is retrained from scratch (liblinear has no warm start)";
    } else if (auto bundle = ReadBundle(spec.warm_start_path); !bundle.ok()) {
      why = "the deployed model could not be read";
    } else if (auto model = TabularModel::FromBundle(*bundle); !model.ok() || !(*model)->booster()) {
      why = "the deployed model is not a boosted-tree model";
    } else if ((*model)->transform().feature_names() != frame.transform.feature_names() ||
               (*model)->task() != task) {
      why = "the new data encodes different features than the deployed model";
    } else {
      warm = *std::move(model);
    }
    if (warm) {
      auto rounds = warm->booster()->Rounds();
      training_mode = {{"mode", "incremental"}, {"baseRounds", rounds.ok() ? *rounds : 0}};
    } else {
      training_mode = {{"mode", "full"}, {"incrementalRequested", true}, {"reason", why}};
      warnings.push_back("incremental training was requested but " + why +
                         "; the model was trained from scratch");
    }
  }
  Idx all(n);
  std::iota(all.begin(), all.end(), 0);

  // Held-out evaluation sets per the validation strategy: (train, test) pairs.
  std::vector<std::pair<Idx, Idx>> splits;
  if (spec.validation_strategy == "k_fold") {
    auto folds = KFolds(frame.y, stratify, p.folds, rng, n);
    for (int k = 0; k < p.folds; ++k) {
      Idx train;
      for (int j = 0; j < p.folds; ++j) {
        if (j != k) train.insert(train.end(), folds[j].begin(), folds[j].end());
      }
      splits.emplace_back(std::move(train), folds[k]);
    }
  } else if (spec.validation_strategy == "time_series_split") {
    Idx order = all;
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return frame.created_at[a] < frame.created_at[b]; });
    const int blocks = p.folds + 1;
    for (int k = 1; k < blocks; ++k) {
      const size_t cut = n * k / blocks, end = n * (k + 1) / blocks;
      splits.emplace_back(Idx(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(cut)),
                          Idx(order.begin() + static_cast<std::ptrdiff_t>(cut),
                              order.begin() + static_cast<std::ptrdiff_t>(end)));
    }
  } else {
    splits.push_back(Split(frame.y, stratify, p.test_size, rng, all));
  }

  // Tuning: a random search on the first split's inner validation rows.
  Params best = p;
  Json tuning;
  if (p.trials > 0 && p.algorithm == "xgboost") {
    progress.Report(18, "tuning");
    auto [inner_train, inner_valid] = Split(frame.y, stratify, 0.2, rng, splits[0].first);
    const auto deadline = Clock::now() + std::chrono::seconds(p.time_budget_s);
    double best_score = INFINITY;
    Json trials = Json::array();
    std::uniform_int_distribution<int> depth(2, 10);
    std::uniform_real_distribution<double> u(0, 1);
    for (int t = 0; t < p.trials && Clock::now() < deadline; ++t) {
      RETURN_IF_ERROR(CheckCancel(ctx));
      Params cand = p;
      if (t > 0) {  // trial 0 is the given configuration
        cand.max_depth = depth(rng);
        cand.learning_rate = std::pow(10, -2 + 1.5 * u(rng));
        cand.min_child_weight = std::pow(10, -1 + 2 * u(rng));
        cand.subsample = 0.5 + 0.5 * u(rng);
        cand.colsample = 0.5 + 0.5 * u(rng);
      }
      ASSIGN_OR_RETURN(Fitted fit, FitXgb(frame, inner_train, &inner_valid, cand, task, classes,
                                          threads, ctx, nullptr));
      const double score = fit.val_curve.empty() ? INFINITY
                                                 : *std::min_element(fit.val_curve.begin(), fit.val_curve.end());
      trials.push_back({{"maxDepth", cand.max_depth}, {"learningRate", cand.learning_rate},
                        {"minChildWeight", cand.min_child_weight}, {"subsample", cand.subsample},
                        {"colsampleByTree", cand.colsample}, {"validation" + fit.val_metric, score}});
      if (score < best_score) {
        best_score = score;
        best = cand;
      }
      progress.Report(18 + 22.0 * (t + 1) / p.trials, "tuning");
    }
    tuning = {{"trials", trials.size()}, {"metric", "validation loss"}, {"best", {
        {"maxDepth", best.max_depth}, {"learningRate", best.learning_rate},
        {"minChildWeight", best.min_child_weight}, {"subsample", best.subsample},
        {"colsampleByTree", best.colsample}, {"score", best_score}}}, {"history", trials}};
  }

  // Fit and evaluate on every split.
  const double train_lo = p.trials > 0 ? 40 : 20, train_hi = 80;
  std::vector<Json> fold_metrics, fold_baselines;
  std::vector<float> last_scores, last_baseline;
  Idx last_test, last_train;
  std::vector<int> best_rounds;
  std::vector<double> val_curve;
  std::unique_ptr<TabularModel> eval_model;
  for (size_t s = 0; s < splits.size(); ++s) {
    RETURN_IF_ERROR(CheckCancel(ctx));
    auto& [train_idx, test_idx] = splits[s];
    if (train_idx.size() < 20 || test_idx.empty()) {
      return absl::FailedPreconditionError("too few rows for the requested validation strategy");
    }
    const double lo = train_lo + (train_hi - train_lo) * s / splits.size();
    const double hi = train_lo + (train_hi - train_lo) * (s + 1) / splits.size();
    Fitted fit;
    if (best.algorithm == "linear") {
      ASSIGN_OR_RETURN(fit, FitLinear(frame, train_idx, best, task, classes, ctx));
    } else {
      // Early stopping on a slice of the training rows; the test rows stay unseen.
      auto [fit_idx, es_idx] = Split(frame.y, stratify, 0.1, rng, train_idx);
      ASSIGN_OR_RETURN(fit, FitXgb(frame, fit_idx, &es_idx, best, task, classes, threads, ctx,
                                   [&](int round, int total) {
                                     progress.Report(lo + (hi - lo) * (round + 1) / total, "training");
                                   },
                                   0, warm ? warm->booster() : nullptr));
      best_rounds.push_back(fit.best_round + 1);
      if (s + 1 == splits.size()) val_curve = fit.val_curve;
    }
    TabularModel model(frame.transform, task, class_names, std::move(fit.booster),
                       std::move(fit.linear));
    ASSIGN_OR_RETURN(std::vector<float> scores, ScoreIdx(model, frame, test_idx));
    std::vector<float> y_test = GatherY(frame, test_idx), y_train = GatherY(frame, train_idx);
    std::vector<float> base = BaselineScores(task, y_train, test_idx.size(), classes);
    ASSIGN_OR_RETURN(Json m, Metrics(task, y_test, scores, classes));
    ASSIGN_OR_RETURN(Json b, Metrics(task, y_test, base, classes));
    fold_metrics.push_back(m);
    fold_baselines.push_back(b);
    progress.Report(hi, "training");
    if (s + 1 == splits.size()) {
      last_scores = std::move(scores);
      last_baseline = std::move(base);
      last_test = test_idx;
      last_train = train_idx;
      eval_model = std::make_unique<TabularModel>(std::move(model));
    }
  }

  // The final model: refit on every row for k_fold / time_series_split (rounds from the folds);
  // for train_test_split the evaluated model is the one kept.
  progress.Report(82, "training");
  std::unique_ptr<TabularModel> final_model;
  if (splits.size() > 1) {
    Fitted fit;
    if (best.algorithm == "linear") {
      ASSIGN_OR_RETURN(fit, FitLinear(frame, all, best, task, classes, ctx));
    } else {
      int rounds = best_rounds.empty() ? best.n_estimators
                                       : std::accumulate(best_rounds.begin(), best_rounds.end(), 0) /
                                             static_cast<int>(best_rounds.size());
      ASSIGN_OR_RETURN(fit, FitXgb(frame, all, nullptr, best, task, classes, threads, ctx, nullptr,
                                   std::max(1, rounds), warm ? warm->booster() : nullptr));
    }
    final_model = std::make_unique<TabularModel>(frame.transform, task, class_names,
                                                 std::move(fit.booster), std::move(fit.linear));
  } else {
    final_model = std::move(eval_model);
  }
  RETURN_IF_ERROR(CheckCancel(ctx));

  // ---- Evaluation document ----
  timings["trainingSeconds"] = since() - timings["loadingSeconds"].get<double>();
  progress.Report(85, "evaluating");
  Json evaluation;
  evaluation["task"] = std::string(TaskName(task));
  Json metrics, baseline_metrics;
  if (splits.size() > 1) {
    ASSIGN_OR_RETURN(Json summary, eval::SummarizeFolds(fold_metrics));
    ASSIGN_OR_RETURN(Json base_summary, eval::SummarizeFolds(fold_baselines));
    metrics = summary["mean"];
    baseline_metrics = base_summary["mean"];
    Json folds = Json::array();
    for (size_t k = 0; k < fold_metrics.size(); ++k) {
      folds.push_back({{"fold", k + 1}, {"trainRows", splits[k].first.size()},
                       {"testRows", splits[k].second.size()}, {"metrics", fold_metrics[k]},
                       {"baseline", fold_baselines[k]}});
    }
    evaluation["folds"] = folds;
    evaluation["foldSummary"] = summary;
  } else {
    metrics = fold_metrics[0];
    baseline_metrics = fold_baselines[0];
  }
  evaluation["metrics"] = metrics;
  evaluation["baseline"] = {{"name", BaselineName(task)}, {"metrics", baseline_metrics}};
  evaluation["validationStrategy"] = spec.validation_strategy;

  Json charts = Json::array();
  std::vector<float> y_test = GatherY(frame, last_test);
  std::vector<int> yi(y_test.size());
  for (size_t i = 0; i < y_test.size(); ++i) yi[i] = static_cast<int>(y_test[i]);
  if (task == Task::kBinary) {
    std::vector<double> pd(last_scores.begin(), last_scores.end());
    eval::BinaryOptions bo;
    bo.label_names = class_names;
    ASSIGN_OR_RETURN(Json ev, eval::EvaluateBinary(yi, pd, bo));
    evaluation["confusionMatrix"] = ev["confusionMatrix"];
    evaluation["rocCurve"] = ev["rocCurve"];
    evaluation["prCurve"] = ev["precisionRecallCurve"];
    std::optional<double> auc;
    if (ev["metrics"]["rocAuc"].is_number()) auc = ev["metrics"]["rocAuc"].get<double>();
    if (auto svg = eval::RocChartSvg(ev["rocCurve"], auc); svg.ok()) {
      ASSIGN_OR_RETURN(Json c, WriteChart(spec.artifact_dir, "roc", "ROC curve", *svg));
      charts.push_back(c);
    }
    std::optional<double> ap;
    if (ev["metrics"]["averagePrecision"].is_number()) ap = ev["metrics"]["averagePrecision"].get<double>();
    if (auto svg = eval::PrecisionRecallChartSvg(ev["precisionRecallCurve"], ap); svg.ok()) {
      ASSIGN_OR_RETURN(Json c, WriteChart(spec.artifact_dir, "precision_recall", "Precision-recall curve", *svg));
      charts.push_back(c);
    }
  } else if (task == Task::kMulticlass) {
    std::vector<double> pd(last_scores.begin(), last_scores.end());
    ASSIGN_OR_RETURN(Json ev, eval::EvaluateMulticlass(yi, pd, classes, class_names));
    evaluation["confusionMatrix"] = ev["confusionMatrix"];
    evaluation["perClass"] = ev["perClass"];
  }
  if (evaluation.contains("confusionMatrix")) {
    if (auto svg = eval::ConfusionMatrixSvg(evaluation["confusionMatrix"]); svg.ok()) {
      ASSIGN_OR_RETURN(Json c, WriteChart(spec.artifact_dir, "confusion_matrix", "Confusion matrix", *svg));
      charts.push_back(c);
    }
  }

  // Feature importance: gain (trees) or |standardized weight| (linear), plus mean |SHAP| on
  // up to 2000 held-out rows, per encoded feature and per raw column.
  const auto& names = frame.transform.feature_names();
  std::vector<double> gain(cols, 0), shap(cols, 0);
  bool have_shap = false;
  if (const xgb::Booster* b = final_model->booster()) {
    ASSIGN_OR_RETURN(auto imp, b->Importance("total_gain"));
    for (const auto& [i, g] : imp) {
      if (i >= 0 && static_cast<size_t>(i) < cols) gain[i] = g;
    }
    Idx sample(last_test.begin(), last_test.begin() + static_cast<std::ptrdiff_t>(std::min<size_t>(2000, last_test.size())));
    std::vector<float> xs = Gather(frame, sample);
    ASSIGN_OR_RETURN(xgb::Matrix ms, xgb::Matrix::FromDense(xs.data(), sample.size(), cols, threads));
    auto contrib = b->Contributions(ms);
    if (contrib.ok() && !sample.empty()) {
      const size_t width = contrib->size() / sample.size();  // (cols + 1) × outputs
      const size_t groups = std::max<size_t>(1, width / (cols + 1));
      for (size_t r = 0; r < sample.size(); ++r) {
        for (size_t g = 0; g < groups; ++g) {
          for (size_t j = 0; j < cols; ++j) {
            shap[j] += std::fabs((*contrib)[r * width + g * (cols + 1) + j]) / sample.size();
          }
        }
      }
      have_shap = true;
    }
  } else if (const LinearModel* lm = final_model->linear()) {
    for (const auto& w : lm->weights) {
      for (size_t j = 0; j < cols; ++j) gain[j] += std::fabs(w[j]);
    }
  }
  const double total_gain = std::accumulate(gain.begin(), gain.end(), 0.0);
  Json importance = Json::array();
  std::map<std::string, double> by_column;
  std::vector<size_t> order(cols);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return gain[a] > gain[b]; });
  std::vector<eval::Bar> bars;
  for (size_t j : order) {
    if (gain[j] <= 0 && (!have_shap || shap[j] <= 0)) continue;
    Json e = {{"feature", names[j]}, {"gain", total_gain > 0 ? gain[j] / total_gain : 0.0}};
    if (have_shap) e["meanAbsShap"] = shap[j];
    importance.push_back(e);
    by_column[RawColumn(names[j])] += total_gain > 0 ? gain[j] / total_gain : 0.0;
  }
  Json columns_importance = Json::array();
  for (const auto& [c, g] : by_column) columns_importance.push_back({{"column", c}, {"gain", g}});
  std::sort(columns_importance.begin(), columns_importance.end(),
            [](const Json& a, const Json& b) { return a["gain"].get<double>() > b["gain"].get<double>(); });
  for (const auto& c : columns_importance) bars.push_back({c["column"].get<std::string>(), c["gain"].get<double>()});
  evaluation["featureImportance"] = importance;
  evaluation["columnImportance"] = columns_importance;
  if (!bars.empty()) {
    if (auto svg = eval::FeatureImportanceSvg(bars, "Feature importance (share of gain)"); svg.ok()) {
      ASSIGN_OR_RETURN(Json c, WriteChart(spec.artifact_dir, "feature_importance", "Feature importance", *svg));
      charts.push_back(c);
    }
  }

  // Error analysis: worst segments per categorical column, residual quantiles (regression),
  // a few misclassified rows (encoded, PII never loaded).
  Json errors = Json::object();
  std::vector<double> row_error(last_test.size());
  for (size_t i = 0; i < last_test.size(); ++i) {
    if (task == Task::kRegression) {
      row_error[i] = std::fabs(last_scores[i] - y_test[i]);
    } else if (task == Task::kBinary) {
      row_error[i] = ((last_scores[i] >= 0.5) != (y_test[i] > 0.5)) ? 1.0 : 0.0;
    } else {
      const float* pr = &last_scores[i * classes];
      row_error[i] = (std::max_element(pr, pr + classes) - pr) != static_cast<int>(y_test[i]) ? 1.0 : 0.0;
    }
  }
  Json segments = Json::array();
  size_t offset = 0;
  for (const auto& c : frame.transform.columns()) {
    const size_t width = data::FeatureTransform::Width(c);
    if (c.kind == data::FeatureKind::kCategorical && !c.levels.empty()) {
      std::vector<std::string> values(last_test.size(), "__other__");
      for (size_t i = 0; i < last_test.size(); ++i) {
        const float* row = &frame.x[last_test[i] * cols + offset];
        for (size_t l = 0; l < c.levels.size(); ++l) {
          if (row[l] > 0.5f) values[i] = c.levels[l];
        }
      }
      eval::SegmentOptions so;
      so.min_support = std::max<int64_t>(10, static_cast<int64_t>(last_test.size() / 50));
      so.max_segments = 3;
      if (auto ws = eval::WorstSegments(c.column, values, row_error, so); ws.ok()) segments.push_back(*ws);
    }
    offset += width;
  }
  errors["errorMeasure"] = task == Task::kRegression ? "absolute error" : "misclassification rate";
  errors["worstSegments"] = segments;
  if (task == Task::kRegression) {
    std::vector<double> a(y_test.begin(), y_test.end()), pr(last_scores.begin(), last_scores.end());
    if (auto q = eval::ResidualQuantiles(a, pr); q.ok()) errors["residualQuantiles"] = *q;
  } else {
    Json examples = Json::array();
    for (size_t i = 0; i < last_test.size() && examples.size() < 5; ++i) {
      if (row_error[i] == 0) continue;
      Json feats = Json::object();
      for (size_t j : order) {
        if (feats.size() >= 8) break;
        const float v = frame.x[last_test[i] * cols + j];
        if (!std::isnan(v) && v != 0) feats[names[j]] = v;
      }
      const int actual = static_cast<int>(y_test[i]);
      examples.push_back({{"actual", actual < static_cast<int>(class_names.size()) ? class_names[actual] : std::to_string(actual)},
                          {"score", task == Task::kBinary ? Json(last_scores[i]) : Json()},
                          {"topFeatures", feats}});
    }
    errors["misclassifiedExamples"] = examples;
  }
  evaluation["errorAnalysis"] = errors;
  if (!val_curve.empty()) evaluation["trainingCurve"] = {{"metric", "validation"}, {"values", val_curve}};
  evaluation["warnings"] = warnings;
  evaluation["visualizations"] = charts;
  evaluation["dataSummary"] = frame.Summary();
  evaluation["dataSummary"]["trainRows"] = last_train.size();
  evaluation["dataSummary"]["testRows"] = last_test.size();
  evaluation["dataSummary"]["target"] = resolved.target;
  evaluation["dataSummary"]["features"] = cols;
  Json algo = {{"name", best.algorithm == "linear" ? (task == Task::kRegression ? "ridge_regression (liblinear)" : "logistic_regression (liblinear, L2)")
                                                   : "gradient_boosted_trees (xgboost hist)"}};
  if (best.algorithm != "linear") {
    algo["params"] = {{"maxDepth", best.max_depth}, {"learningRate", best.learning_rate},
                      {"minChildWeight", best.min_child_weight}, {"subsample", best.subsample},
                      {"colsampleByTree", best.colsample}};
    if (const xgb::Booster* b = final_model->booster()) {
      if (auto r = b->Rounds(); r.ok()) algo["rounds"] = *r;
    }
  } else {
    algo["params"] = {{"C", best.c}};
  }
  evaluation["algorithm"] = algo;
  if (!tuning.is_null()) evaluation["tuning"] = tuning;
  evaluation["trainingMode"] = training_mode;

  // Reference distributions for drift monitoring: every raw input column and the score.
  monitor::DriftReference reference;
  {
    size_t off = 0;
    for (const auto& c : frame.transform.columns()) {
      const size_t width = data::FeatureTransform::Width(c);
      if (c.kind == data::FeatureKind::kNumeric) {
        std::vector<double> values(n);
        for (size_t r = 0; r < n; ++r) values[r] = frame.x[r * cols + off];
        reference.columns.push_back(monitor::NumericReference(c.column, values));
      } else if (c.kind == data::FeatureKind::kCategorical) {
        std::vector<int> index(n, -1);
        const size_t missing_slot = c.levels.size() + (c.other ? 1 : 0);
        for (size_t r = 0; r < n; ++r) {
          const float* row = &frame.x[r * cols + off];
          for (size_t l = 0; l < c.levels.size(); ++l) {
            if (row[l] > 0.5f) index[r] = static_cast<int>(l);
          }
          if (c.missing_level && missing_slot < width && row[missing_slot] > 0.5f) index[r] = -2;
        }
        reference.columns.push_back(monitor::CategoricalReference(c.column, c.levels, index));
      }
      off += width;
    }
    if (task != Task::kMulticlass) {
      std::vector<double> s(last_scores.begin(), last_scores.end());
      reference.score = monitor::NumericReference("score", s);
    }
  }

  // ---- Artifact ----
  timings["evaluatingSeconds"] = since() - timings["loadingSeconds"].get<double>() -
                                 timings["trainingSeconds"].get<double>();
  progress.Report(95, "saving");
  RETURN_IF_ERROR(CheckCancel(ctx));
  ASSIGN_OR_RETURN(Json model_json, final_model->ToJson());
  Json bundle = {{"modelType", spec.model_type},
                 {"task", std::string(TaskName(task))},
                 {"framework", final_model->booster() ? "xgboost" : "liblinear"},
                 {"libraryVersions", {{"xgboost", xgb::Version()}, {"liblinear", LIBLINEAR_VERSION}}},
                 {"trainedAt", common::FormatIso8601(ctx.clock ? ctx.clock->NowMillis() : 0)},
                 {"dataFingerprint", Fingerprint(frame.x.data(), frame.x.size() * sizeof(float),
                                                 frame.y.data(), frame.y.size() * sizeof(float))},
                 {"target", resolved.target},
                 {"reference", reference.ToJson()},
                 {"model", model_json}};
  const std::string path = spec.artifact_dir + "/model.json";
  RETURN_IF_ERROR(WriteBundle(path, bundle));
  timings["totalSeconds"] = since();
  evaluation["timings"] = timings;
  TrainResult result;
  result.evaluation = std::move(evaluation);
  TrainedModel tm;
  tm.framework = bundle["framework"];
  tm.version = final_model->booster() ? xgb::Version() : std::to_string(LIBLINEAR_VERSION);
  tm.file_path = path;
  tm.metadata = {{"task", std::string(TaskName(task))}, {"target", resolved.target},
                 {"features", frame.transform.feature_names()},
                 {"inputColumns", Json::array()}, {"classes", class_names},
                 {"dataFingerprint", bundle["dataFingerprint"]},
                 {"libraryVersions", bundle["libraryVersions"]}};
  for (const auto& c : frame.transform.columns()) tm.metadata["inputColumns"].push_back(c.column);
  result.model = std::move(tm);
  progress.Report(100, "saving");
  return result;
}

void RegisterTabular(TrainerRegistry& trainers, PredictorRegistry& predictors) {
  for (const char* type : {"churn_prediction", "user_behavior", "predictive_analytics"}) {
    trainers.Register(type, [] { return std::make_unique<TabularTrainer>(); }, TabularHyperparams());
    predictors.Register(type, LoadTabularPredictor);
  }
}

}  // namespace tsml::train::tabular
