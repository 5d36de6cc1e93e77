#include "train/forecast/forecast_trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <numeric>
#include <random>
#include <span>

#include "common/errors.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "data/catalog.h"
#include "data/filters.h"
#include "train/bundle.h"
#include "train/eval/charts.h"
#include "train/eval/metrics.h"

namespace tsml::train::forecast {
namespace {

using common::StrCat;
using Forecasts = std::vector<std::vector<double>>;  // per series; empty: not forecast

constexpr size_t kMinXgbRows = 30;
constexpr int kChartGroups = 3;
constexpr int kSelectionWindows = 3;
constexpr size_t kRowsPerThread = 20000;
constexpr char kHoltWinters[] = "holt_winters";
constexpr char kXgboost[] = "xgboost";
constexpr char kHwVersion[] = "tsml-holt-winters-1";


int DefaultHorizon(Frequency f) {
  switch (f) {
    case Frequency::kDaily:
      return 14;
    case Frequency::kWeekly:
      return 8;
    case Frequency::kMonthly:
      return 6;
  }
  return 14;
}

std::string_view PeriodWord(Frequency f) {
  switch (f) {
    case Frequency::kDaily:
      return "days";
    case Frequency::kWeekly:
      return "weeks";
    case Frequency::kMonthly:
      return "months";
  }
  return "periods";
}

struct XgbParams {
  int n_estimators = 300;
  int max_depth = 6;
  double learning_rate = 0.05;
  double min_child_weight = 1;
  double subsample = 0.8;
  double colsample = 0.8;
  uint64_t seed = 42;
  int threads = 1;

  Json ToJson() const {
    return Json{{"nEstimators", n_estimators},   {"maxDepth", max_depth},
                {"learningRate", learning_rate}, {"minChildWeight", min_child_weight},
                {"subsample", subsample},        {"colsampleBytree", colsample}};
  }
};

struct Params {
  std::string algorithm = "auto";
  int horizon = 14;
  Frequency frequency = Frequency::kDaily;
  std::string group_by;
  std::string target;
  int lags = 0;
  int max_groups = 20;
  int folds = 3;
  XgbParams xgb;
  int trials = 0;
  int time_budget_s = 0;
};

absl::StatusOr<Params> ParseParams(const TrainSpec& spec) {
  common::ValidationErrors errors;
  const Json hp = ValidateHyperparameters(ForecastHyperparams(), spec.hyperparameters, errors);
  if (!errors.empty()) return errors.ToStatus();
  Params p;
  p.algorithm = hp.value("algorithm", p.algorithm);
  p.frequency =
      ParseFrequency(hp.value("frequency", std::string("daily"))).value_or(Frequency::kDaily);
  p.horizon = hp.contains("horizon") ? hp["horizon"].get<int>() : DefaultHorizon(p.frequency);
  p.group_by = hp.value("groupBy", std::string());
  p.target = hp.value("target", std::string());
  p.lags = hp.value("lags", 0);
  p.max_groups = hp.value("maxGroups", p.max_groups);
  p.folds = hp.value("folds", p.folds);
  p.xgb.n_estimators = hp.value("nEstimators", p.xgb.n_estimators);
  p.xgb.max_depth = hp.value("maxDepth", p.xgb.max_depth);
  p.xgb.learning_rate = hp.value("learningRate", p.xgb.learning_rate);
  p.xgb.seed = hp.value("seed", int64_t{42});
  p.xgb.threads = std::clamp(spec.cpu, 1, 64);
  if (hp.contains("tuning") && hp["tuning"].is_object()) {
    p.trials = hp["tuning"].value("trials", 10);
    p.time_budget_s = hp["tuning"].value("timeBudgetSeconds", 300);
  }
  return p;
}

// Keeps reported progress monotonic and adds an ETA from the elapsed time.
class Progress {
 public:
  Progress(ProgressSink* sink, const common::Clock* clock) : sink_(sink), clock_(clock) {
    if (clock_ != nullptr) start_ = clock_->NowMillis();
  }
  void Report(double p, std::string_view stage) {
    p = std::clamp(p, last_, 100.0);
    last_ = p;
    if (sink_ == nullptr) return;
    std::optional<common::Millis> eta;
    if (clock_ != nullptr && p >= 20 && p < 100) {
      const common::Millis now = clock_->NowMillis();
      eta = now + static_cast<common::Millis>(static_cast<double>(now - start_) * (100 - p) / p);
    }
    sink_->Report(p, stage, eta);
  }

