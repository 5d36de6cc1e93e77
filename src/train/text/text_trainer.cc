#include "train/text/text_trainer.h"

#include <linear.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <numeric>
#include <optional>
#include <random>
#include <set>
#include <utility>

#include "common/clock.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "data/catalog.h"
#include "data/filters.h"
#include "train/bundle.h"
#include "train/eval/charts.h"
#include "train/eval/metrics.h"
#include "train/text/fasttext_model.h"
#include "train/text/tfidf_linear.h"
#include "train/text/tokenizer.h"

namespace tsml::train::text {
namespace {

using common::StrCat;
using Idx = std::vector<int>;

constexpr int kPageRows = 5000;
constexpr int kMinRows = 10;
constexpr int kMaxClasses = 100;
constexpr int kExamplesShown = 10;
constexpr size_t kExampleChars = 200;
constexpr int kPatience = 3;
constexpr double kSelectionFraction = 0.2;
constexpr std::string_view kFastTextVersion = "0.9.2";

std::string LiblinearVersion() {
  return StrCat(liblinear_version / 100, ".", liblinear_version % 100 < 10 ? "0" : "",
                liblinear_version % 100);
}


// ---- progress -----------------------------------------------------------------------------------

// Monotonic progress with an ETA extrapolated from the elapsed time.
class Progress {
 public:
  Progress(ProgressSink* sink, const common::Clock* clock) : sink_(sink), clock_(clock) {
    start_ = clock_->NowMillis();
  }

  void Report(double p, std::string_view stage) {
    p = std::clamp(p, last_, 100.0);
    if (sink_ == nullptr) return;
    if (p - reported_ < 0.5 && stage == stage_ && p < 100) return;  // throttle
    std::optional<common::Millis> eta;
    const common::Millis now = clock_->NowMillis();
    if (p >= 15 && p < 100 && now > start_) {
      eta = now + static_cast<common::Millis>((now - start_) * (100 - p) / p);
    }
    sink_->Report(p, stage, eta);
    last_ = reported_ = p;
    stage_ = std::string(stage);
  }
  // A hook mapping a sub-task's fraction onto [lo, hi].
  std::function<void(double)> Range(double lo, double hi, std::string stage) {
    return [this, lo, hi, stage = std::move(stage)](double f) {
      Report(lo + (hi - lo) * std::clamp(f, 0.0, 1.0), stage);
    };
  }

 private:
  ProgressSink* sink_;
  const common::Clock* clock_;
  common::Millis start_ = 0;
  double last_ = 0;
  double reported_ = -1;
  std::string stage_;
};

// ---- parameters ---------------------------------------------------------------------------------

struct Config {
  std::string algorithm;  // tfidf_logreg | fasttext
  TfidfOptions tfidf;
  LogRegOptions logreg;
  FastTextOptions fasttext;
  bool early_stopping = true;
  // fastText epochs chosen by early stopping on `epochs_chosen_on` training rows; a fit on fewer
  // rows (a fold) scales the epochs up to keep the number of updates, at most `max_epochs`.
  int epochs_chosen_on = 0;
  int max_epochs = 0;

  Json ParamsJson() const {
    if (algorithm == "tfidf_logreg") {
      return {{"C", logreg.c},
              {"ngramMax", tfidf.ngram_max},
              {"minDf", tfidf.min_df},
              {"maxFeatures", tfidf.max_features},
              {"vectorizer", tfidf.hashed ? "hashed" : "vocabulary"},
              {"charNgrams", tfidf.char_ngrams}};
    }
    return {{"epochs", fasttext.epochs},
            {"learningRate", fasttext.learning_rate},
            {"dim", fasttext.dim},
            {"wordNgrams", fasttext.word_ngrams}};
  }
};

struct Params {
  std::string algorithm = "auto";
  Config base;
  double test_size = 0.2;
  int folds = 5;
  uint64_t seed = 42;
  Json tuning;  // null, or {trials, timeBudgetSeconds}
};

template <typename T>
T Get(const Json& h, const char* key, T fallback) {
  auto it = h.find(key);
  if (it == h.end() || it->is_null()) return fallback;
  try {
    return it->get<T>();
  } catch (const std::exception&) {
    return fallback;
  }
}

Params ParseParams(const TrainSpec& spec) {
  const Json& h = spec.hyperparameters.is_object() ? spec.hyperparameters : Json::object();
  Params p;
  p.algorithm = Get<std::string>(h, "algorithm", "auto");
  p.base.logreg.c = Get<double>(h, "C", 1.0);
  p.base.tfidf.ngram_max = Get<int>(h, "ngramMax", 2);
  p.base.tfidf.min_df = Get<int>(h, "minDf", 2);
  p.base.tfidf.max_features = Get<int>(h, "maxFeatures", 200000);
  p.base.tfidf.hashed = Get<std::string>(h, "vectorizer", "vocabulary") == "hashed";
  p.base.tfidf.char_ngrams = Get<bool>(h, "charNgrams", false);
  p.base.fasttext.epochs = Get<int>(h, "epochs", 10);
  p.base.fasttext.learning_rate = Get<double>(h, "learningRate", 0.5);
  p.base.fasttext.dim = Get<int>(h, "dim", 50);
  p.base.fasttext.word_ngrams = Get<int>(h, "wordNgrams", 2);
  p.base.early_stopping = Get<bool>(h, "earlyStopping", true);
  p.test_size = Get<double>(h, "testSize", 0.2);
  p.folds = Get<int>(h, "folds", 5);
  p.seed = static_cast<uint64_t>(Get<int64_t>(h, "seed", 42));
  p.base.fasttext.seed = static_cast<int>(p.seed % 2147483647);
  p.base.fasttext.scratch_dir = spec.artifact_dir;
  if (h.contains("tuning") && h["tuning"].is_object()) p.tuning = h["tuning"];
  return p;
}

// ---- data ---------------------------------------------------------------------------------------

struct Corpus {
  std::vector<std::string> texts;
  std::vector<Tokens> tokens;
  std::vector<int> y;
  std::vector<int64_t> created_at;
  std::vector<std::string> labels;
  std::vector<int64_t> class_counts;
  int positive = -1;
  std::string source, text_column, target;
  bool from_rating = false;
  bool has_created_at = false;
  int64_t missing_text = 0, missing_target = 0, rating_out_of_range = 0;
  int num_classes() const { return static_cast<int>(labels.size()); }
  int size() const { return static_cast<int>(texts.size()); }
};

std::optional<double> NumberOf(const store::SqlValue& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* s = std::get_if<std::string>(&v)) {
    const std::string_view t = common::StripWhitespace(*s);
    if (t.empty()) return std::nullopt;
    char* end = nullptr;
    const std::string copy(t);
    const double x = std::strtod(copy.c_str(), &end);
    if (end != nullptr && *end == '\0' && std::isfinite(x)) return x;
  }
  return std::nullopt;
}

std::optional<std::string> LabelOf(const store::SqlValue& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&v)) {
    if (!std::isfinite(*d)) return std::nullopt;
    if (*d == std::floor(*d) && std::fabs(*d) < 1e15) {
      return std::to_string(static_cast<int64_t>(*d));
    }
    return StrCat(*d);
  }
  if (const auto* s = std::get_if<std::string>(&v)) {
    const std::string_view t = common::StripWhitespace(*s);
    if (t.empty()) return std::nullopt;
    return std::string(t);
  }
  return std::nullopt;
}

