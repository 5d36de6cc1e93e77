// Sentiment models: TF-IDF + logistic regression (tsml's tokens in) or fastText (fastText's
// input ids of the tokens in), class probabilities out; tools/export/tokenizer.py rides along
// for raw text.
#include <filesystem>

#include "common/file_util.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "export/onnx_writer.h"
#include "export/prepare.h"
#include "export/sample.h"
#include "train/text/fasttext_model.h"
#include "train/text/text_trainer.h"
#include "train/text/tfidf_linear.h"
#include "train/text/tokenizer.h"

namespace tsml::exporting {
namespace {

using common::StrCat;
namespace text = train::text;

// tsml's tokenizer in plain Python goes into the zip, so users can go from raw text.
absl::Status CopyTokenizer(const ExportInput& in, const std::string& model_dir) {
  const std::string tools = ToolsDir(in);
  std::error_code ec;
  std::filesystem::copy_file(tools + "/tokenizer.py", model_dir + "/tokenizer.py",
                             std::filesystem::copy_options::overwrite_existing, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        StrCat("cannot copy ", tools, "/tokenizer.py into the export: ", ec.message()));
  }
  return absl::OkStatus();
}

// Sample texts, their tokens and the service's probabilities (classes[1]'s for two classes).
struct TextSample {
  Json rows = Json::array();
  Json tokens = Json::array();
  Json expected = Json::array();
};

absl::StatusOr<TextSample> SampleTexts(const ExportInput& in, const text::SentimentModel& model,
                                       const train::Predictor& predictor) {
  Json training_data =
      in.job.is_object() ? in.job.value("trainingData", Json::object()) : Json::object();
  if (!training_data.is_object()) training_data = Json::object();
  ASSIGN_OR_RETURN(
      std::vector<std::string> texts,
      DrawTextSample(in.data_db, in.model_type, training_data, model.text_column(), kSampleRows));
  TextSample s;
  for (const std::string& t : texts) {
    s.rows.push_back({{"text", t}});
    s.tokens.push_back(text::Tokenize(t));
  }
  ASSIGN_OR_RETURN(Json predictions, predictor.Predict(s.rows, Json::object()));
  const std::vector<std::string>& labels = model.labels();
  try {
    for (const Json& p : predictions) {
      const Json& probabilities = p.at("probabilities");
      if (labels.size() == 2) {
        s.expected.push_back(probabilities.at(labels[1]));
      } else {
        Json row = Json::array();
        for (const std::string& l : labels) row.push_back(probabilities.at(l));
        s.expected.push_back(std::move(row));
      }
    }
  } catch (const std::exception& e) {
    return absl::InternalError(StrCat("unexpected prediction shape: ", e.what()));
  }
  return s;
}

const char* TaskOf(const text::SentimentModel& model) {
  return model.labels().size() == 2 ? "binary_classification" : "multiclass_classification";
}

// metadata.json's part that every sentiment export shares.
Json TextMetadata(const ExportInput& in, const Json& bundle, const text::SentimentModel& model) {
  const std::vector<std::string>& labels = model.labels();
  Json metadata = BaseMetadata(in, TaskOf(model), bundle);
  metadata.update(
      Json{{"classes", labels},
           {"positiveLabel", model.positive() >= 0 ? Json(labels[model.positive()]) : Json()},
           {"textColumn", model.text_column()},
           {"tokenizer", bundle.value("transform", Json::object()).value("tokenizer", Json())}});
  AddJobMetadata(in, &metadata);
  return metadata;
}

constexpr char kTokenizerReadme[] =
    ") lowercases, splits on whitespace and punctuation, keeps emoji as tokens and prefixes\n"
    "the tokens after a negation cue with NEG_ up to the next clause punctuation.\n"
    "`tokenizer.py` (standard library only) reproduces it: `tokenizer.tokenize(text)` gives the\n"
    "tokens; the export was verified from the raw texts of sample.json through it\n"
    "(sample.json `encodedInputs` holds the tokens of each sample text).\n\n";

absl::Status PrepareTfidf(const ExportInput& in, const Json& bundle,
                          const text::SentimentModel& model, const text::TfidfLogReg& linear,
                          const train::Predictor& predictor, const std::string& model_dir,
                          const common::CancellationToken* cancel, Prepared* out) {
  const text::TfidfVectorizer& vec = linear.vectorizer();
  if (vec.options().hashed || vec.options().char_ngrams) {
    return absl::InvalidArgumentError(StrCat(
        "this sentiment model uses ", vec.options().hashed ? "the hashed vectorizer" : "charNgrams",
        ", which ONNX's TfIdfVectorizer and scikit-learn cannot reproduce; train with "
        "vectorizer = \"vocabulary\" and charNgrams = false to export"));
  }
  const std::vector<std::string>& labels = model.labels();
  const char* task = TaskOf(model);
  const auto t_sample = Clock::now();
  ASSIGN_OR_RETURN(TextSample sample, SampleTexts(in, model, predictor));
  out->sample = {
      {"kind", "text"},
      {"rows", sample.rows},
      {"encodedInputs", sample.tokens},
      {"expectedScores", sample.expected},
      {"scoreKind", labels.size() == 2 ? "probabilityOfClasses[1]" : "classProbabilities"},
      {"task", task},
      {"classes", labels}};
  out->sample_seconds = Since(t_sample);

  const text::LinearModel& lm = linear.model();
  TextLinearArrays arrays;
  arrays.labels = labels;
  arrays.idf = vec.idf();
  arrays.rows = lm.rows();
  for (int i = 0; i < vec.num_features(); ++i) arrays.terms.push_back(vec.FeatureName(i));
  for (int r = 0; r < lm.rows(); ++r) {
    for (int j = 0; j <= lm.num_features(); ++j) arrays.weights.push_back(lm.weight(r, j));
  }
  Json metadata = TextMetadata(in, bundle, model);
  metadata["vectorizer"] = {
      {"kind", "vocabulary"},
      {"ngramMax", vec.options().ngram_max},
      {"vocabularySize", vec.num_features()},
      {"value", "(1 + ln tf) * idf, idf = ln((1 + n) / (1 + df)) + 1, rows L2-normalized"}};
  metadata["estimator"] = {
      {"type", "logistic regression (liblinear L2R_LR)"},
      {"oneVsRest", labels.size() > 2},
      {"probabilities", labels.size() == 2 ? "sigmoid" : "per-class sigmoids normalized to sum 1"}};

  const Json props = {{"modelType", in.model_type},
                      {"task", task},
                      {"tsmlVersion", TsmlVersion()},
                      {"classes", labels},
                      {"tokenizerVersion", text::kTokenizerVersion}};
  auto write_onnx = [&](Json* layout) {
    return WriteTextOnnx(arrays, props, model_dir + "/model.onnx", layout);
  };
  auto converter_spec = [&]() -> absl::StatusOr<Json> {
    Json spec = {{"kind", "text"},           {"task", task},
                 {"classes", labels},        {"terms", arrays.terms},
                 {"idf", arrays.idf},        {"ngramMax", vec.options().ngram_max},
                 {"rows", arrays.rows},      {"numFeatures", vec.num_features()},
                 {"weights", arrays.weights}};
    return spec;
  };
  RETURN_IF_ERROR(
      WriteModelFiles(in, bundle, model_dir, write_onnx, converter_spec, cancel, &metadata, out));
  out->readme = StrCat(
      "# tsml export: nlp_sentiment (TF-IDF + logistic regression) as ", in.format, "\n\n",
      "The model takes tsml's tokens of each text, not the raw text: tsml's tokenizer (version ",
      text::kTokenizerVersion, kTokenizerReadme,
      in.format == "onnx"
          ? "Load `model.onnx` with onnxruntime. Input `tokens`: string [N, T], each row a text's "
            "tokens\npadded with \"\". Outputs `label` (string [N]) and `probabilities` (float32 "
            "[N, classes],\nin metadata.json `classes` order).\n"
          : "`joblib.load(\"model.joblib\")` is a scikit-learn Pipeline (TfidfVectorizer with the "
            "fixed\nvocabulary and idf, then LogisticRegression or OneVsRestClassifier). Input: a "
            "list of strings,\neach a text's tokens joined by single spaces "
            "(`tokenizer.tokenize_joined(text)`);\n`predict_proba` gives the class probabilities "
            "in `classes_` order.\n",
      "\nsample.json holds texts, their tokens and the probabilities the tsml service computed\n"
      "(`expectedScores`: the probability of classes[1] for two classes); the export was\n"
      "verified against them.\n");
  out->metadata = std::move(metadata);
  return absl::OkStatus();
}

absl::Status PrepareFastText(const ExportInput& in, const Json& bundle,
                             const text::SentimentModel& model, const text::FastTextClassifier& ft,
                             const train::Predictor& predictor, const std::string& model_dir,
                             const common::CancellationToken* cancel, Prepared* out) {
  text::FastTextArrays arrays;
  try {
    arrays = ft.Arrays();
  } catch (const std::exception& e) {  // e.g. a quantized model
    return absl::InvalidArgumentError(StrCat("this fastText model cannot be exported: ", e.what()));
  }
  const std::vector<std::string>& labels = model.labels();
  const char* task = TaskOf(model);
  const auto t_sample = Clock::now();
  ASSIGN_OR_RETURN(TextSample sample, SampleTexts(in, model, predictor));
  Json ids = Json::array();
  for (const Json& tokens : sample.tokens) {
    ids.push_back(ft.FeatureIds(tokens.get<text::Tokens>()));
  }
  out->sample = {
      {"kind", "text"},
      {"rows", sample.rows},
      {"encodedInputs", sample.tokens},
      {"featureIds", ids},
      {"expectedScores", sample.expected},
      {"scoreKind", labels.size() == 2 ? "probabilityOfClasses[1]" : "classProbabilities"},
      {"task", task},
      {"classes", labels}};
  out->sample_seconds = Since(t_sample);

  // The dictionary for tokenizer.fasttext_ids().
  const Json vocab = {{"words", arrays.words},
                      {"bucket", arrays.bucket},
                      {"wordNgrams", arrays.word_ngrams},
                      {"eos", "</s>"}};
  RETURN_IF_ERROR(common::WriteFileAtomic(model_dir + "/fasttext_vocab.json", vocab.dump()));

  Json metadata = TextMetadata(in, bundle, model);
  metadata["estimator"] = {
      {"type", "fastText supervised (softmax)"},
      {"dim", arrays.dim},
      {"words", arrays.words.size()},
      {"wordNgrams", arrays.word_ngrams},
      {"bucket", arrays.bucket},
      {"probabilities",
       "softmax(output · mean of the input rows of the ids); fastText's + 1e-5, renormalized"}};
  const Json props = {
      {"modelType", in.model_type},   {"task", task},
      {"tsmlVersion", TsmlVersion()}, {"classes", labels},
      {"algorithm", "fasttext"},      {"tokenizerVersion", text::kTokenizerVersion}};
  auto write_onnx = [&](Json* layout) {
    return WriteFastTextOnnx(arrays, labels, props, model_dir + "/model.onnx", layout);
  };
  auto converter_spec = [&]() -> absl::StatusOr<Json> {
    // The input matrix is large: it goes to the converter as a float32 file.
    const std::string matrix = in.work_dir + "/fasttext_input.f32";
    RETURN_IF_ERROR(common::WriteFileAtomic(
        matrix, std::string(reinterpret_cast<const char*>(arrays.input.data()),
                            arrays.input.size() * sizeof(float))));
    Json spec = {{"kind", "fasttext"},
                 {"classes", labels},
                 {"dim", arrays.dim},
                 {"rows", arrays.input.size() / static_cast<size_t>(arrays.dim)},
                 {"inputPath", matrix},
                 {"output", arrays.output},
                 {"labelClass", arrays.label_class}};
    return spec;
  };
  RETURN_IF_ERROR(
      WriteModelFiles(in, bundle, model_dir, write_onnx, converter_spec, cancel, &metadata, out));
  out->readme = StrCat(
      "# tsml export: nlp_sentiment (fastText) as ", in.format, "\n\n",
      "The model takes fastText's input ids of tsml's tokens of each text. tsml's tokenizer "
      "(version ",
      text::kTokenizerVersion, kTokenizerReadme,
      "`tokenizer.fasttext_ids(tokens, tokenizer.load_fasttext_vocab(\"fasttext_vocab.json\"))`\n"
      "turns the tokens into the ids (the known words and \"</s>\", then the word n-gram "
      "buckets),\nas fastText itself does (sample.json `featureIds`).\n\n",
      in.format == "onnx"
          ? "Load `model.onnx` with onnxruntime. Input `ids`: int64 [N, T], padded with -1. "
            "Outputs\n`label` (string [N]) and `probabilities` (float32 [N, classes], in "
            "metadata.json `classes` order).\n"
          : "`torch.jit.load(\"model.pt\")(ids)` with an int64 tensor [N, T] padded with -1; "
            "returns the\nclass probabilities, float32 [N, classes].\n",
      "\nsample.json holds texts, their tokens, ids and the probabilities the tsml service "
      "computed\n(`expectedScores`: the probability of classes[1] for two classes); the export "
      "was\nverified against them.\n");
  out->metadata = std::move(metadata);
  return absl::OkStatus();
}

}  // namespace