 private:
  ProgressSink* sink_;
  const common::Clock* clock_;
  common::Millis start_ = 0;
  double last_ = 0;
};

// The series the models see: the groups (largest first), then the total.
struct Panel {
  std::vector<Series> series;
  std::vector<size_t> scored;  // the series the metrics are over (groups, or the total)
  size_t total = 0;
  Frequency frequency = Frequency::kDaily;
  int season = 7;
  int64_t end_period = 0;
  std::vector<double> floors;  // per series, from the earliest training window
};

size_t Len(const Series& s) { return s.values.size(); }

// The values before the last `cut` periods.
std::span<const double> TrainPart(const Series& s, int cut) {
  const size_t n = Len(s);
  const size_t keep = n > static_cast<size_t>(cut) ? n - static_cast<size_t>(cut) : 0;
  return std::span<const double>(s.values).subspan(0, keep);
}

// The `h` values after the cut (the cut is never smaller than h).
std::span<const double> TestPart(const Series& s, int cut, int h) {
  return std::span<const double>(s.values).subspan(Len(s) - static_cast<size_t>(cut),
                                                   static_cast<size_t>(h));
}

bool Scorable(const Series& s, int cut) { return Len(s) >= static_cast<size_t>(cut) + 2; }

bool NonNegative(std::span<const double> v) {
  return std::all_of(v.begin(), v.end(), [](double x) { return x >= 0; });
}

// ---- Baseline and Holt-Winters ---------------------------------------------------------------

std::vector<double> SeasonalNaive(std::span<const double> train, int season, int h) {
  std::vector<double> out;
  for (int k = 0; k < h; ++k) {
    if (train.empty()) {
      out.push_back(0);
    } else if (static_cast<int>(train.size()) >= season && season > 1) {
      out.push_back(
          train[train.size() - static_cast<size_t>(season) + static_cast<size_t>(k % season)]);
    } else {
      out.push_back(train.back());
    }
  }
  return out;
}

Forecasts NaiveForecasts(const Panel& panel, int cut, int h) {
  Forecasts out(panel.series.size());
  for (size_t i = 0; i < panel.series.size(); ++i) {
    if (Scorable(panel.series[i], cut)) {
      out[i] = SeasonalNaive(TrainPart(panel.series[i], cut), panel.season, h);
    }
  }
  return out;
}

absl::StatusOr<Forecasts> HwForecasts(const Panel& panel, int cut, int h, const TrainContext& ctx,
                                      std::vector<std::optional<HoltWintersModel>>* models) {
  Forecasts out(panel.series.size());
  if (models != nullptr) models->assign(panel.series.size(), std::nullopt);
  for (size_t i = 0; i < panel.series.size(); ++i) {
    if (IsCancelled(ctx)) return TrainingCancelled();
    std::span<const double> train = TrainPart(panel.series[i], cut);
    if (train.empty()) continue;
    ASSIGN_OR_RETURN(HoltWintersModel m, FitHoltWinters(train, panel.season));
    out[i] = m.Forecast(h);
    if (models != nullptr) (*models)[i] = std::move(m);
  }
  return out;
}

// ---- XGBoost on lag features -----------------------------------------------------------------

// Every (series, period) row with a full scale window, features computed once; fits pick rows
// by their position relative to the cut.
struct Rows {
  size_t cols = 0;
  std::vector<float> x;
  std::vector<float> y;
  std::vector<float> level;  // s_t, the row's scale (weights the row)
  std::vector<uint32_t> series;
  std::vector<int32_t> t;
  size_t size() const { return y.size(); }
};

absl::StatusOr<Rows> BuildRows(const Panel& panel, const LagConfig& config, double memory_bytes,
                               const TrainContext& ctx) {
  Rows rows;
  rows.cols = config.NumFeatures();
  const size_t lookback = static_cast<size_t>(config.Lookback());
  const size_t start = static_cast<size_t>(std::max(1, config.scale_window));
  size_t count = 0;
  for (const Series& s : panel.series) count += Len(s) > start ? Len(s) - start : 0;
  // The rows, their copy into XGBoost's matrix, and a per-fit gather.
  const double need = static_cast<double>(count) * static_cast<double>(rows.cols) * 4.0 * 3.0;
  if (need > memory_bytes) {
    return absl::ResourceExhaustedError(StrCat(
        "the lag-feature matrix (", count, " rows × ", rows.cols, " features) needs about ",
        static_cast<int64_t>(need / 1e6), " MB but computeResources.memory allows ",
        static_cast<int64_t>(memory_bytes / 1e6), " MB: use fewer groups or a coarser frequency"));
  }
  rows.x.reserve(count * rows.cols);
  rows.y.reserve(count);
  std::vector<float> feat(rows.cols);
  for (size_t i = 0; i < panel.series.size(); ++i) {
    if (IsCancelled(ctx)) return TrainingCancelled();
    const Series& s = panel.series[i];
    std::span<const double> v(s.values);
    for (size_t t = start; t < v.size(); ++t) {
      const size_t from = t > lookback ? t - lookback : 0;
      const double scale = ComputeFeatures(config, v.subspan(from, t - from),
                                           s.first_period + static_cast<int64_t>(t),
                                           static_cast<int>(i), panel.floors[i], feat.data());
      rows.x.insert(rows.x.end(), feat.begin(), feat.end());
      rows.y.push_back(static_cast<float>(v[t] / scale));
      rows.level.push_back(static_cast<float>(scale));
      rows.series.push_back(static_cast<uint32_t>(i));
      rows.t.push_back(static_cast<int32_t>(t));
    }
  }
  return rows;
}

struct XgbFit {
  std::unique_ptr<xgb::Booster> booster;
  int best_round = -1;  // 0-based; -1 without early stopping
  int rounds = 0;
};

std::map<std::string, std::string> BoosterParams(const XgbParams& p) {
  return {{"objective", "reg:squarederror"},
          {"eval_metric", "rmse"},
          {"tree_method", "hist"},
          {"eta", StrCat(p.learning_rate)},
          {"max_depth", StrCat(p.max_depth)},
          {"min_child_weight", StrCat(p.min_child_weight)},
          {"subsample", StrCat(p.subsample)},
          {"colsample_bytree", StrCat(p.colsample)},
          {"seed", StrCat(p.seed)},
          {"nthread", StrCat(p.threads)},
          {"verbosity", "0"}};
}

// Trains on the rows before `cut` + `es` periods of each series, early-stopping on the `es`
// periods before the cut (es = 0: no early stopping, `rounds` rounds or n_estimators).
absl::StatusOr<XgbFit> FitXgb(const Rows& rows, const Panel& panel, int cut, int es, int rounds,
                              const XgbParams& params, const TrainContext& ctx,
                              const std::function<void(double)>& on_fraction) {
  std::vector<float> xt, yt, xv, yv, wt, wv;
  for (size_t r = 0; r < rows.size(); ++r) {
    const int64_t n = static_cast<int64_t>(Len(panel.series[rows.series[r]]));
    const int64_t t = rows.t[r];
    const float* row = &rows.x[r * rows.cols];
    if (t < n - cut - es) {
      xt.insert(xt.end(), row, row + rows.cols);
      yt.push_back(rows.y[r]);
      wt.push_back(rows.level[r]);
    } else if (t < n - cut) {
      xv.insert(xv.end(), row, row + rows.cols);
      yv.push_back(rows.y[r]);
      wv.push_back(rows.level[r]);
    }
  }
  if (yt.size() < kMinXgbRows) {
    return absl::FailedPreconditionError(
        StrCat("too little history for xgboost: ", yt.size(), " training rows"));
  }
  // Rows weigh by their level: a ratio of small counts is mostly noise (for Poisson-like counts
  // the variance of y/s is about 1/s, so this is inverse-variance weighting). Mean weight 1.
  const double mean_w = std::accumulate(wt.begin(), wt.end(), 0.0) / wt.size();
  for (float& w : wt) w = static_cast<float>(w / mean_w);
  for (float& w : wv) w = static_cast<float>(w / mean_w);
  ASSIGN_OR_RETURN(xgb::Matrix train, xgb::Matrix::FromDense(xt.data(), yt.size(), rows.cols, 1));
  RETURN_IF_ERROR(train.SetLabels(yt));
  RETURN_IF_ERROR(train.SetWeights(wt));
  std::optional<xgb::Matrix> valid;
  if (es > 0 && !yv.empty()) {
    ASSIGN_OR_RETURN(xgb::Matrix v, xgb::Matrix::FromDense(xv.data(), yv.size(), rows.cols, 1));
    RETURN_IF_ERROR(v.SetLabels(yv));
    RETURN_IF_ERROR(v.SetWeights(wv));
    valid = std::move(v);
  }
  xgb::TrainOptions options;
  // computeResources.cpu caps the threads; small matrices get fewer, because OpenMP's
  // synchronization per tree level costs more than it saves there (and collapses when the
  // machine's cores are busy): one thread per 20k training rows.
  XgbParams capped = params;
  capped.threads = std::clamp(static_cast<int>(yt.size() / kRowsPerThread), 1, params.threads);
  options.params = BoosterParams(capped);
  // Start from the mean ratio (about 1), not XGBoost's 0.5, so that a model stopped early is
  // not pulled towards half the level.
  double base = 0;
  for (size_t i = 0; i < yt.size(); ++i) base += static_cast<double>(yt[i]) * wt[i];
  options.params["base_score"] = StrCat(base / yt.size());
  options.num_rounds = rounds > 0 ? rounds : params.n_estimators;
  options.early_stopping_rounds = valid ? 30 : 0;
  options.cancel = ctx.cancel;
  if (on_fraction) {
    options.on_round = [&](int round, int total, double) {
      on_fraction(static_cast<double>(round + 1) / std::max(1, total));
    };
  }
  xgb::TrainReport report;
  ASSIGN_OR_RETURN(xgb::Booster booster,
                   xgb::Booster::Train(train, valid ? &*valid : nullptr, options, &report));
  XgbFit fit;
  fit.booster = std::make_unique<xgb::Booster>(std::move(booster));
  fit.best_round = report.best_round;
  fit.rounds = report.best_round >= 0 ? report.best_round + 1 : report.rounds_run;
  return fit;
}

std::vector<LagSeriesState> LagStates(const Panel& panel, const LagConfig& config, int cut) {
  std::vector<LagSeriesState> states;
  const size_t lookback = static_cast<size_t>(config.Lookback());
  for (size_t i = 0; i < panel.series.size(); ++i) {
    std::span<const double> train = TrainPart(panel.series[i], cut);
    LagSeriesState s;
    const size_t from = train.size() > lookback ? train.size() - lookback : 0;
    s.history.assign(train.begin() + static_cast<std::ptrdiff_t>(from), train.end());
    s.next_period = panel.series[i].first_period + static_cast<int64_t>(train.size());
    s.group_code = static_cast<int>(i);
    s.scale_floor = panel.floors[i];
    s.non_negative = NonNegative(train);
    states.push_back(std::move(s));
  }
  return states;
}

absl::StatusOr<Forecasts> XgbForecasts(const xgb::Booster& booster, const Panel& panel,
                                       const LagConfig& config, int cut, int h,
                                       const TrainContext& ctx) {
  std::vector<LagSeriesState> all = LagStates(panel, config, cut);
  std::vector<LagSeriesState> states;
  std::vector<size_t> which;
  for (size_t i = 0; i < all.size(); ++i) {
    if (all[i].history.empty()) continue;
    states.push_back(std::move(all[i]));
    which.push_back(i);
  }
  ASSIGN_OR_RETURN(Forecasts f,
                   RecursiveForecast(booster, config, std::move(states), h, ctx.cancel));
  Forecasts out(panel.series.size());
  for (size_t k = 0; k < which.size(); ++k) out[which[k]] = std::move(f[k]);
  return out;
}

// ---- Scoring ---------------------------------------------------------------------------------

struct SeriesScore {
  size_t series;
  Json metrics;
};

// Metrics over the scored series at a cut: mape, smape, mae and rmse over every (series,
// period) pair; mase is the mean of the per-series MASE (each scaled by its own seasonal-naive
// in-sample error), null when no series has one.
absl::StatusOr<Json> Score(const Panel& panel, const Forecasts& f, int cut, int h,
                           std::vector<SeriesScore>* per_series) {
  std::vector<double> a, p;
  double mase_sum = 0;
  int mase_n = 0;
  for (size_t i : panel.scored) {
    const Series& s = panel.series[i];
    if (!Scorable(s, cut) || f[i].size() != static_cast<size_t>(h)) continue;
    std::span<const double> actual = TestPart(s, cut, h);
    ASSIGN_OR_RETURN(Json m, eval::ForecastMetrics(actual, f[i], TrainPart(s, cut), panel.season));
    if (m["mase"].is_number()) {
      mase_sum += m["mase"].get<double>();
      ++mase_n;
    }
    a.insert(a.end(), actual.begin(), actual.end());
    p.insert(p.end(), f[i].begin(), f[i].end());
    if (per_series != nullptr) per_series->push_back({i, std::move(m)});
  }
  if (a.empty()) return absl::InvalidArgumentError("no series could be evaluated");
  const std::vector<double> none;
  ASSIGN_OR_RETURN(Json m, eval::ForecastMetrics(a, p, none, 1));
  m["mase"] = mase_n > 0 ? Json(mase_sum / mase_n) : Json(nullptr);
  return m;
}

// Lower is better: MASE, or sMAPE when MASE is undefined.
double SelectionScore(const Json& m) {
  if (m["mase"].is_number()) return m["mase"].get<double>();
  if (m["smape"].is_number()) return 10.0 + m["smape"].get<double>();
  return INFINITY;
}

Json NumberOr(double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); }

// ---- The trainer -----------------------------------------------------------------------------

class Run {
 public:
  Run(const TrainSpec& spec, TrainContext& ctx, Params p)
      : spec_(spec), ctx_(ctx), p_(std::move(p)), progress_(ctx.progress, ctx.clock) {}

