// fastText supervised classification (libfasttext 0.9.2) over the shared tokenizer's tokens.
//
// Training writes "__label__<class> tok tok ...\n" lines (rows shuffled with the seed) to a
// temporary file in the scratch folder, because fastText trains from a file; the file is
// removed afterwards. Args are filled field by field (Args::parseArgs calls exit()): model sup,
// loss softmax, minCount 1, no subwords, wordNgrams, bucket 100000 when wordNgrams > 1 (the
// default 2,000,000 makes a 160 MB model), verbose 0.
// Cancellation: the train callback calls FastText::abort(), which stops every worker thread
// within a batch of lines. Early stopping: with one thread and an EarlyStopping set, the
// validation macro-F1 and log loss are measured each time the callback crosses an epoch boundary
// (the model is consistent there: the callback runs on the only training thread); training stops
// after `patience` epochs without a better epoch, and the caller retrains with the best count.
// Prediction runs FastText::predictLine on a per-call stream: const, thread-safe.
#ifndef TSML_TRAIN_TEXT_FASTTEXT_MODEL_H_
#define TSML_TRAIN_TEXT_FASTTEXT_MODEL_H_

#include <limits>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "common/json_util.h"
#include "train/text/classifier.h"

namespace tsml::train::text {

struct FastTextOptions {
  int epochs = 10;
  double learning_rate = 0.5;
  int dim = 50;
  int word_ngrams = 2;
  int threads = 1;
  int seed = 42;
  int bucket = 100000;      // upper bound; see above
  std::string scratch_dir;  // the training file goes here (default: the system temp folder)
};

// Validation rows scored at each epoch boundary (honoured with threads == 1 only). The epoch
// with the best validation macro-F1 wins, ties going to the lower log loss (which keeps
// improving after the F1 of easy data saturates).
struct EarlyStopping {
  const std::vector<Tokens>* docs = nullptr;
  std::span<const int> rows;
  std::span<const int> y;  // indexed by row like docs
  int patience = 3;
};

class FastTextImpl;  // fasttext::FastText, with access to its header check

// A trained model as plain arrays, for export: prediction = softmax(output · mean of the input
// rows of FeatureIds(tokens)), with fastText's 1e-5 added to each probability and renormalized.
struct FastTextArrays {
  std::vector<std::string> words;  // the dictionary's words, by id (ids < words.size())
  int bucket = 0;  // word n-gram rows follow the words: words.size() + hash % bucket
  int word_ngrams = 1;
  int dim = 0;
  std::vector<float> input;      // (words.size() + bucket) × dim, row-major
  std::vector<float> output;     // labels × dim, row-major, in fastText's label order
  std::vector<int> label_class;  // fastText label index → class
};

class FastTextClassifier final : public TextClassifier {
 public:
  struct FitResult {
    std::unique_ptr<FastTextClassifier> model;
    int best_epoch = 0;  // with early stopping: the best epoch (see EarlyStopping)
    double best_score = std::numeric_limits<double>::quiet_NaN();  // macro-F1 at best_epoch
    std::vector<double> epoch_scores;  // validation macro-F1 after epoch 1, 2, ...
    std::vector<double> epoch_losses;  // validation log loss after epoch 1, 2, ...
    bool stopped_early = false;
  };

  // Trains on docs[rows] with labels y[rows]. Cancelled when hooks.cancelled() turns true;
  // FailedPrecondition when fastText refuses the data (e.g. empty vocabulary).
  static absl::StatusOr<FitResult> Fit(const std::vector<Tokens>& docs, std::span<const int> rows,
                                       std::span<const int> y, int num_classes,
                                       const FastTextOptions& options, const FitHooks& hooks,
                                       const EarlyStopping* early_stopping = nullptr);
  // {"algorithm": "fasttext", "numClasses", "binary": base64 of the .bin model}.
  static absl::StatusOr<std::unique_ptr<FastTextClassifier>> FromJson(const Json& json);

  FastTextClassifier(std::unique_ptr<FastTextImpl> ft, int num_classes);
  ~FastTextClassifier() override;

  std::string_view algorithm() const override { return "fasttext"; }
  int num_classes() const override { return num_classes_; }
  int bucket() const;
  int epochs() const;
  // The input rows fastText averages for `tokens` (Dictionary::getLine over the joined line:
  // the known words and "</s>", then the word n-gram buckets), as predictions use them.
  std::vector<int32_t> FeatureIds(const Tokens& tokens) const;
  FastTextArrays Arrays() const;
  void PredictProba(const Tokens& tokens, double* out) const override;
  absl::StatusOr<Json> ToJson(const std::string& scratch_dir) const override;
  // Words (the 5,000 most frequent) ranked by their contribution to each class's logit,
  // centered across classes: output_row(class) · word_vector − mean over classes.
  std::vector<Json> TopFeatures(int per_class_and_sign) const override;

 private:
  std::unique_ptr<FastTextImpl> ft_;
  int num_classes_;
  std::unordered_map<std::string, int> label_class_;  // "__label__3" → 3
};

}  // namespace tsml::train::text

#endif  // TSML_TRAIN_TEXT_FASTTEXT_MODEL_H_
