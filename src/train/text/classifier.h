// The interface both sentiment algorithms implement (TF-IDF + liblinear, fastText), and the
// small pieces they share: tokenized documents, cooperative cancellation/progress hooks, the
// macro-F1 used for model selection.
#ifndef TSML_TRAIN_TEXT_CLASSIFIER_H_
#define TSML_TRAIN_TEXT_CLASSIFIER_H_

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/json_util.h"

namespace tsml::train::text {

using Tokens = std::vector<std::string>;

// Passed to long fits: `cancelled` is polled between units of work (documents, classes,
// fastText batches); `progress` receives this fit's completed fraction in [0, 1]. Both may be
// empty. Called from the fitting thread (fastText with several threads: from one of its
// workers, never two at once).
struct FitHooks {
  std::function<bool()> cancelled;
  std::function<void(double)> progress;

  bool Cancelled() const { return cancelled && cancelled(); }
  void Progress(double fraction) const {
    if (progress) progress(fraction);
  }
};

// A fitted classifier over classes 0..num_classes()-1. Immutable after fitting; every const
// method is thread-safe.
class TextClassifier {
 public:
  virtual ~TextClassifier() = default;
  virtual std::string_view algorithm() const = 0;  // "tfidf_logreg" | "fasttext"
  virtual int num_classes() const = 0;
  // Writes num_classes() probabilities summing to 1 for one tokenized text.
  virtual void PredictProba(const Tokens& tokens, double* out) const = 0;
  // The model section of an artifact bundle; `scratch_dir` may receive temporary files.
  virtual absl::StatusOr<Json> ToJson(const std::string& scratch_dir) const = 0;
  // The n-grams (words) that push hardest towards and away from each class:
  // [{feature, class, weight}] with class an index, strongest first within each class.
  virtual std::vector<Json> TopFeatures(int per_class_and_sign) const = 0;
};

// Macro-averaged F1 over the classes present in `y` or `predicted` (as eval::Multiclass...).
inline double MacroF1(std::span<const int> y, std::span<const int> predicted, int num_classes) {
  std::vector<double> tp(num_classes, 0), fp(num_classes, 0), fn(num_classes, 0);
  std::vector<bool> present(num_classes, false);
  for (size_t i = 0; i < y.size(); ++i) {
    present[y[i]] = present[predicted[i]] = true;
    if (y[i] == predicted[i]) {
      tp[y[i]] += 1;
    } else {
      fp[predicted[i]] += 1;
      fn[y[i]] += 1;
    }
  }
  double sum = 0;
  int n = 0;
  for (int c = 0; c < num_classes; ++c) {
    if (!present[c]) continue;
    const double denom = 2 * tp[c] + fp[c] + fn[c];
    sum += denom > 0 ? 2 * tp[c] / denom : 0;
    ++n;
  }
  return n > 0 ? sum / n : 0;
}

}  // namespace tsml::train::text

#endif  // TSML_TRAIN_TEXT_CLASSIFIER_H_