  absl::StatusOr<TrainResult> Go();

 private:
  absl::Status LoadData();
  absl::Status Plan();
  // One candidate at `cut`: its forecasts of the h periods after it.
  absl::StatusOr<Forecasts> Candidate(const std::string& algorithm, int cut, const XgbParams& xp,
                                      double lo, double hi, XgbFit* fit);
  struct WindowScore {
    double score = INFINITY;  // mean selection score over the windows
    Json report;              // {validation (mean metrics), windows, score}
  };
  // Fits and scores a candidate on every selection window.
  absl::StatusOr<WindowScore> ScoreOnWindows(const std::string& algorithm, const XgbParams& xp,
                                             double lo, double hi);
  absl::Status Tune(double lo, double hi);
  int EarlyStoppingPeriods() const;
  absl::Status Select(double lo, double hi);
  absl::Status Evaluate(double lo, double hi);
  absl::Status FitFinal(double lo, double hi);
  absl::StatusOr<Json> Charts();
  Json ErrorAnalysis();
  absl::StatusOr<TrainResult> Save();

  const TrainSpec& spec_;
  TrainContext& ctx_;
  Params p_;
  Progress progress_;
  Json warnings_ = Json::array();

  SeriesSet set_;
  Panel panel_;
  LagConfig config_;
  Rows rows_;
  int h_ = 14;
  std::vector<int> cuts_;      // evaluation cuts, earliest first
  std::vector<int> sel_cuts_;  // selection/tuning cuts, nearest to the evaluation first
  int min_train_ = 28;
  bool can_select_ = false;
  bool xgb_feasible_ = false;