std::optional<std::string> SentimentFromRating(double rating) {
  const double r = std::round(rating);
  if (r >= 1 && r <= 2) return "negative";
  if (r == 3) return "neutral";
  if (r >= 4 && r <= 5) return "positive";
  return std::nullopt;
}

// Orders labels numerically when they all are numbers, else lexicographically.
void SortLabels(std::vector<std::string>* labels) {
  bool numeric = true;
  std::vector<double> values;
  for (const std::string& l : *labels) {
    char* end = nullptr;
    const double v = std::strtod(l.c_str(), &end);
    if (end == l.c_str() || *end != '\0') numeric = false;
    values.push_back(v);
  }
  if (numeric) {
    std::sort(labels->begin(), labels->end(), [](const std::string& a, const std::string& b) {
      return std::strtod(a.c_str(), nullptr) < std::strtod(b.c_str(), nullptr);
    });
  } else {
    std::sort(labels->begin(), labels->end());
  }
}

int PositiveIndex(const std::vector<std::string>& labels) {
  if (labels.size() != 2) return -1;
  for (std::string_view name : {"positive", "pos", "1", "true", "yes", "good"}) {
    for (int i = 0; i < 2; ++i) {
      if (common::EqualsIgnoreCase(labels[i], name)) return i;
    }
  }
  return 1;
}

absl::StatusOr<Corpus> LoadCorpus(const TrainSpec& spec, TrainContext& ctx, Progress& progress) {
  if (ctx.data_db == nullptr) {
    return absl::FailedPreconditionError("no data database is configured (TSML_DATA_URL)");
  }
  progress.Report(0, "loading_data");
  data::DataCatalog catalog(ctx.data_db);
  ASSIGN_OR_RETURN(data::ResolvedTrainingData resolved,
                   data::ResolveTrainingData(catalog, kModelType, spec.training_data));
  Corpus corpus;
  corpus.source = resolved.schema.source;
  corpus.text_column = resolved.text_column;
  corpus.target = resolved.target;
  const bool target_given = spec.training_data.is_object() &&
                            spec.training_data.contains("target") &&
                            !spec.training_data["target"].is_null();
  corpus.from_rating = !target_given && resolved.target == "rating";
  corpus.has_created_at = resolved.schema.Find("created_at") != nullptr;
  if (corpus.text_column.empty() || corpus.target.empty()) {
    return absl::InvalidArgumentError("nlp_sentiment needs a free-text column and a label column");
  }
  const std::string source = data::QuoteIdent(resolved.schema.source);
  const std::string text = data::QuoteIdent(corpus.text_column);
  const std::string target = data::QuoteIdent(corpus.target);

  // Size check before reading: the texts, their tokens and feature rows stay in memory.
  int64_t total_rows = 0;
  int64_t total_chars = 0;
  RETURN_IF_ERROR(ctx.data_db->Run([&](store::SqlConnection& conn) -> absl::Status {
    ASSIGN_OR_RETURN(store::SqlRows rows, conn.Query(StrCat("SELECT COUNT(*), SUM(LENGTH(", text,
                                                            ")) FROM ", source, resolved.where.sql),
                                                     resolved.where.params));
    if (!rows.empty()) {
      total_rows = rows[0].Int(0);
      total_chars = static_cast<int64_t>(rows[0].Double(1));
    }
    return absl::OkStatus();
  }));
  if (total_rows == 0) {
    return absl::FailedPreconditionError(StrCat("no rows of '", resolved.schema.source,
                                                "' match trainingData's filters and dateRange"));
  }
  // Per character: the text, its tokens, the n-gram counts, feature rows and liblinear's nodes
  // (measured: ~480 MiB peak for 100k reviews of ~150 characters with a large vocabulary).
  const double need = 30.0 * static_cast<double>(total_chars) + 600.0 * total_rows;
  const double limit = spec.memory_gb * 1024.0 * 1024.0 * 1024.0;
  if (spec.memory_gb > 0 && need > limit) {
    return absl::ResourceExhaustedError(
        StrCat("the training data does not fit computeResources.memory: ", total_rows, " texts (",
               total_chars / (1 << 20) + 1, " MiB of text) need about ",
               static_cast<int64_t>(need / (1 << 20)) + 1, " MiB, the limit is ",
               static_cast<int64_t>(limit / (1 << 20)),
               " MiB; add filters or a dateRange, or raise "
               "computeResources.memory"));
  }

  std::string sql = StrCat("SELECT \"_row\", ", text, ", ", target,
                           corpus.has_created_at ? ", \"created_at\"" : "", " FROM ", source,
                           resolved.where.sql.empty() ? " WHERE " : resolved.where.sql + " AND ",
                           "\"_row\" > ? ORDER BY \"_row\" LIMIT ", kPageRows);
  std::vector<std::string> raw_labels;
  int64_t last_row = std::numeric_limits<int64_t>::min();
  int64_t seen = 0;
  for (;;) {
    RETURN_IF_ERROR(CheckCancel(ctx));
    std::vector<store::SqlValue> params = resolved.where.params;
    params.emplace_back(last_row);
    store::SqlRows page;
    RETURN_IF_ERROR(ctx.data_db->Run([&](store::SqlConnection& conn) -> absl::Status {
      ASSIGN_OR_RETURN(page, conn.Query(sql, params));
      return absl::OkStatus();
    }));
    if (page.empty()) break;
    for (const store::SqlRow& row : page) {
      last_row = row.Int(0);
      ++seen;
      std::optional<std::string> label;
      if (corpus.from_rating) {
        std::optional<double> rating = NumberOf(row.Raw(2));
        if (!rating) {
          ++corpus.missing_target;
          continue;
        }
        label = SentimentFromRating(*rating);
        if (!label) {
          ++corpus.rating_out_of_range;
          continue;
        }
      } else {
        label = LabelOf(row.Raw(2));
        if (!label) {
          ++corpus.missing_target;
          continue;
        }
      }
      std::optional<std::string> body = row.OptStr(1);
      if (!body || common::StripWhitespace(*body).empty()) {
        ++corpus.missing_text;
        continue;
      }
      corpus.texts.push_back(*std::move(body));
      raw_labels.push_back(*std::move(label));
      corpus.created_at.push_back(corpus.has_created_at ? row.Int(3) : 0);
    }
    progress.Report(8.0 * static_cast<double>(seen) / static_cast<double>(total_rows),
                    "loading_data");
    if (static_cast<int>(page.size()) < kPageRows) break;
  }

  if (corpus.size() < kMinRows) {
    return absl::FailedPreconditionError(
        StrCat("only ", corpus.size(), " rows have both a text and a label (", corpus.missing_text,
               " without text, ", corpus.missing_target + corpus.rating_out_of_range,
               " without a usable label); nlp_sentiment needs at least ", kMinRows));
  }
  std::set<std::string> distinct(raw_labels.begin(), raw_labels.end());
  if (distinct.size() < 2) {
    return absl::FailedPreconditionError(
        StrCat("nlp_sentiment needs at least two classes, but every usable row of '", corpus.target,
               "' is '", *distinct.begin(), "'"));
  }
  if (distinct.size() > kMaxClasses) {
    return absl::InvalidArgumentError(
        StrCat("'", corpus.target, "' has ", distinct.size(),
               " distinct values; nlp_sentiment predicts ", "a label with at most ", kMaxClasses,
               " classes: name a label column in trainingData.target"));
  }
  corpus.labels.assign(distinct.begin(), distinct.end());
  SortLabels(&corpus.labels);
  std::map<std::string, int> index;
  for (int i = 0; i < corpus.num_classes(); ++i) index[corpus.labels[i]] = i;
  corpus.class_counts.assign(corpus.labels.size(), 0);
  corpus.y.reserve(raw_labels.size());
  for (const std::string& l : raw_labels) {
    corpus.y.push_back(index[l]);
    ++corpus.class_counts[index[l]];
  }
  corpus.positive = PositiveIndex(corpus.labels);

  // Tokens, once for every fit.
  corpus.tokens.resize(corpus.texts.size());
  for (size_t i = 0; i < corpus.texts.size(); ++i) {
    if (i % 2048 == 0) {
      RETURN_IF_ERROR(CheckCancel(ctx));
      progress.Report(8 + 5.0 * static_cast<double>(i) / corpus.texts.size(), "preparing_features");
    }
    corpus.tokens[i] = Tokenize(corpus.texts[i]);
  }
  return corpus;
}

