#include "train/text/fasttext_model.h"

#include <fasttext/fasttext.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <unordered_set>

#include "common/file_util.h"
#include "common/strings.h"
#include "train/bundle.h"

namespace tsml::train::text {

using common::StrCat;

class FastTextImpl : public fasttext::FastText {
 public:
  // Reads and checks the magic number and version that FastText::loadModel(filename) checks.
  bool ReadHeader(std::istream& in) { return checkModel(in); }
};

namespace {

constexpr std::string_view kLabelPrefix = "__label__";

std::string ScratchPath(const std::string& dir, std::string_view what) {
  static std::atomic<uint64_t> counter{0};
  const std::string base = dir.empty() ? std::filesystem::temp_directory_path().string() : dir;
  return StrCat(base, "/.fasttext-", what, "-", ::getpid(), "-", counter.fetch_add(1), "-",
                std::random_device{}());
}

// Removes a file when it goes out of scope.
class FileGuard {
 public:
  explicit FileGuard(std::string path) : path_(std::move(path)) {}
  ~FileGuard() {
    std::error_code ec;
    std::filesystem::remove(path_, ec);
  }
  FileGuard(const FileGuard&) = delete;
  FileGuard& operator=(const FileGuard&) = delete;

 private:
  std::string path_;
};

std::string JoinTokens(const Tokens& tokens) {
  std::string line;
  for (const std::string& t : tokens) {
    if (!line.empty()) line += ' ';
    line += t;
  }
  line += '\n';
  return line;
}

absl::StatusOr<std::unordered_map<std::string, int>> LabelMap(const FastTextImpl& ft,
                                                              int num_classes) {
  std::unordered_map<std::string, int> out;
  auto dict = ft.getDictionary();
  for (int32_t i = 0; i < dict->nlabels(); ++i) {
    const std::string label = dict->getLabel(i);
    int cls = -1;
    if (common::StartsWith(label, kLabelPrefix)) {
      const std::string digits = label.substr(kLabelPrefix.size());
      if (!digits.empty() && digits.size() < 5 &&
          std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        cls = std::stoi(digits);
      }
    }
    if (cls < 0 || cls >= num_classes) {
      return absl::InvalidArgumentError(
          StrCat("fastText model has an unexpected label '", label, "'"));
    }
    out[label] = cls;
  }
  return out;
}

// 4 × the distinct word n-grams (2..word_ngrams) of the rows, clamped to [20000, max_bucket];
// counting stops once the answer is max_bucket.
int AdaptiveBucket(const std::vector<Tokens>& docs, std::span<const int> rows, int word_ngrams,
                   int max_bucket) {
  constexpr int kMinBucket = 20000;
  if (max_bucket <= kMinBucket) return max_bucket;
  const size_t cap = static_cast<size_t>(max_bucket) / 4;
  std::unordered_set<uint64_t> seen;
  std::vector<uint64_t> hashes;
  for (int r : rows) {
    const Tokens& t = docs[r];
    hashes.resize(t.size());
    for (size_t i = 0; i < t.size(); ++i) hashes[i] = std::hash<std::string>{}(t[i]);
    for (int n = 2; n <= word_ngrams; ++n) {
      for (size_t i = 0; i + n <= t.size(); ++i) {
        uint64_t key = static_cast<uint64_t>(n);
        for (int j = 0; j < n; ++j) key = key * 1000003ULL ^ hashes[i + j];
        seen.insert(key);
      }
    }
    if (seen.size() > cap) return max_bucket;
  }
  return static_cast<int>(std::clamp<size_t>(4 * seen.size(), kMinBucket, max_bucket));
}

}  // namespace

int FastTextClassifier::bucket() const { return ft_->getArgs().bucket; }
int FastTextClassifier::epochs() const { return ft_->getArgs().epoch; }

std::vector<int32_t> FastTextClassifier::FeatureIds(const Tokens& tokens) const {
  std::vector<int32_t> words, labels;
  std::istringstream in(JoinTokens(tokens));
  ft_->getDictionary()->getLine(in, words, labels);
  return words;
}

FastTextArrays FastTextClassifier::Arrays() const {
  FastTextArrays a;
  const auto dict = ft_->getDictionary();
  const fasttext::Args args = ft_->getArgs();
  for (int32_t i = 0; i < dict->nwords(); ++i) a.words.push_back(dict->getWord(i));
  a.bucket = args.bucket;
  a.word_ngrams = args.wordNgrams;
  a.dim = args.dim;
  const auto input = ft_->getInputMatrix();
  const auto output = ft_->getOutputMatrix();
  a.input.assign(input->data(), input->data() + input->size(0) * input->size(1));
  a.output.assign(output->data(), output->data() + output->size(0) * output->size(1));
  a.label_class.assign(static_cast<size_t>(dict->nlabels()), -1);
  for (int32_t l = 0; l < dict->nlabels(); ++l) {
    auto it = label_class_.find(dict->getLabel(l));
    if (it != label_class_.end()) a.label_class[static_cast<size_t>(l)] = it->second;
  }
  return a;
}

FastTextClassifier::FastTextClassifier(std::unique_ptr<FastTextImpl> ft, int num_classes)
    : ft_(std::move(ft)), num_classes_(num_classes) {
  auto labels = LabelMap(*ft_, num_classes_);
  if (labels.ok()) label_class_ = *std::move(labels);
}

FastTextClassifier::~FastTextClassifier() = default;

absl::StatusOr<FastTextClassifier::FitResult> FastTextClassifier::Fit(
    const std::vector<Tokens>& docs, std::span<const int> rows, std::span<const int> y,
    int num_classes, const FastTextOptions& options, const FitHooks& hooks,
    const EarlyStopping* early_stopping) {
  if (rows.empty()) return absl::InvalidArgumentError("fastText needs training rows");
  // fastText sweeps the file in order each epoch: shuffle so classes are interleaved.
  std::vector<int> order(rows.begin(), rows.end());
  std::mt19937_64 rng(static_cast<uint64_t>(options.seed));
  std::shuffle(order.begin(), order.end(), rng);
  if (!options.scratch_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(options.scratch_dir, ec);
  }
  const std::string input = ScratchPath(options.scratch_dir, "train");
  FileGuard guard(input);
  {
    std::ofstream out(input, std::ios::binary | std::ios::trunc);
    if (!out) return absl::InternalError(StrCat("cannot write the fastText training file ", input));
    std::string line;
    for (size_t i = 0; i < order.size(); ++i) {
      if (i % 4096 == 0 && hooks.Cancelled()) return absl::CancelledError("training was cancelled");
      line = StrCat(kLabelPrefix, y[order[i]]);
      for (const std::string& t : docs[order[i]]) {
        line += ' ';
        line += t;
      }
      line += '\n';
      out << line;
    }
    out.flush();
    if (!out)
      return absl::ResourceExhaustedError("writing the fastText training file failed (disk full?)");
  }

  fasttext::Args args;
  args.input = input;
  args.output = "";
  args.model = fasttext::model_name::sup;
  args.loss = fasttext::loss_name::softmax;
  args.minCount = 1;
  args.minCountLabel = 0;
  args.minn = 0;
  args.maxn = 0;
  args.wordNgrams = std::max(1, options.word_ngrams);
  args.bucket =
      args.wordNgrams > 1 ? AdaptiveBucket(docs, rows, args.wordNgrams, options.bucket) : 0;
  args.dim = options.dim;
  args.epoch = std::max(1, options.epochs);
  args.lr = options.learning_rate;
  args.lrUpdateRate = 100;
  args.thread = std::max(1, options.threads);
  args.verbose = 0;
  args.seed = options.seed;
  args.label = std::string(kLabelPrefix);
  args.saveOutput = false;
  args.pretrainedVectors = "";

  auto ft = std::make_unique<FastTextImpl>();
  FitResult result;
  const bool evaluate = early_stopping != nullptr && args.thread == 1 &&
                        early_stopping->docs != nullptr && !early_stopping->rows.empty();
  bool cancelled = false;
  int evaluated_epochs = 0;
  std::mutex progress_mu;

  // (macro-F1, mean log loss) of the model as it is now on the validation rows.
  auto score_validation = [&]() -> std::pair<double, double> {
    std::vector<int> truth, predicted;
    truth.reserve(early_stopping->rows.size());
    predicted.reserve(early_stopping->rows.size());
    std::vector<std::pair<fasttext::real, std::string>> preds;
    auto labels = LabelMap(*ft, num_classes);
    if (!labels.ok()) return {0.0, std::numeric_limits<double>::infinity()};
    const int32_t k = static_cast<int32_t>(labels->size());
    double loss = 0;
    for (int r : early_stopping->rows) {
      std::istringstream in(JoinTokens((*early_stopping->docs)[r]));
      preds.clear();
      ft->predictLine(in, preds, k, 0.0);
      const int truth_class = early_stopping->y[r];
      int cls = 0;
      double total = 0, p_true = 0;
      for (size_t j = 0; j < preds.size(); ++j) {
        auto it = labels->find(preds[j].second);
        if (it == labels->end()) continue;
        if (j == 0) cls = it->second;
        total += preds[j].first;
        if (it->second == truth_class) p_true = preds[j].first;
      }
      loss -= std::log(std::max(total > 0 ? p_true / total : 0.0, 1e-15));
      truth.push_back(truth_class);
      predicted.push_back(cls);
    }
    return {MacroF1(truth, predicted, num_classes), loss / std::max<size_t>(1, truth.size())};
  };
  double best_loss = std::numeric_limits<double>::infinity();
  auto record_epoch = [&](int epoch) {
    const auto [score, loss] = score_validation();
    result.epoch_scores.push_back(score);
    result.epoch_losses.push_back(loss);
    // Macro-F1 (what model selection compares) first; on a tie, the lower log loss (which keeps
    // improving after the F1 of easy data saturates).
    const bool better = result.best_epoch == 0 || score > result.best_score + 1e-9 ||
                        (score > result.best_score - 1e-9 && loss < best_loss - 1e-6);
    if (better) {
      result.best_epoch = epoch;
      result.best_score = score;
      best_loss = loss;
    }
  };

  fasttext::FastText::TrainCallback callback = [&](float progress, float /*loss*/, double /*wst*/,
                                                   double /*lr*/, int64_t /*eta*/) {
    std::lock_guard<std::mutex> lock(progress_mu);
    if (cancelled || result.stopped_early) return;
    if (hooks.Cancelled()) {
      cancelled = true;
      ft->abort();
      return;
    }
    hooks.Progress(std::clamp(static_cast<double>(progress), 0.0, 1.0));
    if (!evaluate) return;
    const int epoch = static_cast<int>(std::floor(progress * args.epoch + 1e-6));
    if (epoch <= evaluated_epochs || epoch >= args.epoch) return;
    try {
      for (int e = evaluated_epochs + 1; e <= epoch; ++e) record_epoch(e);
    } catch (...) {
      // A failed evaluation never stops training; the epoch just has no score.
    }
    evaluated_epochs = epoch;
    if (epoch - result.best_epoch >= early_stopping->patience) {
      result.stopped_early = true;
      ft->abort();
    }
  };

  try {
    ft->train(args, callback);
  } catch (const fasttext::FastText::AbortError&) {
    if (cancelled || hooks.Cancelled()) return absl::CancelledError("training was cancelled");
    if (!result.stopped_early) return absl::InternalError("fastText training was aborted");
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError("fastText ran out of memory: lower dim or the data size");
  } catch (const std::exception& e) {
    return absl::FailedPreconditionError(
        StrCat("fastText could not train on this data: ", e.what()));
  }
  if (hooks.Cancelled()) return absl::CancelledError("training was cancelled");
  if (evaluate && !result.stopped_early) {
    try {
      for (int e = evaluated_epochs + 1; e <= args.epoch; ++e) record_epoch(e);
    } catch (...) {
    }
  }
  if (!evaluate) result.best_epoch = args.epoch;
  hooks.Progress(1);
  result.model = std::make_unique<FastTextClassifier>(std::move(ft), num_classes);
  return result;
}

void FastTextClassifier::PredictProba(const Tokens& tokens, double* out) const {
  std::fill(out, out + num_classes_, 0.0);
  std::vector<std::pair<fasttext::real, std::string>> preds;
  try {
    std::istringstream in(JoinTokens(tokens));
    ft_->predictLine(in, preds, static_cast<int32_t>(label_class_.size()), 0.0);
  } catch (const std::exception&) {
    preds.clear();
  }
  double total = 0;
  for (const auto& [p, label] : preds) {
    auto it = label_class_.find(label);
    if (it == label_class_.end()) continue;
    out[it->second] = static_cast<double>(p);
    total += static_cast<double>(p);
  }
  for (int c = 0; c < num_classes_; ++c) {
    out[c] = total > 0 ? out[c] / total : 1.0 / num_classes_;
  }
}

absl::StatusOr<Json> FastTextClassifier::ToJson(const std::string& scratch_dir) const {
  const std::string path = ScratchPath(scratch_dir, "model");
  FileGuard guard(path);
  try {
    ft_->saveModel(path);
  } catch (const std::exception& e) {
    return absl::InternalError(StrCat("saving the fastText model failed: ", e.what()));
  }
  absl::StatusOr<std::string> bytes = common::ReadFile(path);
  if (!bytes.ok()) return bytes.status();
  return Json{
      {"algorithm", algorithm()}, {"numClasses", num_classes_}, {"binary", Base64Encode(*bytes)}};
}

absl::StatusOr<std::unique_ptr<FastTextClassifier>> FastTextClassifier::FromJson(const Json& json) {
  auto bad = [](std::string_view why) {
    return absl::InvalidArgumentError(StrCat("invalid fastText model: ", why));
  };
  if (!json.is_object()) return bad("not an object");
  const Json k = json.value("numClasses", Json());
  if (!k.is_number_unsigned() || k.get<int>() < 2 || k.get<int>() > 1000) return bad("numClasses");
  const Json binary = json.value("binary", Json());
  if (!binary.is_string()) return bad("binary missing");
  absl::StatusOr<std::string> bytes = Base64Decode(binary.get<std::string>());
  if (!bytes.ok()) return bad(std::string(bytes.status().message()));
  auto ft = std::make_unique<FastTextImpl>();
  try {
    std::istringstream in(*bytes, std::ios::binary);
    if (!ft->ReadHeader(in)) return bad("not a fastText model file");
    ft->loadModel(in);
    if (!in) return bad("truncated");
    if (ft->getArgs().model != fasttext::model_name::sup) return bad("not a supervised model");
  } catch (const std::exception& e) {
    return bad(std::string(e.what()));
  }
  auto labels = LabelMap(*ft, k.get<int>());
  if (!labels.ok()) return labels.status();
  return std::make_unique<FastTextClassifier>(std::move(ft), k.get<int>());
}

std::vector<Json> FastTextClassifier::TopFeatures(int per_class_and_sign) const {
  std::vector<Json> out;
  try {
    auto dict = ft_->getDictionary();
    auto output = ft_->getOutputMatrix();
    const int32_t labels = dict->nlabels();
    const int32_t words = std::min<int32_t>(dict->nwords(), 5000);
    const int dim = ft_->getDimension();
    std::vector<int> label_cls(labels, -1);
    for (int32_t l = 0; l < labels; ++l) {
      auto it = label_class_.find(dict->getLabel(l));
      if (it != label_class_.end()) label_cls[l] = it->second;
    }
    // scores[c] = (centered logit contribution, word)
    std::vector<std::vector<std::pair<double, std::string>>> scores(num_classes_);
    fasttext::Vector vec(dim);
    std::vector<double> logit(labels);
    for (int32_t w = 0; w < words; ++w) {
      const std::string word = dict->getWord(w);
      if (word == fasttext::Dictionary::EOS) continue;
      ft_->getWordVector(vec, word);
      double mean = 0;
      for (int32_t l = 0; l < labels; ++l) {
        double s = 0;
        for (int d = 0; d < dim; ++d) s += static_cast<double>(output->at(l, d)) * vec[d];
        logit[l] = s;
        mean += s;
      }
      mean /= std::max(1, labels);
      for (int32_t l = 0; l < labels; ++l) {
        if (label_cls[l] >= 0) scores[label_cls[l]].emplace_back(logit[l] - mean, word);
      }
    }
    // Binary: class 1's ranking already holds class 0's (its negatives), as for the linear model.
    const int first = num_classes_ == 2 ? 1 : 0;
    for (int c = first; c < num_classes_; ++c) {
      auto& s = scores[c];
      std::sort(s.begin(), s.end(), [](const auto& a, const auto& b) {
        return a.first != b.first ? a.first > b.first : a.second < b.second;
      });
      const int m = static_cast<int>(s.size());
      for (int i = 0; i < std::min(per_class_and_sign, m) && s[i].first > 0; ++i) {
        out.push_back({{"feature", s[i].second}, {"class", c}, {"weight", s[i].first}});
      }
      for (int i = 0; i < std::min(per_class_and_sign, m) && s[m - 1 - i].first < 0; ++i) {
        out.push_back(
            {{"feature", s[m - 1 - i].second}, {"class", c}, {"weight", s[m - 1 - i].first}});
      }
    }
  } catch (const std::exception&) {
    out.clear();
  }
  return out;
}

}  // namespace tsml::train::text