  std::string chosen_;
  Json candidates_ = Json::array();
  Json tuning_;
  // Evaluation per cut.
  std::vector<Json> fold_metrics_, fold_baselines_;
  std::vector<int> best_rounds_;
  Forecasts last_model_;
  std::vector<SeriesScore> last_scores_;
  Json total_metrics_;
  // Final model.
  std::unique_ptr<xgb::Booster> final_booster_;
  std::vector<std::optional<HoltWintersModel>> final_hw_;
  Forecasts preview_;
};

absl::Status Run::LoadData() {
  if (ctx_.data_db == nullptr) {
    return absl::FailedPreconditionError("no data database is configured (TSML_DATA_URL)");
  }
  Json training_data = spec_.training_data.is_object() ? spec_.training_data : Json::object();
  // The column to sum: trainingData.target or hyperparameters.target (they must agree).
  const std::string td_target =
      training_data.contains("target") && training_data["target"].is_string()
          ? training_data["target"].get<std::string>()
          : "";
  if (!p_.target.empty() && !td_target.empty() && p_.target != td_target) {
    return common::ValidationError("hyperparameters.target",
                                   StrCat("names '", p_.target, "' but trainingData.target names '",
                                          td_target, "': give the column to sum once"));
  }
  if (!p_.target.empty()) training_data["target"] = p_.target;
  data::DataCatalog catalog(ctx_.data_db);
  ASSIGN_OR_RETURN(data::ResolvedTrainingData resolved,
                   data::ResolveTrainingData(catalog, kModelType, training_data));
  const data::SourceSchema& schema = resolved.schema;
  if (schema.Find("created_at") == nullptr) {
    return common::ValidationError("trainingData.source",
                                   StrCat("demand_forecast buckets rows by created_at; source '",
                                          schema.source, "' has no created_at column"));
  }
  if (!p_.group_by.empty()) {
    const data::ColumnInfo* col = schema.Find(p_.group_by);
    std::vector<std::string> names;
    for (const auto& c : schema.columns) names.push_back(c.name);
    if (col == nullptr) {
      return common::ValidationError(
          "hyperparameters.groupBy",
          StrCat("unknown column '", p_.group_by, "' in source '", schema.source,
                 "'; columns: ", common::StrJoin(names, ", ")));
    }
    if (data::IsPiiColumn(p_.group_by)) {
      return common::ValidationError(
          "hyperparameters.groupBy",
          StrCat("'", p_.group_by, "' is personal data and cannot be used to group demand"));
    }
    if (col->type == data::LogicalType::kTimestamp || col->type == data::LogicalType::kText) {
      return common::ValidationError(
          "hyperparameters.groupBy",
          StrCat("'", p_.group_by, "' is a ", data::LogicalTypeName(col->type),
                 " column; group by a categorical, integer or boolean column"));
    }
    if (p_.group_by == resolved.target) {
      return common::ValidationError("hyperparameters.groupBy",
                                     StrCat("'", p_.group_by, "' is the target being summed"));
    }
  }
  SeriesQuery q;
  q.source = schema.source;
  q.where = resolved.where;
  q.target = resolved.target;
  q.group_by = p_.group_by;
  q.frequency = p_.frequency;
  q.max_groups = p_.max_groups;
  const int eval_span =
      spec_.validation_strategy == "time_series_split" ? p_.folds * p_.horizon : p_.horizon;
  min_train_ = std::max(2 * p_.horizon, 10);
  q.min_group_periods = eval_span + min_train_;
  q.memory_bytes = spec_.memory_gb * 1e9;
  ASSIGN_OR_RETURN(set_, LoadSeries(*ctx_.data_db, q, ctx_.cancel));
  if (!resolved.features.empty()) {
    warnings_.push_back(
        "trainingData.features is ignored: demand_forecast learns from the "
        "history of the series and the calendar");
  }
  for (const std::string& w : set_.warnings) warnings_.push_back(w);
  return absl::OkStatus();
}

absl::Status Run::Plan() {
  h_ = p_.horizon;
  panel_.frequency = p_.frequency;
  panel_.season = SeasonLength(p_.frequency);
  panel_.end_period = set_.end_period;
  for (Series& g : set_.groups) panel_.series.push_back(g);
  panel_.total = panel_.series.size();
  panel_.series.push_back(set_.total);
  if (panel_.series.size() > 1) {
    for (size_t i = 0; i + 1 < panel_.series.size(); ++i) panel_.scored.push_back(i);
  } else {
    panel_.scored.push_back(panel_.total);
  }
  if (!p_.group_by.empty() && set_.groups.empty()) {
    return absl::InvalidArgumentError(
        StrCat("no group of '", p_.group_by, "' has enough history: each needs at least ",
               min_train_ + h_, " ", PeriodWord(p_.frequency), " for horizon ", h_));
  }

  const int n = static_cast<int>(Len(set_.total));
  int folds = spec_.validation_strategy == "time_series_split" ? p_.folds : 1;
  const std::string word(PeriodWord(p_.frequency));
  if (n - h_ < min_train_) {
    return absl::InvalidArgumentError(StrCat(
        "too little history to forecast ", h_, " ", word, ": the data covers ", n, " ", word,
        " and the model needs at least ", min_train_ + h_, " (", min_train_, " to learn from, ", h_,
        " held out); lower the horizon, widen the dateRange or use a finer frequency"));
  }
  if (folds > 1 && n - folds * h_ < min_train_) {
    const int fit = std::max(1, (n - min_train_) / h_);
    warnings_.push_back(StrCat("time_series_split: only ", fit, " fold(s) of ", h_, " ", word,
                               " fit in ", n, " ", word, " (", p_.folds, " requested)"));
    folds = fit;
  }
  for (int k = folds; k >= 1; --k) cuts_.push_back(k * h_);
  const int earliest = cuts_.front();
  // Selection (and tuning) windows: up to kSelectionWindows consecutive windows of h periods
  // just before the evaluation window, each fitted on everything before it.
  for (int k = 1; k <= kSelectionWindows; ++k) {
    const int cut = earliest + k * h_;
    if (n - cut < min_train_) break;
    const bool any = std::any_of(panel_.scored.begin(), panel_.scored.end(),
                                 [&](size_t i) { return Scorable(panel_.series[i], cut); });
    if (!any) break;
    sel_cuts_.push_back(cut);
  }

  if (n < 2 * panel_.season) {
    warnings_.push_back(StrCat("short history: ", n, " ", word, " cover less than two seasons of ",
                               panel_.season, "; seasonality estimates are weak"));
  }
  if (p_.frequency == Frequency::kDaily && n < 2 * 365) {
    warnings_.push_back(StrCat("the history (", n, " days) covers less than two years: yearly ",
                               "patterns are learned from little data"));
  }

  // Scale floors from the earliest training window, so no fit sees the future through them.
  for (const Series& s : panel_.series) {
    std::span<const double> early = TrainPart(s, sel_cuts_.empty() ? earliest : sel_cuts_.back());
    panel_.floors.push_back(ScaleFloor(early.empty() ? std::span<const double>(s.values) : early));
  }
  config_ = MakeLagConfig(p_.frequency, p_.lags);
  const bool xgb_wanted = p_.algorithm != kHoltWinters;
  if (xgb_wanted) {
    ASSIGN_OR_RETURN(rows_, BuildRows(panel_, config_, spec_.memory_gb * 1e9, ctx_));
    // Rows an xgboost fit at a cut (less its early-stopping window) would train on.
    auto usable_rows = [&](int cut) {
      const int probe = cut + EarlyStoppingPeriods();
      size_t usable = 0;
      for (size_t r = 0; r < rows_.size(); ++r) {
        usable += rows_.t[r] < static_cast<int64_t>(Len(panel_.series[rows_.series[r]])) - probe;
      }
      return usable;
    };
    while (!sel_cuts_.empty() && usable_rows(sel_cuts_.back()) < kMinXgbRows) sel_cuts_.pop_back();
    const size_t usable = usable_rows(earliest);
    xgb_feasible_ = usable >= kMinXgbRows;
    if (!xgb_feasible_ && p_.algorithm == kXgboost) {
      return absl::InvalidArgumentError(
          StrCat("too little history for xgboost: ", usable,
                 " training rows after the lag window of ", config_.scale_window, " ", word,
                 " (at least ", kMinXgbRows, " needed); use algorithm holt_winters or more data"));
    }
    if (!xgb_feasible_) {
      warnings_.push_back(StrCat("too little history for xgboost (", usable,
                                 " training rows); only Holt-Winters was fitted"));
    }
  }
  can_select_ = !sel_cuts_.empty();
  return absl::OkStatus();
}

absl::StatusOr<Run::WindowScore> Run::ScoreOnWindows(const std::string& algorithm,
                                                     const XgbParams& xp, double lo, double hi) {
  WindowScore out;
  std::vector<Json> metrics;
  Json windows = Json::array();
  double sum = 0;
  for (size_t k = 0; k < sel_cuts_.size(); ++k) {
    const int cut = sel_cuts_[k];
    const double a = lo + (hi - lo) * k / sel_cuts_.size();
    const double b = lo + (hi - lo) * (k + 1) / sel_cuts_.size();
    ASSIGN_OR_RETURN(Forecasts f, Candidate(algorithm, cut, xp, a, b, nullptr));
    ASSIGN_OR_RETURN(Json m, Score(panel_, f, cut, h_, nullptr));
    sum += SelectionScore(m);
    windows.push_back(
        {{"start", PeriodLabel(panel_.frequency, panel_.end_period - cut + 1)}, {"metrics", m}});
    metrics.push_back(std::move(m));
  }
  out.score = sum / static_cast<double>(sel_cuts_.size());
  ASSIGN_OR_RETURN(Json summary, eval::SummarizeFolds(metrics));
  out.report = {
      {"validation", summary["mean"]}, {"windows", windows}, {"score", NumberOr(out.score)}};
  return out;
}

absl::StatusOr<Forecasts> Run::Candidate(const std::string& algorithm, int cut, const XgbParams& xp,
                                         double lo, double hi, XgbFit* fit) {
  if (algorithm == kHoltWinters) {
    ASSIGN_OR_RETURN(Forecasts f, HwForecasts(panel_, cut, h_, ctx_, nullptr));
    progress_.Report(hi, "training");
    return f;
  }
  ASSIGN_OR_RETURN(XgbFit local,
                   FitXgb(rows_, panel_, cut, EarlyStoppingPeriods(), 0, xp, ctx_, [&](double fr) {
                     progress_.Report(lo + (hi - lo) * 0.95 * fr, "training");
                   }));
  ASSIGN_OR_RETURN(Forecasts f, XgbForecasts(*local.booster, panel_, config_, cut, h_, ctx_));
  progress_.Report(hi, "training");
  if (fit != nullptr) *fit = std::move(local);
  return f;
}

int Run::EarlyStoppingPeriods() const {
  // At least the horizon, and enough periods for ~60 validation rows when there are few series.
  const int per_series = static_cast<int>((60 + panel_.series.size() - 1) / panel_.series.size());
  return std::max(h_, std::min(per_series, 2 * config_.scale_window));
}

absl::Status Run::Tune(double lo, double hi) {
  if (p_.trials <= 0) return absl::OkStatus();
  if (p_.algorithm == kHoltWinters || !xgb_feasible_ || !can_select_) {
    warnings_.push_back(p_.algorithm == kHoltWinters
                            ? "tuning searches xgboost parameters; it was skipped for holt_winters"
                            : "too little history for a tuning window; tuning was skipped");
    return absl::OkStatus();
  }
  std::mt19937_64 rng(p_.xgb.seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const auto started = std::chrono::steady_clock::now();
  Json results = Json::array();
  XgbParams best = p_.xgb;
  double best_score = INFINITY;
  Json best_metrics;
  int ran = 0;
  for (int t = 0; t < p_.trials; ++t) {
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (t > 0 && elapsed > p_.time_budget_s) break;
    XgbParams xp = p_.xgb;
    if (t > 0) {  // trial 0 is the requested configuration
      xp.max_depth = 2 + static_cast<int>(unit(rng) * 7);
      xp.learning_rate = std::exp(std::log(0.01) + unit(rng) * (std::log(0.3) - std::log(0.01)));
      xp.min_child_weight =
          std::vector<double>{1, 2, 5, 10}[static_cast<size_t>(unit(rng) * 4) % 4];
      xp.subsample = 0.6 + 0.4 * unit(rng);
      xp.colsample = 0.5 + 0.5 * unit(rng);
    }
    const double a = lo + (hi - lo) * t / p_.trials, b = lo + (hi - lo) * (t + 1) / p_.trials;
    ASSIGN_OR_RETURN(WindowScore ws, ScoreOnWindows(kXgboost, xp, a, b));
    results.push_back({{"trial", t + 1},
                       {"params", xp.ToJson()},
                       {"validation", ws.report["validation"]},
                       {"score", ws.report["score"]}});
    if (ws.score < best_score) {
      best_score = ws.score;
      best = xp;
      best_metrics = ws.report["validation"];
    }
    ++ran;
    progress_.Report(b, "tuning");
  }
  p_.xgb = best;
  tuning_ = {{"trials", ran},
             {"timeBudgetSeconds", p_.time_budget_s},
             {"searchedOn", StrCat(sel_cuts_.size(), " window(s) of ", h_, " ",
                                   PeriodWord(p_.frequency), " before the evaluation window")},
             {"best", {{"params", best.ToJson()}, {"validation", best_metrics}}},
             {"results", results}};
  return absl::OkStatus();
}

absl::Status Run::Select(double lo, double hi) {
  if (p_.algorithm != "auto") {
    chosen_ = p_.algorithm;
    progress_.Report(hi, "training");
    return absl::OkStatus();
  }
  if (!xgb_feasible_) {
    chosen_ = kHoltWinters;
    return absl::OkStatus();
  }
  if (!can_select_) {
    chosen_ = kHoltWinters;
    warnings_.push_back(
        "too little history to compare algorithms on a validation window; "
        "holt_winters was chosen");
    return absl::OkStatus();
  }
  double best = INFINITY;
  const std::vector<std::string> names = {kXgboost, kHoltWinters};
  for (size_t c = 0; c < names.size(); ++c) {
    const double a = lo + (hi - lo) * c / names.size(), b = lo + (hi - lo) * (c + 1) / names.size();
    ASSIGN_OR_RETURN(WindowScore ws, ScoreOnWindows(names[c], p_.xgb, a, b));
    Json candidate = ws.report;
    candidate["name"] = names[c];
    candidates_.push_back(candidate);
    if (ws.score < best) {
      best = ws.score;
      chosen_ = names[c];
    }
  }
  if (chosen_.empty()) chosen_ = kHoltWinters;
  for (Json& c : candidates_) c["selected"] = c["name"] == chosen_;
  return absl::OkStatus();
}

absl::Status Run::Evaluate(double lo, double hi) {
  for (size_t k = 0; k < cuts_.size(); ++k) {
    const int cut = cuts_[k];
    const double a = lo + (hi - lo) * k / cuts_.size(), b = lo + (hi - lo) * (k + 1) / cuts_.size();
    XgbFit fit;
    ASSIGN_OR_RETURN(Forecasts f, Candidate(chosen_, cut, p_.xgb, a, b, &fit));
    if (fit.booster) best_rounds_.push_back(fit.rounds);
    Forecasts naive = NaiveForecasts(panel_, cut, h_);
    std::vector<SeriesScore> per_series;
    ASSIGN_OR_RETURN(Json m, Score(panel_, f, cut, h_, &per_series));
    ASSIGN_OR_RETURN(Json base, Score(panel_, naive, cut, h_, nullptr));
    fold_metrics_.push_back(m);
    fold_baselines_.push_back(base);
    if (k + 1 == cuts_.size()) {
      if (panel_.series.size() > 1) {
        Panel total_only = panel_;
        total_only.scored = {panel_.total};
        ASSIGN_OR_RETURN(Json tm, Score(total_only, f, cut, h_, nullptr));
        ASSIGN_OR_RETURN(Json tb, Score(total_only, naive, cut, h_, nullptr));
        total_metrics_ = {{"metrics", tm}, {"baseline", tb}};
      }
      last_model_ = std::move(f);
      last_scores_ = std::move(per_series);
    }
  }
  return absl::OkStatus();
}

absl::Status Run::FitFinal(double lo, double hi) {
  if (chosen_ == kXgboost) {
    int rounds = p_.xgb.n_estimators;
    if (!best_rounds_.empty()) {
      rounds = std::accumulate(best_rounds_.begin(), best_rounds_.end(), 0) /
               static_cast<int>(best_rounds_.size());
    }
    ASSIGN_OR_RETURN(XgbFit fit,
                     FitXgb(rows_, panel_, 0, 0, std::max(1, rounds), p_.xgb, ctx_, [&](double fr) {
                       progress_.Report(lo + (hi - lo) * 0.9 * fr, "training");
                     }));
    final_booster_ = std::move(fit.booster);
    ASSIGN_OR_RETURN(preview_, XgbForecasts(*final_booster_, panel_, config_, 0, h_, ctx_));
  } else {
    ASSIGN_OR_RETURN(preview_, HwForecasts(panel_, 0, h_, ctx_, &final_hw_));
  }
  progress_.Report(hi, "training");
  return absl::OkStatus();
}

Json Run::ErrorAnalysis() {
  Json out = Json::object();
  const int cut = cuts_.back();
  std::vector<double> a, f;
  std::vector<double> step_abs(static_cast<size_t>(h_), 0.0),
      step_actual(static_cast<size_t>(h_), 0.0), step_forecast(static_cast<size_t>(h_), 0.0);
  int series_n = 0;
  for (const SeriesScore& s : last_scores_) {
    std::span<const double> actual = TestPart(panel_.series[s.series], cut, h_);
    const std::vector<double>& fc = last_model_[s.series];
    for (int k = 0; k < h_; ++k) {
      a.push_back(actual[k]);
      f.push_back(fc[k]);
      step_abs[k] += std::fabs(actual[k] - fc[k]);
      step_actual[k] += actual[k];
      step_forecast[k] += fc[k];
    }
    ++series_n;
  }
  if (!a.empty()) {
    auto q = eval::ResidualQuantiles(a, f);
    if (q.ok()) out["residualQuantiles"] = *q;
  }
  // Periods of the last held-out window, worst first.
  const int64_t first_test = panel_.end_period - cut + 1;
  std::vector<int> order(static_cast<size_t>(h_));
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int x, int y) { return step_abs[x] > step_abs[y]; });
  Json periods = Json::array();
  for (size_t i = 0; i < order.size() && i < 5; ++i) {
    const int k = order[i];
    periods.push_back({{"period", PeriodLabel(panel_.frequency, first_test + k)},
                       {"absError", step_abs[k]},
                       {"actual", step_actual[k]},
                       {"forecast", step_forecast[k]},
                       {"holiday", panel_.frequency == Frequency::kDaily
                                       ? IsHoliday(PeriodFirstDay(panel_.frequency, first_test + k))
                                       : HolidaysInPeriod(panel_.frequency, first_test + k) > 0}});
  }
  out["worstPeriods"] = periods;
  Json by_step = Json::array();
  for (int k = 0; k < h_; ++k) {
    by_step.push_back({{"step", k + 1}, {"mae", series_n > 0 ? step_abs[k] / series_n : 0.0}});
  }
  out["errorByHorizonStep"] = by_step;
  if (panel_.series.size() > 1) {
    std::vector<const SeriesScore*> ranked;
    for (const SeriesScore& s : last_scores_) ranked.push_back(&s);
    std::sort(ranked.begin(), ranked.end(), [](const SeriesScore* x, const SeriesScore* y) {
      return SelectionScore(x->metrics) > SelectionScore(y->metrics);
    });
    Json groups = Json::array();
    for (size_t i = 0; i < ranked.size() && i < 10; ++i) {
      const Series& s = panel_.series[ranked[i]->series];
      std::span<const double> actual = TestPart(s, cut, h_);
      const std::vector<double>& fc = last_model_[ranked[i]->series];
      groups.push_back({{"group", s.name},
                        {"mase", ranked[i]->metrics["mase"]},
                        {"smape", ranked[i]->metrics["smape"]},
                        {"mae", ranked[i]->metrics["mae"]},
                        {"actual", std::accumulate(actual.begin(), actual.end(), 0.0)},
                        {"forecast", std::accumulate(fc.begin(), fc.end(), 0.0)}});
    }
    out["worstGroups"] = groups;
  }
  out["window"] = {{"start", PeriodLabel(panel_.frequency, first_test)},
                   {"end", PeriodLabel(panel_.frequency, first_test + h_ - 1)}};
  return out;
}