// ---- splits -------------------------------------------------------------------------------------

// Stratified: each class's rows shuffled, round(fraction · n_c) of them to the second part
// (at least one, and never all, for a class of two or more rows).
std::pair<Idx, Idx> StratifiedSplit(const Idx& rows, const std::vector<int>& y, int num_classes,
                                    double fraction, uint64_t seed) {
  std::vector<Idx> by_class(num_classes);
  for (int r : rows) by_class[y[r]].push_back(r);
  std::mt19937_64 rng(seed);
  Idx first, second;
  for (Idx& members : by_class) {
    std::shuffle(members.begin(), members.end(), rng);
    const int n = static_cast<int>(members.size());
    int take = static_cast<int>(std::lround(fraction * n));
    if (n >= 2) take = std::clamp(take, 1, n - 1);
    if (n < 2) take = 0;
    second.insert(second.end(), members.begin(), members.begin() + take);
    first.insert(first.end(), members.begin() + take, members.end());
  }
  if (second.empty() && first.size() > 1) {
    second.push_back(first.back());
    first.pop_back();
  }
  std::sort(first.begin(), first.end());
  std::sort(second.begin(), second.end());
  return {first, second};
}

// Stratified k folds: each class dealt round-robin over the folds (continuing where the
// previous class stopped, so fold sizes differ by at most one).
std::vector<Idx> StratifiedFolds(const Idx& rows, const std::vector<int>& y, int num_classes, int k,
                                 uint64_t seed) {
  std::vector<Idx> by_class(num_classes);
  for (int r : rows) by_class[y[r]].push_back(r);
  std::mt19937_64 rng(seed);
  std::vector<Idx> folds(k);
  size_t next = 0;
  for (Idx& members : by_class) {
    std::shuffle(members.begin(), members.end(), rng);
    for (int r : members) folds[next++ % k].push_back(r);
  }
  for (Idx& f : folds) std::sort(f.begin(), f.end());
  return folds;
}

Idx ByTime(const Corpus& c, const Idx& rows) {
  Idx sorted = rows;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [&](int a, int b) { return c.created_at[a] < c.created_at[b]; });
  return sorted;
}

Idx Complement(const Idx& all, const Idx& part) {
  std::vector<bool> in(all.empty() ? 0 : *std::max_element(all.begin(), all.end()) + 1, false);
  for (int r : part) in[r] = true;
  Idx out;
  for (int r : all) {
    if (!in[r]) out.push_back(r);
  }
  return out;
}

struct Split {
  Idx train, test;
};

// ---- fitting ------------------------------------------------------------------------------------

struct FitOutcome {
  std::unique_ptr<TextClassifier> model;
  int best_epoch = 0;
  double val_score = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> epoch_scores;
  std::vector<double> epoch_losses;
  bool stopped_early = false;
};

int FastTextThreads(const Corpus& c, const Idx& rows, const Config& config, int cpu) {
  int64_t tokens = 0;
  for (int r : rows) tokens += static_cast<int64_t>(c.tokens[r].size()) + 1;
  // Small jobs: one thread (deterministic, and early stopping can score epochs in-flight).
  if (tokens * config.fasttext.epochs < 20'000'000) return 1;
  return std::clamp(cpu, 1, 8);
}

absl::StatusOr<FitOutcome> FitConfig(const Corpus& c, const Config& config, const Idx& train,
                                     const Idx* validation, int cpu, const FitHooks& hooks) {
  FitOutcome out;
  if (config.algorithm == "tfidf_logreg") {
    ASSIGN_OR_RETURN(out.model, TfidfLogReg::Fit(c.tokens, train, c.y, c.num_classes(),
                                                 config.tfidf, config.logreg, hooks));
    return out;
  }
  FastTextOptions options = config.fasttext;
  options.threads = FastTextThreads(c, train, config, cpu);
  if (config.epochs_chosen_on > static_cast<int>(train.size()) && !train.empty()) {
    const double scale = static_cast<double>(config.epochs_chosen_on) / train.size();
    options.epochs = std::min(std::max(config.max_epochs, options.epochs),
                              static_cast<int>(std::ceil(options.epochs * scale)));
  }
  EarlyStopping es;
  const bool use_es = validation != nullptr && !validation->empty() && config.early_stopping;
  if (use_es) {
    es.docs = &c.tokens;
    es.rows = *validation;
    es.y = c.y;
    es.patience = kPatience;
  }
  ASSIGN_OR_RETURN(FastTextClassifier::FitResult fit,
                   FastTextClassifier::Fit(c.tokens, train, c.y, c.num_classes(), options, hooks,
                                           use_es ? &es : nullptr));
  out.model = std::move(fit.model);
  out.best_epoch = fit.best_epoch;
  out.val_score = fit.best_score;
  out.epoch_scores = std::move(fit.epoch_scores);
  out.epoch_losses = std::move(fit.epoch_losses);
  out.stopped_early = fit.stopped_early;
  return out;
}

// n × k probabilities, row-major, for `rows`.
std::vector<double> PredictRows(const Corpus& c, const TextClassifier& model, const Idx& rows) {
  const int k = c.num_classes();
  std::vector<double> proba(rows.size() * k);
  for (size_t i = 0; i < rows.size(); ++i) model.PredictProba(c.tokens[rows[i]], &proba[i * k]);
  return proba;
}

int ArgMax(const double* p, int k) { return static_cast<int>(std::max_element(p, p + k) - p); }

// The predicted class: binary → the positive label when its probability is >= 0.5 (as the
// binary metrics threshold it), else the most probable class.
int Predicted(const double* p, int k, int positive) {
  if (positive >= 0) return p[positive] >= 0.5 ? positive : 1 - positive;
  return ArgMax(p, k);
}

double ValidationMacroF1(const Corpus& c, const TextClassifier& model, const Idx& rows) {
  const int k = c.num_classes();
  std::vector<double> proba = PredictRows(c, model, rows);
  std::vector<int> truth, predicted;
  for (size_t i = 0; i < rows.size(); ++i) {
    truth.push_back(c.y[rows[i]]);
    predicted.push_back(Predicted(&proba[i * k], k, c.positive));
  }
  return MacroF1(truth, predicted, k);
}

// ---- metrics ------------------------------------------------------------------------------------

std::vector<double> Prior(const Corpus& c, const Idx& train) {
  std::vector<double> prior(c.num_classes(), 0);
  for (int r : train) prior[c.y[r]] += 1;
  for (double& p : prior) p /= std::max<size_t>(1, train.size());
  return prior;
}

