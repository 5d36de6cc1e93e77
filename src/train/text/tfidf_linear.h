// TF-IDF over word n-grams (and optionally character n-grams) with an L2-regularized logistic
// regression per class, solved by liblinear (solver L2R_LR).
//
// Features: word 1..ngram_max-grams (tokens joined by a space) and, with char_ngrams, the
// 3- to 5-character n-grams of each "<token>" (prefix "c:"), counted per document; the value
// is (1 + ln tf) · idf with idf = ln((1 + n) / (1 + df)) + 1 (smoothed), each row L2-normalized.
// The vocabulary keeps terms with df >= min_df, the max_features most frequent ones; the
// hashed variant maps every term to its 64-bit key mod max_features instead (no vocabulary to
// store, collisions possible).
// Classifier: binary → one model (class 1 vs 0); k > 2 classes → one-vs-rest, each class its
// own liblinear problem (cancellation is checked between them, since a liblinear solve cannot
// be interrupted), probabilities = the per-class sigmoids normalized to sum 1 (as liblinear's
// predict_probability). Weights are kept as float32, the precision they are saved in, so a
// reloaded model predicts exactly what the trained one did.
#ifndef TSML_TRAIN_TEXT_TFIDF_LINEAR_H_
#define TSML_TRAIN_TEXT_TFIDF_LINEAR_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/json_util.h"
#include "train/text/classifier.h"

namespace tsml::train::text {

using SparseRow = std::vector<std::pair<int32_t, float>>;  // (feature, value), by feature

struct TfidfOptions {
  int ngram_max = 2;
  int min_df = 2;
  int max_features = 200000;
  bool hashed = false;
  bool char_ngrams = false;
};

class TfidfVectorizer {
 public:
  // Fits on docs[rows]. Cancelled (absl) when hooks.cancelled() turns true; FailedPrecondition
  // when no term reaches min_df.
  static absl::StatusOr<TfidfVectorizer> Fit(const std::vector<Tokens>& docs,
                                             std::span<const int> rows, const TfidfOptions& options,
                                             const FitHooks& hooks);

  SparseRow Transform(const Tokens& tokens) const;
  int num_features() const { return static_cast<int>(idf_.size()); }
  const std::vector<float>& idf() const { return idf_; }
  const TfidfOptions& options() const { return options_; }
  // The n-gram of feature i; hashed: the most frequent n-gram seen in that bucket in training
  // ("#<i>" for a loaded model, which does not keep them).
  std::string FeatureName(int i) const;

  // {"kind": "vocabulary"|"hashed", "ngramMax", "charNgrams", "terms" (vocabulary),
  //  "numFeatures", "idf": base64 float32 little-endian}.
  Json ToJson() const;
  static absl::StatusOr<TfidfVectorizer> FromJson(const Json& json);

 private:
  // Where a term occurs in a token list: word n-gram tokens[pos .. pos + n), or (n == 0) the
  // character n-gram bytes [start, start + len) of "<" + tokens[pos] + ">".
  struct TermSpec {
    int32_t pos = 0;
    int32_t n = 0;
    int32_t start = 0;
    int32_t len = 0;
  };
  // Calls fn(key, spec) for every term occurrence of `tokens`. Keys are 64-bit fingerprints of
  // the term (splitmix64 over the FNV-1a hashes of its tokens; FNV-1a of a character n-gram), so
  // no n-gram string is built per occurrence; a loaded vocabulary recomputes them from its terms.
  template <typename Fn>
  void ForEachKey(const Tokens& tokens, Fn&& fn) const;
  static std::string Spell(const Tokens& tokens, const TermSpec& spec);
  static uint64_t KeyOfTerm(const std::string& term);
  int32_t IndexOf(uint64_t key) const;  // -1 when not a feature

  TfidfOptions options_;
  std::unordered_map<uint64_t, int32_t> index_;  // vocabulary mode: term key → feature
  std::vector<std::string> terms_;               // vocabulary: index → term; hashed: names
  std::vector<float> idf_;
};

struct LogRegOptions {
  double c = 1.0;
  double eps = 0.01;  // liblinear's stopping tolerance for L2R_LR
};

class LinearModel {
 public:
  // x: one sparse row per example; y in [0, num_classes). Cancelled between per-class solves;
  // Internal when liblinear rejects the problem.
  static absl::StatusOr<LinearModel> Train(const std::vector<SparseRow>& x, std::span<const int> y,
                                           int num_classes, int num_features,
                                           const LogRegOptions& options, const FitHooks& hooks);

  void PredictProba(const SparseRow& x, double* out) const;
  int num_classes() const { return num_classes_; }
  int num_features() const { return num_features_; }
  int rows() const { return num_classes_ == 2 ? 1 : num_classes_; }
  // Row r's weight for feature j (j == num_features(): the bias).
  float weight(int r, int j) const { return w_[static_cast<size_t>(r) * (num_features_ + 1) + j]; }

  // {"numClasses", "numFeatures", "weights": base64 float32 rows × (numFeatures + 1)}.
  Json ToJson() const;
  static absl::StatusOr<LinearModel> FromJson(const Json& json);

 private:
  int num_classes_ = 0;
  int num_features_ = 0;
  std::vector<float> w_;
};

class TfidfLogReg final : public TextClassifier {
 public:
  TfidfLogReg(TfidfVectorizer vectorizer, LinearModel model)
      : vectorizer_(std::move(vectorizer)), model_(std::move(model)) {}

  // Fits the vectorizer and the classifier on docs[rows] with labels y[rows].
  static absl::StatusOr<std::unique_ptr<TfidfLogReg>> Fit(const std::vector<Tokens>& docs,
                                                          std::span<const int> rows,
                                                          std::span<const int> y, int num_classes,
                                                          const TfidfOptions& tfidf,
                                                          const LogRegOptions& logreg,
                                                          const FitHooks& hooks);
  static absl::StatusOr<std::unique_ptr<TfidfLogReg>> FromJson(const Json& json);

  std::string_view algorithm() const override { return "tfidf_logreg"; }
  int num_classes() const override { return model_.num_classes(); }
  void PredictProba(const Tokens& tokens, double* out) const override;
  absl::StatusOr<Json> ToJson(const std::string& scratch_dir) const override;
  std::vector<Json> TopFeatures(int per_class_and_sign) const override;

  const TfidfVectorizer& vectorizer() const { return vectorizer_; }
  const LinearModel& model() const { return model_; }

 private:
  TfidfVectorizer vectorizer_;
  LinearModel model_;
};

// Little-endian float32 arrays as base64 (the bundle's binary encoding of weights).
std::string FloatsToBase64(const std::vector<float>& values);
absl::StatusOr<std::vector<float>> FloatsFromBase64(const Json& value, size_t expected_size);

}  // namespace tsml::train::text

#endif  // TSML_TRAIN_TEXT_TFIDF_LINEAR_H_