absl::StatusOr<Json> Run::Charts() {
  Json charts = Json::array();
  const int cut = cuts_.back();
  auto chart = [&](size_t i, const std::string& name, const std::string& title) -> absl::Status {
    const Series& s = panel_.series[i];
    if (!Scorable(s, cut) || last_model_[i].size() != static_cast<size_t>(h_)) {
      return absl::OkStatus();
    }
    std::span<const double> train = TrainPart(s, cut);
    const size_t tail =
        std::min(train.size(), static_cast<size_t>(std::max(6 * h_, 3 * panel_.season)));
    std::span<const double> shown = train.subspan(train.size() - tail);
    ASSIGN_OR_RETURN(std::string svg,
                     eval::ForecastChartSvg(shown, TestPart(s, cut, h_), last_model_[i], title));
    ASSIGN_OR_RETURN(Json c, WriteChart(spec_.artifact_dir, name, title, svg));
    charts.push_back(c);
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(
      chart(panel_.total, "forecast_total",
            p_.group_by.empty() ? "Forecast vs. actual" : "Forecast vs. actual: total"));
  for (size_t i = 0; i < panel_.total && i < static_cast<size_t>(kChartGroups); ++i) {
    RETURN_IF_ERROR(
        chart(i, StrCat("forecast_group_", i + 1),
              StrCat("Forecast vs. actual: ", p_.group_by, " = ", panel_.series[i].name)));
  }
  return charts;
}

absl::StatusOr<TrainResult> Run::Save() {
  Json evaluation = Json::object();
  evaluation["task"] = "forecasting";
  evaluation["validationStrategy"] = spec_.validation_strategy;
  if (cuts_.size() > 1) {
    ASSIGN_OR_RETURN(Json summary, eval::SummarizeFolds(fold_metrics_));
    ASSIGN_OR_RETURN(Json base_summary, eval::SummarizeFolds(fold_baselines_));
    evaluation["metrics"] = summary["mean"];
    evaluation["baseline"] = {
        {"name", "seasonal_naive"}, {"season", panel_.season}, {"metrics", base_summary["mean"]}};
    Json folds = Json::array();
    for (size_t k = 0; k < cuts_.size(); ++k) {
      const int64_t first_test = panel_.end_period - cuts_[k] + 1;
      folds.push_back({{"fold", k + 1},
                       {"trainPeriods", Len(set_.total) - static_cast<size_t>(cuts_[k])},
                       {"testPeriods", h_},
                       {"testStart", PeriodLabel(panel_.frequency, first_test)},
                       {"testEnd", PeriodLabel(panel_.frequency, first_test + h_ - 1)},
                       {"metrics", fold_metrics_[k]},
                       {"baseline", fold_baselines_[k]}});
    }
    evaluation["folds"] = folds;
    evaluation["foldSummary"] = summary;
    evaluation["baselineFoldSummary"] = base_summary;
  } else {
    evaluation["metrics"] = fold_metrics_[0];
    evaluation["baseline"] = {
        {"name", "seasonal_naive"}, {"season", panel_.season}, {"metrics", fold_baselines_[0]}};
  }
  if (!total_metrics_.is_null()) evaluation["totalMetrics"] = total_metrics_;
  evaluation["metricsScope"] =
      panel_.series.size() > 1
          ? "mape, smape, mae, rmse over every (group, period) of the held-out window; mase is "
            "the mean of the groups' MASE; totalMetrics scores the total series"
          : "the held-out periods of the series";

  // Algorithm and feature importance.
  Json algorithm = {
      {"name", chosen_},
      {"selection", p_.algorithm == "auto"
                        ? StrCat("mean validation mase (smape when mase is undefined) over ",
                                 sel_cuts_.size(), " window(s) of ", h_, " ",
                                 PeriodWord(p_.frequency), " before the evaluation window")
                        : std::string("requested")}};
  if (!candidates_.empty()) algorithm["candidates"] = candidates_;
  Json importance = Json::array();
  Json charts;
  ASSIGN_OR_RETURN(charts, Charts());
  if (chosen_ == kXgboost) {
    const int rounds = final_booster_->Rounds().value_or(0);
    algorithm["params"] = p_.xgb.ToJson();
    algorithm["params"]["rounds"] = rounds;
    algorithm["strategy"] = "recursive: one-step model, predictions fed back as lags";
    algorithm["features"] = config_.FeatureNames();
    algorithm["lagConfig"] = config_.ToJson();
    ASSIGN_OR_RETURN(auto gain, final_booster_->Importance("total_gain"));
    const std::vector<std::string> names = config_.FeatureNames();
    double total = 0;
    for (const auto& [i, g] : gain) total += g;
    std::vector<std::pair<std::string, double>> items;
    for (const auto& [i, g] : gain) {
      if (i >= 0 && static_cast<size_t>(i) < names.size() && g > 0) {
        items.emplace_back(names[i], total > 0 ? g / total : 0.0);
      }
    }
    std::sort(items.begin(), items.end(),
              [](const auto& x, const auto& y) { return x.second > y.second; });
    std::vector<eval::Bar> bars;
    for (const auto& [name, g] : items) {
      importance.push_back({{"feature", name}, {"gain", g}});
      bars.push_back({name, g});
    }
    if (!bars.empty()) {
      ASSIGN_OR_RETURN(std::string svg,
                       eval::FeatureImportanceSvg(bars, "Feature importance (gain)"));
      ASSIGN_OR_RETURN(Json c, WriteChart(spec_.artifact_dir, "feature_importance",
                                          "Feature importance (gain)", svg));
      charts.push_back(c);
    }
  } else {
    Json params = Json::array();
    for (size_t i = 0; i < final_hw_.size(); ++i) {
      if (!final_hw_[i]) continue;
      const HoltWintersModel& m = *final_hw_[i];
      params.push_back({{"series", panel_.series[i].name},
                        {"alpha", m.params.alpha},
                        {"beta", m.params.beta},
                        {"gamma", m.params.gamma},
                        {"phi", m.params.phi},
                        {"season", m.season},
                        {"trend", m.trend}});
    }
    algorithm["params"] = params;
  }
  evaluation["algorithm"] = algorithm;
  evaluation["featureImportance"] = importance;
  evaluation["errorAnalysis"] = ErrorAnalysis();
  evaluation["visualizations"] = charts;
  if (!tuning_.is_null()) evaluation["tuning"] = tuning_;

  size_t zeros = 0;
  for (double v : set_.total.values) zeros += v == 0;
  Json groups = Json::array();
  for (size_t i = 0; i < panel_.total; ++i) groups.push_back(panel_.series[i].name);
  evaluation["dataSummary"] = {
      {"rows", set_.source_rows},
      {"frequency", std::string(FrequencyName(p_.frequency))},
      {"target", set_.target.empty() ? std::string("rows") : set_.target},
      {"periods", Len(set_.total)},
      {"start", PeriodLabel(p_.frequency, set_.total.first_period)},
      {"end", PeriodLabel(p_.frequency, set_.end_period)},
      {"horizon", h_},
      {"trainPeriods", Len(set_.total) - static_cast<size_t>(cuts_.back())},
      {"testPeriods", h_},
      {"zeroPeriodShare", Len(set_.total) ? static_cast<double>(zeros) / Len(set_.total) : 0.0},
      {"groupBy", p_.group_by.empty() ? Json(nullptr) : Json(p_.group_by)},
      {"groups", groups},
      {"distinctGroups", set_.distinct_groups},
      {"droppedGroups", set_.dropped_groups}};
  // The next periods after the data, from the saved model.
  Json preview = Json::array();
  const Series& total = panel_.series[panel_.total];
  for (int k = 0; k < h_ && k < static_cast<int>(preview_[panel_.total].size()); ++k) {
    preview.push_back(
        {{"period",
          PeriodLabel(p_.frequency, total.first_period + static_cast<int64_t>(Len(total)) + k)},
         {"value", preview_[panel_.total][k]}});
  }
  evaluation["forecast"] = preview;
  evaluation["warnings"] = warnings_;

  // The bundle: what the predictor needs to continue every series.
  progress_.Report(95, "saving");
  Json series = Json::array();
  std::vector<LagSeriesState> states = LagStates(panel_, config_, 0);
  for (size_t i = 0; i < panel_.series.size(); ++i) {
    const Series& s = panel_.series[i];
    Json e = {{"name", s.name},
              {"code", i},
              {"nextPeriod", s.first_period + static_cast<int64_t>(Len(s))},
              {"scaleFloor", panel_.floors[i]},
              {"nonNegative", NonNegative(s.values)}};
    if (chosen_ == kXgboost) {
      e["history"] = states[i].history;
    } else if (i < final_hw_.size() && final_hw_[i]) {
      e["holtWinters"] = final_hw_[i]->ToJson();
    }
    series.push_back(e);
  }
  Json model = {{"algorithm", chosen_}, {"series", series}, {"totalIndex", panel_.total}};
  Json libs = {{"tsml-holt-winters", kHwVersion}};
  if (chosen_ == kXgboost) {
    ASSIGN_OR_RETURN(std::string booster_json, final_booster_->SaveJson());
    model["boosterJson"] = booster_json;
    libs["xgboost"] = xgb::Version();
  }
  std::vector<double> all;
  for (const Series& s : panel_.series) all.insert(all.end(), s.values.begin(), s.values.end());
  Json bundle = {
      {"modelType", kModelType},
      {"task", "forecasting"},
      {"framework", chosen_ == kXgboost ? "xgboost" : "holt-winters"},
      {"libraryVersions", libs},
      {"trainedAt",
       common::FormatIso8601(ctx_.clock != nullptr ? ctx_.clock->NowMillis()
                                                   : common::SystemClock::Default()->NowMillis())},
      {"dataFingerprint", Fingerprint(all.data(), all.size() * sizeof(double), nullptr, 0)},
      {"transform",
       {{"frequency", std::string(FrequencyName(p_.frequency))},
        {"groupBy", p_.group_by},
        {"target", set_.target},
        {"horizon", h_},
        {"maxHorizon", 2 * h_},
        {"season", panel_.season},
        {"lagConfig", config_.ToJson()}}},
      {"model", model}};
  if (IsCancelled(ctx_)) return TrainingCancelled();
  const std::string path = spec_.artifact_dir + "/model.json";
  RETURN_IF_ERROR(WriteBundle(path, bundle));

  TrainResult result;
  result.evaluation = std::move(evaluation);
  TrainedModel m;
  m.framework = chosen_ == kXgboost ? "xgboost" : "holt-winters";
  m.version = chosen_ == kXgboost ? xgb::Version() : kHwVersion;
  m.file_path = path;
  m.metadata = {{"algorithm", chosen_},
                {"frequency", std::string(FrequencyName(p_.frequency))},
                {"horizon", h_},
                {"groupBy", p_.group_by},
                {"series", panel_.series.size()}};
  result.model = std::move(m);
  progress_.Report(100, "saving");
  return result;
}

absl::StatusOr<TrainResult> Run::Go() {
  if (spec_.gpu) {
    return absl::FailedPreconditionError(
        "computeResources.gpu: this server's XGBoost was built without GPU (CUDA) support and "
        "Holt-Winters runs on the CPU; submit the job with gpu: false");
  }
  progress_.Report(0, "loading_data");
  RETURN_IF_ERROR(LoadData());
  if (IsCancelled(ctx_)) return TrainingCancelled();
  progress_.Report(10, "preparing_features");
  RETURN_IF_ERROR(Plan());
  if (IsCancelled(ctx_)) return TrainingCancelled();
  progress_.Report(15, "preparing_features");
  const bool tuning = p_.trials > 0;
  if (tuning) {
    progress_.Report(15, "tuning");
    RETURN_IF_ERROR(Tune(15, 40));
  }
  const double sel_lo = tuning ? 40 : 15;
  RETURN_IF_ERROR(Select(sel_lo, 50));
  RETURN_IF_ERROR(Evaluate(50, 78));
  RETURN_IF_ERROR(FitFinal(78, 88));
  if (IsCancelled(ctx_)) return TrainingCancelled();
  progress_.Report(88, "evaluating");
  return Save();
}

}  // namespace