// {metrics, confusionMatrix, rocCurve, prCurve, perClass} for rows with probabilities `proba`.
absl::StatusOr<Json> Report(const Corpus& c, const std::vector<int>& y,
                            const std::vector<double>& proba) {
  const int k = c.num_classes();
  std::vector<int> predicted(y.size());
  for (size_t i = 0; i < y.size(); ++i) predicted[i] = Predicted(&proba[i * k], k, c.positive);
  Json out;
  if (c.positive >= 0) {
    std::vector<int> y01(y.size());
    std::vector<double> p(y.size());
    for (size_t i = 0; i < y.size(); ++i) {
      y01[i] = y[i] == c.positive ? 1 : 0;
      p[i] = std::clamp(proba[i * k + c.positive], 0.0, 1.0);
    }
    eval::BinaryOptions options;
    options.label_names = {c.labels[1 - c.positive], c.labels[c.positive]};
    ASSIGN_OR_RETURN(Json ev, eval::EvaluateBinary(y01, p, options));
    out["metrics"] = ev["metrics"];
    out["confusionMatrix"] = ev["confusionMatrix"];
    out["rocCurve"] = ev["rocCurve"];
    out["prCurve"] = ev["precisionRecallCurve"];
  } else {
    std::vector<double> clipped(proba.size());
    for (size_t i = 0; i < proba.size(); ++i) clipped[i] = std::clamp(proba[i], 0.0, 1.0);
    ASSIGN_OR_RETURN(Json ev, eval::EvaluateMulticlass(y, clipped, k, c.labels));
    out["metrics"] = ev["metrics"];
    out["confusionMatrix"] = ev["confusionMatrix"];
  }
  out["metrics"]["macroF1"] = MacroF1(y, predicted, k);
  // Per class: support and error rate (1 - recall), precision, recall.
  Json per_class = Json::array();
  for (int cls = 0; cls < k; ++cls) {
    int64_t support = 0, hit = 0, predicted_as = 0;
    for (size_t i = 0; i < y.size(); ++i) {
      support += y[i] == cls;
      hit += y[i] == cls && predicted[i] == cls;
      predicted_as += predicted[i] == cls;
    }
    Json e = {{"label", c.labels[cls]}, {"support", support}};
    e["errorRate"] = support > 0 ? Json(1.0 - static_cast<double>(hit) / support) : Json();
    e["recall"] = support > 0 ? Json(static_cast<double>(hit) / support) : Json();
    e["precision"] = predicted_as > 0 ? Json(static_cast<double>(hit) / predicted_as) : Json();
    per_class.push_back(e);
  }
  out["perClass"] = per_class;
  return out;
}

std::vector<double> ConstantProba(const std::vector<double>& prior, size_t n) {
  std::vector<double> out;
  out.reserve(prior.size() * n);
  for (size_t i = 0; i < n; ++i) out.insert(out.end(), prior.begin(), prior.end());
  return out;
}

// ---- tuning -------------------------------------------------------------------------------------

Config SampleConfig(const Config& base, const std::string& algorithm, std::mt19937_64& rng) {
  Config c = base;
  c.algorithm = algorithm;
  std::uniform_real_distribution<double> unit(0, 1);
  auto pick = [&](std::initializer_list<int> options) {
    std::vector<int> v(options);
    return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng)];
  };
  if (algorithm == "tfidf_logreg") {
    c.logreg.c = std::pow(10.0, -2 + 4 * unit(rng));  // 0.01 .. 100
    c.tfidf.ngram_max = pick({1, 2, 2, 3});
    c.tfidf.min_df = pick({1, 2, 3, 5});
    c.tfidf.char_ngrams = unit(rng) < 0.25;
  } else {
    c.fasttext.learning_rate = std::pow(10.0, -1.3 + 1.3 * unit(rng));  // 0.05 .. 1
    c.fasttext.dim = pick({25, 50, 100});
    c.fasttext.word_ngrams = pick({1, 2, 3});
    c.fasttext.epochs = pick({5, 10, 20, 30});
  }
  return c;
}

// ---- evaluation document pieces -----------------------------------------------------------------

std::string LengthBucket(size_t tokens) {
  if (tokens < 5) return "0-4 words";
  if (tokens < 10) return "5-9 words";
  if (tokens < 20) return "10-19 words";
  if (tokens < 50) return "20-49 words";
  return "50+ words";
}

bool HasNegation(const Tokens& tokens) {
  return std::any_of(tokens.begin(), tokens.end(),
                     [](const std::string& t) { return IsNegationCue(t); });
}

Json ErrorAnalysis(const Corpus& c, const Idx& rows, const std::vector<double>& proba,
                   const Json& per_class) {
  const int k = c.num_classes();
  Json out;
  std::vector<std::pair<double, size_t>> wrong;  // (confidence, position)
  std::vector<double> errors(rows.size());
  std::vector<std::string> lengths(rows.size()), negation(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const int pred = Predicted(&proba[i * k], k, c.positive);
    const bool miss = pred != c.y[rows[i]];
    errors[i] = miss ? 1.0 : 0.0;
    if (miss) wrong.emplace_back(proba[i * k + pred], i);
    lengths[i] = LengthBucket(c.tokens[rows[i]].size());
    negation[i] = HasNegation(c.tokens[rows[i]]) ? "with negation" : "without negation";
  }
  std::sort(wrong.begin(), wrong.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  Json examples = Json::array();
  for (size_t j = 0; j < wrong.size() && j < static_cast<size_t>(kExamplesShown); ++j) {
    const size_t i = wrong[j].second;
    const int pred = Predicted(&proba[i * k], k, c.positive);
    // Cut first (bounded work on huge texts), scrub, then cut to the shown length.
    const std::string text =
        TruncateUtf8(ScrubPii(TruncateUtf8(c.texts[rows[i]], 1000)), kExampleChars);
    examples.push_back({{"text", text},
                        {"actual", c.labels[c.y[rows[i]]]},
                        {"predicted", c.labels[pred]},
                        {"confidence", wrong[j].first}});
  }
  out["misclassified"] = examples;
  out["errorRate"] = rows.empty() ? 0.0 : static_cast<double>(wrong.size()) / rows.size();
  out["perClass"] = per_class;
  Json segments = Json::array();
  eval::SegmentOptions so;
  so.min_support = std::max<int64_t>(10, static_cast<int64_t>(rows.size() / 50));
  for (auto& [name, values] :
       {std::pair<std::string, std::vector<std::string>*>{"textLength", &lengths},
        {"negation", &negation}}) {
    auto seg = eval::WorstSegments(name, *values, errors, so);
    if (seg.ok()) segments.push_back(*seg);
  }
  out["segments"] = segments;
  return out;
}

}  // namespace

// ---- hyperparameters ----------------------------------------------------------------------------

