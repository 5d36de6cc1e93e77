// nlp_sentiment: a text column → a label (CONTRACT §7), trained by TF-IDF n-grams + liblinear
// logistic regression or by fastText, whichever scores the better validation macro-F1
// (docs/models/nlp_sentiment.md).
//
// Data: the source's free-text column (`text` on reviews) and the target: the request's
// `target`, else a `sentiment` column, else `rating` mapped 1–2 → negative, 3 → neutral,
// 4–5 → positive (other ratings are dropped and reported). Rows without text or label are
// dropped and counted.
#ifndef TSML_TRAIN_TEXT_TEXT_TRAINER_H_
#define TSML_TRAIN_TEXT_TEXT_TRAINER_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/json_util.h"
#include "train/hyperparams.h"
#include "train/predictor.h"
#include "train/text/classifier.h"
#include "train/trainer.h"

namespace tsml::train::text {

inline constexpr std::string_view kModelType = "nlp_sentiment";

// The documented hyperparameters (docs/models/nlp_sentiment.md is generated from these).
std::vector<HyperparamSpec> TextHyperparams();

// A trained classifier with its labels: what an artifact holds and a predictor serves.
// Immutable; thread-safe.
class SentimentModel {
 public:
  SentimentModel(std::vector<std::string> labels, int positive, std::string text_column,
                 std::unique_ptr<TextClassifier> classifier);

  const std::vector<std::string>& labels() const { return labels_; }
  // Index of the positive label for a binary model, else -1.
  int positive() const { return positive_; }
  const std::string& text_column() const { return text_column_; }
  const TextClassifier& classifier() const { return *classifier_; }

  // One probability per label for a raw text.
  std::vector<double> PredictText(std::string_view text) const;

  // The artifact bundle ("formatVersion" is added by WriteBundle); `extra` is merged in
  // (trainedAt, dataFingerprint, ...). `scratch_dir` may receive temporary files.
  absl::StatusOr<Json> ToBundle(const std::string& scratch_dir, const Json& extra) const;
  // InvalidArgument for a bundle of another model type, tokenizer version or a damaged model.
  static absl::StatusOr<std::unique_ptr<SentimentModel>> FromBundle(const Json& bundle);

 private:
  std::vector<std::string> labels_;
  int positive_;
  std::string text_column_;
  std::unique_ptr<TextClassifier> classifier_;
};

// Serves {"text": "..."} instances (the model's text column name is accepted too; a missing or
// null text is an empty text) → {"label", "probabilities": {label: p}, "probability"
// (binary: the positive label's)}. InvalidArgument naming the instance when an instance is not
// an object or its text is not a string.
class TextPredictor final : public Predictor {
 public:
  explicit TextPredictor(std::unique_ptr<SentimentModel> model) : model_(std::move(model)) {}
  // Reads a bundle written by TextTrainer (the caller has verified its checksum).
  static absl::StatusOr<std::unique_ptr<Predictor>> Load(const std::string& path);

  absl::StatusOr<Json> Predict(const Json& instances, const Json& options) const override;
  std::vector<std::string> InputColumns() const override;
  const SentimentModel& model() const { return *model_; }

 private:
  std::unique_ptr<SentimentModel> model_;
};

class TextTrainer final : public Trainer {
 public:
  absl::StatusOr<TrainResult> Train(const TrainSpec& spec, TrainContext& ctx) override;
};

}  // namespace tsml::train::text

#endif  // TSML_TRAIN_TEXT_TEXT_TRAINER_H_