absl::Status CheckForecastRequest(const std::string& validation_strategy) {
  if (validation_strategy == "train_test_split" || validation_strategy == "time_series_split") {
    return absl::OkStatus();
  }
  if (validation_strategy == "k_fold") {
    return common::ValidationError(
        "validationStrategy",
        "k_fold is not available for demand_forecast: shuffled folds would train on periods "
        "after the ones they are tested on, leaking the future into the model; use "
        "train_test_split (holds out the last periods) or time_series_split (expanding window)");
  }
  return common::ValidationError("validationStrategy",
                                 "demand_forecast supports train_test_split and time_series_split");
}

std::vector<HyperparamSpec> ForecastHyperparams() {
  using T = HyperparamSpec::Type;
  return {
      {"algorithm",
       T::kEnum,
       0,
       0,
       "auto",
       {"auto", "xgboost", "holt_winters"},
       "xgboost on lag/rolling/calendar features (all series pooled, recursive), additive "
       "Holt-Winters per series, or auto: the one with the lower validation MASE"},
      {"horizon",
       T::kInt,
       1,
       365,
       nullptr,
       {},
       "periods to forecast and to hold out (default 14 daily, 8 weekly, 6 monthly); the "
       "predictor answers up to twice this"},
      {"frequency",
       T::kEnum,
       0,
       0,
       "daily",
       {"daily", "weekly", "monthly"},
       "period of the series: UTC days, ISO weeks (Monday first) or calendar months of created_at"},
      {"groupBy",
       T::kString,
       0,
       0,
       nullptr,
       {},
       "a column of the source: one series per value (the largest maxGroups), plus the total"},
      {"target",
       T::kString,
       0,
       0,
       nullptr,
       {},
       "numeric column summed per period instead of counting rows (same as trainingData.target)"},
      {"nEstimators", T::kInt, 10, 2000, 300, {}, "xgboost: most boosting rounds (early stopping)"},
      {"maxDepth", T::kInt, 1, 12, 6, {}, "xgboost: tree depth"},
      {"learningRate", T::kNumber, 0.001, 1, 0.05, {}, "xgboost: shrinkage per round"},
      {"lags",
       T::kInt,
       1,
       90,
       nullptr,
       {},
       "xgboost: consecutive lags 1..lags (default 7 daily, 8 weekly, 12 monthly); seasonal lags "
       "are always added"},
      {"maxGroups",
       T::kInt,
       1,
       200,
       20,
       {},
       "largest groups by volume kept as their own series; the rest are merged into __other__"},
      {"folds", T::kInt, 2, 10, 3, {}, "time_series_split: number of expanding-window folds"},
      {"seed", T::kInt, 0, 2147483647, 42, {}, "random seed (xgboost subsampling, tuning)"},
  };
}