std::vector<HyperparamSpec> TextHyperparams() {
  using T = HyperparamSpec::Type;
  return {
      {"algorithm",
       T::kEnum,
       0,
       0,
       "auto",
       {"auto", "tfidf_logreg", "fasttext"},
       "auto trains both and keeps the better validation macro-F1; or one of them"},
      {"C",
       T::kNumber,
       0.001,
       1000,
       1.0,
       {},
       "tfidf_logreg: inverse L2 regularization strength of the logistic regression"},
      {"ngramMax", T::kInt, 1, 3, 2, {}, "tfidf_logreg: longest word n-gram (1 = words only)"},
      {"minDf",
       T::kInt,
       1,
       100,
       2,
       {},
       "tfidf_logreg: an n-gram must occur in at least this many training texts"},
      {"maxFeatures",
       T::kInt,
       1000,
       2000000,
       200000,
       {},
       "tfidf_logreg: vocabulary size cap (most frequent n-grams), or hash buckets"},
      {"vectorizer",
       T::kEnum,
       0,
       0,
       "vocabulary",
       {"vocabulary", "hashed"},
       "tfidf_logreg: stored vocabulary with minDf, or feature hashing (no vocabulary)"},
      {"charNgrams",
       T::kBool,
       0,
       0,
       false,
       {},
       "tfidf_logreg: add 3-5 character n-grams of each word (robust to typos)"},
      {"epochs",
       T::kInt,
       1,
       100,
       10,
       {},
       "fasttext: maximum passes over the data (early stopping may use fewer)"},
      {"learningRate", T::kNumber, 0.01, 2, 0.5, {}, "fasttext: initial learning rate"},
      {"dim", T::kInt, 10, 300, 50, {}, "fasttext: embedding dimension"},
      {"wordNgrams", T::kInt, 1, 5, 2, {}, "fasttext: longest word n-gram"},
      {"earlyStopping",
       T::kBool,
       0,
       0,
       true,
       {},
       "fasttext: pick the epoch count by validation macro-F1 (patience 3 epochs)"},
      {"testSize",
       T::kNumber,
       0.05,
       0.5,
       0.2,
       {},
       "train_test_split: share of rows held out (stratified)"},
      {"folds", T::kInt, 2, 10, 5, {}, "k_fold and time_series_split: number of folds"},
      {"seed", T::kInt, 0, 2147483647, 42, {}, "random seed (splits, shuffling, fastText)"},
  };
}

// ---- SentimentModel -----------------------------------------------------------------------------

SentimentModel::SentimentModel(std::vector<std::string> labels, int positive,
                               std::string text_column, std::unique_ptr<TextClassifier> classifier)
    : labels_(std::move(labels)),
      positive_(positive),
      text_column_(std::move(text_column)),
      classifier_(std::move(classifier)) {}

std::vector<double> SentimentModel::PredictText(std::string_view text) const {
  std::vector<double> p(labels_.size());
  classifier_->PredictProba(Tokenize(text), p.data());
  return p;
}

absl::StatusOr<Json> SentimentModel::ToBundle(const std::string& scratch_dir,
                                              const Json& extra) const {
  ASSIGN_OR_RETURN(Json model, classifier_->ToJson(scratch_dir));
  const bool linear = classifier_->algorithm() == "tfidf_logreg";
  Json bundle = {{"modelType", kModelType},
                 {"task", positive_ >= 0 ? "binary_classification" : "multiclass_classification"},
                 {"framework", linear ? "liblinear" : "fasttext"},
                 {"libraryVersions", linear ? Json{{"liblinear", LiblinearVersion()}}
                                            : Json{{"fasttext", kFastTextVersion}}},
                 {"transform",
                  {{"tokenizer",
                    {{"version", kTokenizerVersion},
                     {"lowercase", true},
                     {"negationPrefix", kNegationPrefix}}},
                   {"textColumn", text_column_}}},
                 {"labels", labels_},
                 {"positiveLabel", positive_ >= 0 ? Json(labels_[positive_]) : Json()},
                 {"model", std::move(model)}};
  if (extra.is_object()) {
    for (auto it = extra.begin(); it != extra.end(); ++it) bundle[it.key()] = it.value();
  }
  return bundle;
}

absl::StatusOr<std::unique_ptr<SentimentModel>> SentimentModel::FromBundle(const Json& bundle) {
  auto bad = [](std::string_view why) {
    return absl::InvalidArgumentError(StrCat("not a usable nlp_sentiment model: ", why));
  };
  if (!bundle.is_object() || bundle.value("modelType", Json()) != kModelType) {
    return bad("modelType is not nlp_sentiment");
  }
  const Json& transform = bundle.value("transform", Json::object());
  if (!transform.is_object() || !transform.contains("tokenizer") ||
      !transform["tokenizer"].is_object() ||
      transform["tokenizer"].value("version", Json()) != kTokenizerVersion) {
    return bad(StrCat("it was trained with another tokenizer version (this build has version ",
                      kTokenizerVersion, ")"));
  }
  const Json text_column = transform.value("textColumn", Json("text"));
  const Json& labels_json = bundle.value("labels", Json());
  if (!labels_json.is_array() || labels_json.size() < 2 || !text_column.is_string()) {
    return bad("labels");
  }
  std::vector<std::string> labels;
  for (const Json& l : labels_json) {
    if (!l.is_string()) return bad("labels");
    labels.push_back(l.get<std::string>());
  }
  int positive = -1;
  const Json positive_label = bundle.value("positiveLabel", Json());
  if (positive_label.is_string()) {
    auto it = std::find(labels.begin(), labels.end(), positive_label.get<std::string>());
    if (it == labels.end() || labels.size() != 2) return bad("positiveLabel");
    positive = static_cast<int>(it - labels.begin());
  }
  const Json& model = bundle.value("model", Json());
  if (!model.is_object()) return bad("model section missing");
  const Json algorithm = model.value("algorithm", Json());
  std::unique_ptr<TextClassifier> classifier;
  if (algorithm == "tfidf_logreg") {
    ASSIGN_OR_RETURN(classifier, TfidfLogReg::FromJson(model));
  } else if (algorithm == "fasttext") {
    ASSIGN_OR_RETURN(classifier, FastTextClassifier::FromJson(model));
  } else {
    return bad("unknown algorithm");
  }
  if (classifier->num_classes() != static_cast<int>(labels.size())) {
    return bad("the model's class count differs from its labels");
  }
  return std::make_unique<SentimentModel>(std::move(labels), positive,
                                          text_column.get<std::string>(), std::move(classifier));
}

// ---- TextPredictor ------------------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<Predictor>> TextPredictor::Load(const std::string& path) {
  ASSIGN_OR_RETURN(Json bundle, ReadBundle(path));
  ASSIGN_OR_RETURN(std::unique_ptr<SentimentModel> model, SentimentModel::FromBundle(bundle));
  return std::make_unique<TextPredictor>(std::move(model));
}

absl::StatusOr<Json> TextPredictor::Predict(const Json& instances, const Json& /*options*/) const {
  if (!instances.is_array()) return absl::InvalidArgumentError("instances must be an array");
  const std::string& column = model_->text_column();
  std::vector<const std::string*> texts(instances.size(), nullptr);
  for (size_t i = 0; i < instances.size(); ++i) {
    const Json& inst = instances[i];
    if (!inst.is_object()) {
      return absl::InvalidArgumentError(
          StrCat("instances[", i, "] must be an object like {\"text\": \"...\"}"));
    }
    const char* key = inst.contains("text") ? "text" : column.c_str();
    auto it = inst.find(key);
    if (it == inst.end() || it->is_null()) continue;  // missing: an empty text
    if (!it->is_string()) {
      return absl::InvalidArgumentError(
          StrCat("instances[", i, "].", key, " must be a string, got ", common::JsonTypeName(*it)));
    }
    texts[i] = it->get_ptr<const std::string*>();
  }
  const std::vector<std::string>& labels = model_->labels();
  const int k = static_cast<int>(labels.size());
  Json out = Json::array();
  std::vector<double> p(k);
  static const std::string kEmpty;
  for (size_t i = 0; i < instances.size(); ++i) {
    model_->classifier().PredictProba(Tokenize(texts[i] ? *texts[i] : kEmpty), p.data());
    const int best = Predicted(p.data(), k, model_->positive());
    Json probabilities = Json::object();
    for (int c = 0; c < k; ++c) probabilities[labels[c]] = p[c];
    Json row = {{"label", labels[best]}, {"probabilities", std::move(probabilities)}};
    if (model_->positive() >= 0) row["probability"] = p[model_->positive()];
    out.push_back(std::move(row));
  }
  return out;
}