absl::Status PrepareText(const ExportInput& in, const Json& bundle, const std::string& model_dir,
                         const common::CancellationToken* cancel, Prepared* out) {
  ASSIGN_OR_RETURN(std::unique_ptr<text::SentimentModel> loaded,
                   text::SentimentModel::FromBundle(bundle));
  // The service's own predictor over the same model: the scores the export must reproduce.
  const text::TextPredictor predictor(std::move(loaded));
  const text::SentimentModel& model = predictor.model();
  const std::string algorithm(model.classifier().algorithm());
  RETURN_IF_ERROR(CheckFormatSupported(in.model_type, in.format, algorithm));
  RETURN_IF_ERROR(CopyTokenizer(in, model_dir));
  if (const auto* linear = dynamic_cast<const text::TfidfLogReg*>(&model.classifier())) {
    return PrepareTfidf(in, bundle, model, *linear, predictor, model_dir, cancel, out);
  }
  if (const auto* ft = dynamic_cast<const text::FastTextClassifier*>(&model.classifier())) {
    return PrepareFastText(in, bundle, model, *ft, predictor, model_dir, cancel, out);
  }
  return absl::InvalidArgumentError(
      StrCat("sentiment models of algorithm '", algorithm, "' cannot be exported"));
}

}  // namespace tsml::exporting