absl::StatusOr<TrainResult> ForecastTrainer::Train(const TrainSpec& spec, TrainContext& ctx) {
  RETURN_IF_ERROR(CheckForecastRequest(spec.validation_strategy));
  ASSIGN_OR_RETURN(Params p, ParseParams(spec));
  try {
    Run run(spec, ctx, std::move(p));
    return run.Go();
  } catch (const std::exception& e) {
    return absl::InternalError(StrCat("demand_forecast training failed: ", e.what()));
  }
}

// ---- Predictor -------------------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<ForecastPredictor>> ForecastPredictor::FromBundle(const Json& b) {
  try {
    if (b.value("modelType", std::string()) != kModelType) {
      return absl::InvalidArgumentError("the artifact is not a demand_forecast model");
    }
    std::unique_ptr<ForecastPredictor> p(new ForecastPredictor());
    const Json& t = b.at("transform");
    const Json& m = b.at("model");
    auto f = ParseFrequency(t.at("frequency").get<std::string>());
    if (!f) return absl::InvalidArgumentError("demand_forecast artifact: unknown frequency");
    p->frequency_ = *f;
    p->group_by_ = t.value("groupBy", std::string());
    p->horizon_ = t.at("horizon").get<int>();
    p->max_horizon_ = t.value("maxHorizon", 2 * p->horizon_);
    p->algorithm_ = m.at("algorithm").get<std::string>();
    if (p->algorithm_ == kXgboost) {
      ASSIGN_OR_RETURN(LagConfig c, LagConfig::FromJson(t.at("lagConfig")));
      p->config_ = c;
      ASSIGN_OR_RETURN(xgb::Booster booster,
                       xgb::Booster::LoadJson(m.at("boosterJson").get<std::string>()));
      // Requests forecast a few rows per step: one thread avoids OpenMP overhead and keeps
      // concurrent requests from oversubscribing the cores.
      RETURN_IF_ERROR(booster.SetParam("nthread", "1"));
      p->booster_ = std::make_unique<xgb::Booster>(std::move(booster));
    } else if (p->algorithm_ != kHoltWinters) {
      return absl::InvalidArgumentError(
          StrCat("demand_forecast artifact: unknown algorithm '", p->algorithm_, "'"));
    }
    for (const Json& e : m.at("series")) {
      SeriesModel s;
      s.name = e.at("name").get<std::string>();
      s.next_period = e.at("nextPeriod").get<int64_t>();
      s.lag.next_period = s.next_period;
      s.lag.group_code = e.at("code").get<int>();
      s.lag.scale_floor = e.at("scaleFloor").get<double>();
      s.lag.non_negative = e.value("nonNegative", true);
      if (p->algorithm_ == kXgboost) {
        s.lag.history = e.at("history").get<std::vector<double>>();
      } else if (e.contains("holtWinters")) {
        ASSIGN_OR_RETURN(HoltWintersModel hw, HoltWintersModel::FromJson(e["holtWinters"]));
        s.hw = std::move(hw);
      }
      p->by_name_[s.name] = p->series_.size();
      p->series_.push_back(std::move(s));
    }
    p->total_ = m.at("totalIndex").get<size_t>();
    if (p->series_.empty() || p->total_ >= p->series_.size()) {
      return absl::InvalidArgumentError("demand_forecast artifact: no series");
    }
    return p;
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(StrCat("demand_forecast artifact: ", e.what()));
  }
}