std::vector<std::string> TextPredictor::InputColumns() const { return {model_->text_column()}; }

// ---- TextTrainer --------------------------------------------------------------------------------

absl::StatusOr<TrainResult> TextTrainer::Train(const TrainSpec& spec, TrainContext& ctx) {
  const common::Clock* clock = ctx.clock != nullptr ? ctx.clock : common::SystemClock::Default();
  Progress progress(ctx.progress, clock);
  const Params params = ParseParams(spec);
  const std::string& strategy = spec.validation_strategy;
  const bool tts = strategy == "train_test_split" || strategy.empty();
  const bool kfold = strategy == "k_fold";
  const bool time_split = strategy == "time_series_split";
  if (!tts && !kfold && !time_split) {
    return absl::InvalidArgumentError(
        StrCat("unknown validationStrategy '", strategy,
               "': use train_test_split, k_fold or time_series_split"));
  }
  if (spec.artifact_dir.empty()) {
    return absl::FailedPreconditionError("no artifact folder was given for the model files");
  }
  RETURN_IF_ERROR(CheckCancel(ctx));
  ASSIGN_OR_RETURN(Corpus corpus, LoadCorpus(spec, ctx, progress));
  const int n = corpus.size();
  const int k = corpus.num_classes();
  Idx all(n);
  std::iota(all.begin(), all.end(), 0);
  Json warnings = Json::array();

  // ---- splits -----------------------------------------------------------------------------------
  std::vector<Split> splits;
  if (tts) {
    auto [train, test] = StratifiedSplit(all, corpus.y, k, params.test_size, params.seed);
    splits.push_back({std::move(train), std::move(test)});
  } else if (kfold) {
    if (n < 2 * params.folds) {
      return absl::FailedPreconditionError(StrCat("k_fold with ", params.folds,
                                                  " folds needs at least ", 2 * params.folds,
                                                  " labelled texts; there are ", n));
    }
    std::vector<Idx> folds = StratifiedFolds(all, corpus.y, k, params.folds, params.seed);
    for (Idx& f : folds) splits.push_back({Complement(all, f), std::move(f)});
  } else {
    if (!corpus.has_created_at) {
      warnings.push_back(StrCat("source '", corpus.source, "' has no created_at column: ",
                                "time_series_split follows the rows' insertion order"));
    }
    const Idx sorted = ByTime(corpus, all);
    const int chunk = n / (params.folds + 1);
    if (chunk < 2) {
      return absl::FailedPreconditionError(StrCat("time_series_split with ", params.folds,
                                                  " folds needs at least ", 2 * (params.folds + 1),
                                                  " labelled texts; there are ", n));
    }
    for (int f = 0; f < params.folds; ++f) {
      const int train_end = (f + 1) * chunk;
      const int test_end = f + 1 == params.folds ? n : (f + 2) * chunk;
      Idx train(sorted.begin(), sorted.begin() + train_end);
      Idx test(sorted.begin() + train_end, sorted.begin() + test_end);
      std::sort(train.begin(), train.end());
      std::sort(test.begin(), test.end());
      splits.push_back({std::move(train), std::move(test)});
    }
  }
  const bool cross_validated = splits.size() > 1;
  const Idx& dev = cross_validated ? all : splits[0].train;

  // ---- selection (and tuning) on a validation split carved from the development rows ------------
  Idx sel_train, sel_val;
  if (time_split) {
    const Idx sorted = ByTime(corpus, dev);
    const size_t cut =
        sorted.size() - static_cast<size_t>(std::lround(kSelectionFraction * sorted.size()));
    sel_train.assign(sorted.begin(), sorted.begin() + cut);
    sel_val.assign(sorted.begin() + cut, sorted.end());
    std::sort(sel_train.begin(), sel_train.end());
    std::sort(sel_val.begin(), sel_val.end());
  } else {
    std::tie(sel_train, sel_val) =
        StratifiedSplit(dev, corpus.y, k, kSelectionFraction, params.seed + 1);
  }
  const bool can_select = sel_train.size() >= 8 && sel_val.size() >= 4;
  // A validation fit is needed to choose between algorithms, to tune, or to pick fastText's
  // epoch count; a lone tfidf_logreg without tuning has nothing to choose.
  const bool selection_fits =
      can_select && (params.algorithm != "tfidf_logreg" || !params.tuning.is_null());
  std::vector<std::string> candidates;
  if (params.algorithm == "auto") {
    candidates = {"tfidf_logreg", "fasttext"};
  } else {
    candidates = {params.algorithm};
  }
  const bool tuning = !params.tuning.is_null() && can_select;
  if (!params.tuning.is_null() && !can_select) {
    warnings.push_back("tuning skipped: too few rows to carve a validation split");
  }
  const int n_candidates = static_cast<int>(candidates.size());
  const int trials =
      tuning ? std::max(n_candidates, Get<int>(params.tuning, "trials", 10)) : n_candidates;
  const int64_t budget_ms =
      tuning ? static_cast<int64_t>(1000 * Get<double>(params.tuning, "timeBudgetSeconds", 3600))
             : 0;
  const std::string select_stage = tuning ? "tuning" : "training";
  progress.Report(15, select_stage);

  Config best = params.base;
  best.algorithm = candidates[0];
  double best_score = -1;
  Json candidates_json = Json::array();
  Json history = Json::array();
  std::mt19937_64 tune_rng(params.seed + 7);
  const common::Millis tuning_start = clock->NowMillis();
  FitHooks base_hooks;
  base_hooks.cancelled = [&ctx] { return IsCancelled(ctx); };
  if (selection_fits) {
    for (int t = 0; t < trials; ++t) {
      if (t >= n_candidates && clock->NowMillis() - tuning_start > budget_ms) break;
      Config cfg = params.base;
      cfg.algorithm = candidates[t % n_candidates];
      if (t >= n_candidates) cfg = SampleConfig(params.base, cfg.algorithm, tune_rng);
      FitHooks hooks = base_hooks;
      hooks.progress =
          progress.Range(15 + 35.0 * t / trials, 15 + 35.0 * (t + 1) / trials, select_stage);
      const auto started = std::chrono::steady_clock::now();
      ASSIGN_OR_RETURN(FitOutcome fit,
                       FitConfig(corpus, cfg, sel_train, &sel_val, spec.cpu, hooks));
      const double score = std::isnan(fit.val_score)
                               ? ValidationMacroF1(corpus, *fit.model, sel_val)
                               : fit.val_score;
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      Config chosen = cfg;
      Json entry = {{"name", cfg.algorithm},
                    {"validationMacroF1", score},
                    {"seconds", std::round(seconds * 1000) / 1000}};
      if (cfg.algorithm == "fasttext") {
        if (fit.best_epoch > 0) chosen.fasttext.epochs = fit.best_epoch;
        chosen.max_epochs = cfg.fasttext.epochs;
        chosen.epochs_chosen_on = static_cast<int>(sel_train.size());
        entry["maxEpochs"] = cfg.fasttext.epochs;
        entry["bestEpoch"] = chosen.fasttext.epochs;
        entry["stoppedEarly"] = fit.stopped_early;
        if (!fit.epoch_scores.empty()) {
          entry["epochScores"] = fit.epoch_scores;
          entry["epochLogLoss"] = fit.epoch_losses;
        }
      }
      entry["params"] = chosen.ParamsJson();
      if (t < n_candidates) candidates_json.push_back(entry);
      Json h = entry;
      h["trial"] = t + 1;
      history.push_back(std::move(h));
      if (score > best_score + 1e-12) {
        best_score = score;
        best = chosen;
      }
    }
  } else if (params.algorithm == "auto") {
    warnings.push_back(StrCat("only ", dev.size(), " training rows: too few to compare the ",
                              "algorithms on a validation split; tfidf_logreg was used"));
  }

  // ---- evaluation fits: the chosen configuration on each split's training rows ------------------
  const int eval_fits = static_cast<int>(splits.size()) + (cross_validated ? 1 : 0);
  std::vector<Json> fold_metrics, fold_baselines;
  std::vector<int> fold_epochs;
  Idx pooled_rows;
  std::vector<int> pooled_y;
  std::vector<double> pooled_proba, pooled_base;
  std::unique_ptr<TextClassifier> final_model;
  for (size_t s = 0; s < splits.size(); ++s) {
    const Split& split = splits[s];
    FitHooks hooks = base_hooks;
    hooks.progress =
        progress.Range(50 + 35.0 * s / eval_fits, 50 + 35.0 * (s + 1) / eval_fits, "training");
    ASSIGN_OR_RETURN(FitOutcome fit,
                     FitConfig(corpus, best, split.train, nullptr, spec.cpu, hooks));
    fold_epochs.push_back(fit.best_epoch);
    std::vector<double> proba = PredictRows(corpus, *fit.model, split.test);
    std::vector<int> y_test;
    for (int r : split.test) y_test.push_back(corpus.y[r]);
    const std::vector<double> base = ConstantProba(Prior(corpus, split.train), split.test.size());
    if (cross_validated) {
      ASSIGN_OR_RETURN(Json rep, Report(corpus, y_test, proba));
      ASSIGN_OR_RETURN(Json base_rep, Report(corpus, y_test, base));
      fold_metrics.push_back(rep["metrics"]);
      fold_baselines.push_back(base_rep["metrics"]);
    } else {
      final_model = std::move(fit.model);
    }
    pooled_rows.insert(pooled_rows.end(), split.test.begin(), split.test.end());
    pooled_y.insert(pooled_y.end(), y_test.begin(), y_test.end());
    pooled_proba.insert(pooled_proba.end(), proba.begin(), proba.end());
    pooled_base.insert(pooled_base.end(), base.begin(), base.end());
  }
  if (cross_validated) {
    FitHooks hooks = base_hooks;
    hooks.progress = progress.Range(50 + 35.0 * (eval_fits - 1) / eval_fits, 85, "training");
    ASSIGN_OR_RETURN(FitOutcome fit, FitConfig(corpus, best, all, nullptr, spec.cpu, hooks));
    final_model = std::move(fit.model);
  }
  RETURN_IF_ERROR(CheckCancel(ctx));

  // ---- evaluation document ----------------------------------------------------------------------
  progress.Report(86, "evaluating");
  const bool binary = corpus.positive >= 0;
  ASSIGN_OR_RETURN(Json rep, Report(corpus, pooled_y, pooled_proba));
  ASSIGN_OR_RETURN(Json base_rep, Report(corpus, pooled_y, pooled_base));
  Json evaluation;
  evaluation["task"] = binary ? "binary_classification" : "multiclass_classification";
  evaluation["validationStrategy"] = tts ? "train_test_split" : strategy;
  if (cross_validated) {
    ASSIGN_OR_RETURN(Json summary, eval::SummarizeFolds(fold_metrics));
    ASSIGN_OR_RETURN(Json base_summary, eval::SummarizeFolds(fold_baselines));
    Json folds = Json::array();
    for (size_t f = 0; f < splits.size(); ++f) {
      folds.push_back({{"fold", f + 1},
                       {"trainRows", splits[f].train.size()},
                       {"testRows", splits[f].test.size()},
                       {"metrics", fold_metrics[f]},
                       {"baseline", fold_baselines[f]}});
      if (best.algorithm == "fasttext") folds.back()["epochs"] = fold_epochs[f];
    }
    evaluation["metrics"] = summary["mean"];
    evaluation["pooledMetrics"] = rep["metrics"];
    evaluation["baseline"] = {{"name", "majority_class"}, {"metrics", base_summary["mean"]}};
    evaluation["folds"] = std::move(folds);
    evaluation["foldSummary"] = summary;
  } else {
    evaluation["metrics"] = rep["metrics"];
    evaluation["baseline"] = {{"name", "majority_class"}, {"metrics", base_rep["metrics"]}};
  }
  evaluation["baseline"]["description"] =
      "predicts the most frequent class of the training rows, with the training class shares "
      "as probabilities; measured on the same held-out rows";
  evaluation["confusionMatrix"] = rep["confusionMatrix"];
  if (binary) {
    evaluation["rocCurve"] = rep["rocCurve"];
    evaluation["prCurve"] = rep["prCurve"];
  }
  evaluation["perClass"] = rep["perClass"];

  // Feature importance: the n-grams (fastText: words) with the largest weights per class.
  Json importance = Json::array();
  std::vector<eval::Bar> bars;
  for (const Json& f : final_model->TopFeatures(15)) {
    const int cls = f["class"].get<int>();
    const double w = f["weight"].get<double>();
    const std::string name = f["feature"].get<std::string>();
    importance.push_back(
        {{"feature", name}, {"class", corpus.labels[cls]}, {"weight", w}, {"gain", std::fabs(w)}});
    bars.push_back({StrCat(name, w >= 0 ? " (+" : " (-", corpus.labels[cls], ")"), std::fabs(w)});
  }
  evaluation["featureImportance"] = importance;
  evaluation["featureImportanceMethod"] =
      best.algorithm == "tfidf_logreg"
          ? "logistic-regression weight of each n-gram per class (positive: pushes towards the "
            "class)"
          : "fastText: output row of the class · word vector, centered across classes";
  evaluation["errorAnalysis"] = ErrorAnalysis(corpus, pooled_rows, pooled_proba, rep["perClass"]);

  // Warnings: small classes, short texts, dropped rows.
  for (int c = 0; c < k; ++c) {
    const double share = static_cast<double>(corpus.class_counts[c]) / n;
    if (corpus.class_counts[c] < 10 || share < 0.02) {
      warnings.push_back(StrCat("class '", corpus.labels[c], "' has only ", corpus.class_counts[c],
                                " rows (", std::round(share * 1000) / 10,
                                "%): its precision and recall are unreliable"));
    }
  }
  std::vector<size_t> lengths;
  lengths.reserve(n);
  int64_t short_texts = 0;
  double total_tokens = 0;
  for (const Tokens& t : corpus.tokens) {
    lengths.push_back(t.size());
    short_texts += t.size() < 3;
    total_tokens += static_cast<double>(t.size());
  }
  std::nth_element(lengths.begin(), lengths.begin() + n / 2, lengths.end());
  const size_t median_tokens = lengths[n / 2];
  if (short_texts > n / 5) {
    warnings.push_back(StrCat(std::lround(100.0 * short_texts / n), "% of the texts have fewer ",
                              "than 3 words: too short to carry much signal"));
  }
  if (corpus.missing_text > 0) {
    warnings.push_back(StrCat(corpus.missing_text, " rows without text were skipped"));
  }
  if (corpus.missing_target > 0) {
    warnings.push_back(StrCat(corpus.missing_target, " rows without a label in '", corpus.target,
                              "' were skipped"));
  }
  if (corpus.rating_out_of_range > 0) {
    warnings.push_back(
        StrCat(corpus.rating_out_of_range, " rows with a rating outside 1-5 were skipped"));
  }
  if (n < 200) {
    warnings.push_back(StrCat("only ", n, " labelled texts: the metrics have wide error margins"));
  }
  if (spec.training_data.is_object() && spec.training_data.contains("features") &&
      !spec.training_data["features"].is_null()) {
    warnings.push_back(
        StrCat("trainingData.features is ignored: nlp_sentiment reads only the text "
               "column '",
               corpus.text_column, "'"));
  }
  if (spec.gpu) {
    warnings.push_back("gpu: true was requested, but fastText and liblinear train on the CPU only");
  }
  evaluation["warnings"] = warnings;

  // Charts.
  Json charts = Json::array();
  auto add_chart = [&](const std::string& name, const std::string& title,
                       absl::StatusOr<std::string> svg) -> absl::Status {
    if (!svg.ok()) return absl::OkStatus();  // nothing to draw
    ASSIGN_OR_RETURN(Json chart, WriteChart(spec.artifact_dir, name, title, *svg));
    charts.push_back(std::move(chart));
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(add_chart("confusion_matrix", "Confusion matrix",
                            eval::ConfusionMatrixSvg(evaluation["confusionMatrix"])));
  if (binary) {
    const Json& m = rep["metrics"];
    std::optional<double> auc, ap;
    if (m.contains("rocAuc") && m["rocAuc"].is_number()) auc = m["rocAuc"].get<double>();
    if (m.contains("averagePrecision") && m["averagePrecision"].is_number()) {
      ap = m["averagePrecision"].get<double>();
    }
    RETURN_IF_ERROR(add_chart("roc", "ROC curve", eval::RocChartSvg(rep["rocCurve"], auc)));
    RETURN_IF_ERROR(add_chart("precision_recall", "Precision-recall curve",
                              eval::PrecisionRecallChartSvg(rep["prCurve"], ap)));
  }
  if (!bars.empty()) {
    RETURN_IF_ERROR(add_chart("feature_importance", "Most influential n-grams",
                              eval::FeatureImportanceSvg(bars, "Most influential n-grams")));
  }
  evaluation["visualizations"] = charts;

  Json classes = Json::object();
  for (int c = 0; c < k; ++c) classes[corpus.labels[c]] = corpus.class_counts[c];
  evaluation["dataSummary"] = {
      {"source", corpus.source},
      {"textColumn", corpus.text_column},
      {"target", corpus.target},
      {"targetFromRating", corpus.from_rating},
      {"rows", n},
      {"trainRows", cross_validated ? n : static_cast<int>(splits[0].train.size())},
      {"testRows", cross_validated ? n : static_cast<int>(splits[0].test.size())},
      {"selectionTrainRows", selection_fits ? sel_train.size() : 0},
      {"selectionValidationRows", selection_fits ? sel_val.size() : 0},
      {"classes", classes},
      {"skipped",
       {{"missingText", corpus.missing_text},
        {"missingLabel", corpus.missing_target},
        {"ratingOutOfRange", corpus.rating_out_of_range}}},
      {"tokensPerText", {{"median", median_tokens}, {"mean", total_tokens / n}}}};
  Json final_params = best.ParamsJson();
  if (const auto* ft = dynamic_cast<const FastTextClassifier*>(final_model.get())) {
    final_params["bucket"] = ft->bucket();
    final_params["epochs"] = ft->epochs();
  }
  evaluation["algorithm"] = {
      {"name", best.algorithm},
      {"params", final_params},
      {"candidates", candidates_json},
      {"selection",
       selection_fits ? StrCat("validation macro-F1 on ", sel_val.size(), " rows carved from the ",
                               cross_validated ? "data" : "training rows",
                               time_split ? " (the latest 20%)" : " (stratified 20%)")
                      : std::string(can_select ? "none: a single algorithm without tuning"
                                               : "no validation split (too few rows)")}};
  if (best.algorithm == "fasttext") {
    evaluation["algorithm"]["earlyStopping"] =
        best.early_stopping && selection_fits
            ? StrCat(
                  "epoch count chosen by validation macro-F1, ties to the lower log loss "
                  "(patience ",
                  kPatience, " epochs): the final model trains ", best.fasttext.epochs,
                  " epochs (a fit on fewer rows than the selection run scales them up to ",
                  "keep the number of updates, at most ", best.max_epochs, ")")
            : std::string("off: fixed epoch count");
  }
  if (tuning) {
    Json best_trial;
    for (const Json& h : history) {
      if (best_trial.is_null() || h["validationMacroF1"].get<double>() >
                                      best_trial["validationMacroF1"].get<double>() + 1e-12) {
        best_trial = h;
      }
    }
    evaluation["tuning"] = {{"trials", history.size()},
                            {"requestedTrials", trials},
                            {"timeBudgetSeconds", budget_ms / 1000.0},
                            {"method", "random search on the validation split"},
                            {"best", best_trial},
                            {"history", history}};
  }

  // ---- saving -----------------------------------------------------------------------------------
  RETURN_IF_ERROR(CheckCancel(ctx));
  progress.Report(95, "saving");
  std::string fingerprint_data;
  for (const std::string& t : corpus.texts) {
    fingerprint_data += t;
    fingerprint_data.push_back('\0');
  }
  const std::string fingerprint = Fingerprint(fingerprint_data.data(), fingerprint_data.size(),
                                              corpus.y.data(), corpus.y.size() * sizeof(int));
  fingerprint_data.clear();
  fingerprint_data.shrink_to_fit();
  const std::string algorithm = best.algorithm;
  SentimentModel model(corpus.labels, corpus.positive, corpus.text_column, std::move(final_model));
  ASSIGN_OR_RETURN(Json bundle,
                   model.ToBundle(spec.artifact_dir, {{"trainedAt", clock->NowMillis()},
                                                      {"dataFingerprint", fingerprint},
                                                      {"trainingRows", n},
                                                      {"hyperparameters", spec.hyperparameters}}));
  const std::string path = StrCat(spec.artifact_dir, "/model.json");
  RETURN_IF_ERROR(WriteBundle(path, bundle));
  TrainResult result;
  result.evaluation = std::move(evaluation);
  TrainedModel trained;
  trained.framework = bundle["framework"].get<std::string>();
  trained.version =
      algorithm == "tfidf_logreg" ? LiblinearVersion() : std::string(kFastTextVersion);
  trained.file_path = path;
  trained.metadata = {
      {"algorithm", algorithm},           {"task", bundle["task"]},
      {"labels", corpus.labels},          {"positiveLabel", bundle["positiveLabel"]},
      {"textColumn", corpus.text_column}, {"target", corpus.target},
      {"dataFingerprint", fingerprint},   {"tokenizerVersion", kTokenizerVersion}};
  result.model = std::move(trained);
  progress.Report(100, "saving");
  return result;
}

}  // namespace tsml::train::text