std::vector<std::string> ForecastPredictor::InputColumns() const {
  if (group_by_.empty()) return {};
  return {"group"};
}

std::vector<std::string> ForecastPredictor::SeriesNames() const {
  std::vector<std::string> out;
  for (const SeriesModel& s : series_) out.push_back(s.name);
  return out;
}

absl::StatusOr<Json> ForecastPredictor::Predict(const Json& instances, const Json& options) const {
  if (!instances.is_array()) return absl::InvalidArgumentError("instances must be an array");
  int h = horizon_;
  if (options.is_object() && options.contains("horizon") && !options["horizon"].is_null()) {
    const Json& v = options["horizon"];
    if (!v.is_number_integer() || v.get<int64_t>() < 1 || v.get<int64_t>() > max_horizon_) {
      return common::ValidationError("options.horizon",
                                     StrCat("must be an integer from 1 to ", max_horizon_,
                                            " (twice the trained horizon of ", horizon_, ")"));
    }
    h = v.get<int>();
  }
  // Resolve every instance to a series.
  std::vector<size_t> which;
  which.reserve(instances.size());
  for (size_t i = 0; i < instances.size(); ++i) {
    const Json& inst = instances[i];
    if (!inst.is_object()) {
      return absl::InvalidArgumentError(StrCat("instance ", i, ": must be an object"));
    }
    const Json g = inst.contains("group") ? inst["group"] : Json();
    if (g.is_null() || (g.is_string() && g.get<std::string>() == kTotalSeries)) {
      which.push_back(total_);
      continue;
    }
    std::string key;
    if (g.is_string()) {
      key = g.get<std::string>();
    } else if (g.is_number_integer()) {
      key = GroupKey(store::SqlValue(g.get<int64_t>()));
    } else if (g.is_number_float()) {
      key = GroupKey(store::SqlValue(g.get<double>()));
    } else if (g.is_boolean()) {
      key = g.get<bool>() ? "1" : "0";
    } else {
      return absl::InvalidArgumentError(StrCat(
          "instance ", i, ": group must be a string or a number, got ", common::JsonTypeName(g)));
    }
    if (group_by_.empty()) {
      return absl::InvalidArgumentError(StrCat(
          "instance ", i, ": this model was trained without groupBy; send {} for the series"));
    }
    auto it = by_name_.find(key);
    if (it == by_name_.end() || it->second == total_) {
      std::vector<std::string> known;
      for (const SeriesModel& s : series_) {
        if (s.name != kTotalSeries && known.size() < 20) known.push_back(s.name);
      }
      return absl::InvalidArgumentError(StrCat(
          "instance ", i, ": unknown ", group_by_, " '", key, "'; the model knows ",
          common::StrJoin(known, ", "), " (smaller groups are merged into '", kOtherGroup, "')"));
    }
    which.push_back(it->second);
  }
  // Forecast each distinct series once; the xgboost steps batch all of them.
  std::vector<size_t> distinct = which;
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  std::map<size_t, std::vector<double>> values;
  if (booster_ != nullptr) {
    std::vector<LagSeriesState> states;
    for (size_t i : distinct) states.push_back(series_[i].lag);
    ASSIGN_OR_RETURN(auto f, RecursiveForecast(*booster_, *config_, std::move(states), h));
    for (size_t k = 0; k < distinct.size(); ++k) values[distinct[k]] = std::move(f[k]);
  } else {
    for (size_t i : distinct) {
      values[i] = series_[i].hw ? series_[i].hw->Forecast(h) : std::vector<double>(h, 0.0);
    }
  }
  Json out = Json::array();
  for (size_t i : which) {
    const SeriesModel& s = series_[i];
    Json fc = Json::array();
    const std::vector<double>& v = values[i];
    for (int k = 0; k < h; ++k) {
      fc.push_back({{"period", PeriodLabel(frequency_, s.next_period + k)}, {"value", v[k]}});
    }
    out.push_back({{"group", i == total_ ? Json(nullptr) : Json(s.name)}, {"forecast", fc}});
  }
  return out;
}

absl::StatusOr<std::unique_ptr<Predictor>> LoadForecastPredictor(const std::string& path) {
  ASSIGN_OR_RETURN(Json bundle, ReadBundle(path));
  ASSIGN_OR_RETURN(std::unique_ptr<ForecastPredictor> p, ForecastPredictor::FromBundle(bundle));
  return std::unique_ptr<Predictor>(std::move(p));
}

}  // namespace tsml::train::forecast
