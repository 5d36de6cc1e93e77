// Sentiment models (TF-IDF + logistic regression): tsml's tokens in, class probabilities out;
// tools/export/tokenizer.py rides along for raw text.
#include <filesystem>

#include "common/file_util.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "export/onnx_writer.h"
#include "export/prepare.h"
#include "export/sample.h"
#include "train/text/text_trainer.h"
#include "train/text/tfidf_linear.h"
#include "train/text/tokenizer.h"

namespace tsml::exporting {

using common::StrCat;

// A sentiment model (TF-IDF + logistic regression): tsml's tokens in, class probabilities out.
absl::Status PrepareText(const ExportInput& in, const Json& bundle,
                         const train::PredictorRegistry& predictors, const std::string& model_dir,
                         const common::CancellationToken* cancel, Prepared* out) {
  namespace text = train::text;
  ASSIGN_OR_RETURN(std::unique_ptr<text::SentimentModel> model,
                   text::SentimentModel::FromBundle(bundle));
  const auto* linear = dynamic_cast<const text::TfidfLogReg*>(&model->classifier());
  if (linear == nullptr) {
    const std::string algorithm(model->classifier().algorithm());
    RETURN_IF_ERROR(CheckFormatSupported(in.model_type, in.format, algorithm));
    return absl::InvalidArgumentError(
        StrCat("sentiment models of algorithm '", algorithm, "' cannot be exported"));
  }
  const text::TfidfVectorizer& vec = linear->vectorizer();
  if (vec.options().hashed || vec.options().char_ngrams) {
    return absl::InvalidArgumentError(StrCat(
        "this sentiment model uses ", vec.options().hashed ? "the hashed vectorizer" : "charNgrams",
        ", which ONNX's TfIdfVectorizer and scikit-learn cannot reproduce; train with "
        "vectorizer = \"vocabulary\" and charNgrams = false to export"));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<train::Predictor> predictor,
                   predictors.Load(in.model_type, in.bundle_path));
  const std::vector<std::string>& labels = model->labels();
  const bool binary = labels.size() == 2;
  // tsml's tokenizer in plain Python goes into the zip, so users can go from raw text.
  {
    const std::string tools = in.tools_dir.empty() ? TSML_EXPORT_TOOLS_DIR : in.tools_dir;
    std::error_code ec;
    std::filesystem::copy_file(tools + "/tokenizer.py", model_dir + "/tokenizer.py",
                               std::filesystem::copy_options::overwrite_existing, ec);
    if (ec) {
      return absl::FailedPreconditionError(
          StrCat("cannot copy ", tools, "/tokenizer.py into the export: ", ec.message()));
    }
  }

  const auto t_sample = Clock::now();
  Json training_data =
      in.job.is_object() ? in.job.value("trainingData", Json::object()) : Json::object();
  if (!training_data.is_object()) training_data = Json::object();
  ASSIGN_OR_RETURN(
      std::vector<std::string> texts,
      DrawTextSample(in.data_db, in.model_type, training_data, model->text_column(), kSampleRows));
  Json rows = Json::array(), tokens = Json::array();
  for (const std::string& t : texts) {
    rows.push_back({{"text", t}});
    tokens.push_back(text::Tokenize(t));
  }
  ASSIGN_OR_RETURN(Json predictions, predictor->Predict(rows, Json::object()));
  Json expected = Json::array();
  try {
    for (const Json& p : predictions) {
      const Json& probabilities = p.at("probabilities");
      if (binary) {
        expected.push_back(probabilities.at(labels[1]));
      } else {
        Json row = Json::array();
        for (const std::string& l : labels) row.push_back(probabilities.at(l));
        expected.push_back(std::move(row));
      }
    }
  } catch (const std::exception& e) {
    return absl::InternalError(StrCat("unexpected prediction shape: ", e.what()));
  }
  const char* task = binary ? "binary_classification" : "multiclass_classification";
  out->sample = {{"kind", "text"},
                 {"rows", rows},
                 {"encodedInputs", tokens},
                 {"expectedScores", expected},
                 {"scoreKind", binary ? "probabilityOfClasses[1]" : "classProbabilities"},
                 {"task", task},
                 {"classes", labels}};
  out->sample_seconds = Since(t_sample);

  const text::LinearModel& lm = linear->model();
  TextLinearArrays arrays;
  arrays.labels = labels;
  arrays.idf = vec.idf();
  arrays.rows = lm.rows();
  for (int i = 0; i < vec.num_features(); ++i) arrays.terms.push_back(vec.FeatureName(i));
  for (int r = 0; r < lm.rows(); ++r) {
    for (int j = 0; j <= lm.num_features(); ++j) arrays.weights.push_back(lm.weight(r, j));
  }
  const Json tokenizer = bundle.value("transform", Json::object()).value("tokenizer", Json());
  Json metadata = BaseMetadata(in, task, bundle);
  metadata.update(
      Json{{"classes", labels},
           {"positiveLabel", model->positive() >= 0 ? Json(labels[model->positive()]) : Json()},
           {"textColumn", model->text_column()},
           {"tokenizer", tokenizer},
           {"vectorizer",
            {{"kind", "vocabulary"},
             {"ngramMax", vec.options().ngram_max},
             {"vocabularySize", vec.num_features()},
             {"value", "(1 + ln tf) * idf, idf = ln((1 + n) / (1 + df)) + 1, rows L2-normalized"}}},
           {"estimator",
            {{"type", "logistic regression (liblinear L2R_LR)"},
             {"oneVsRest", !binary},
             {"probabilities", binary ? "sigmoid" : "per-class sigmoids normalized to sum 1"}}}});
  AddJobMetadata(in, &metadata);

  const Json props = {{"modelType", in.model_type},
                      {"task", task},
                      {"tsmlVersion", TsmlVersion()},
                      {"classes", labels},
                      {"tokenizerVersion", text::kTokenizerVersion}};
  auto write_onnx = [&](Json* layout, Json* libraries) {
    (*libraries)["onnx"] = kOnnxLibrary;
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
      text::kTokenizerVersion,
      ") lowercases, splits on whitespace and punctuation, keeps emoji as tokens and prefixes\n"
      "the tokens after a negation cue with NEG_ up to the next clause punctuation.\n"
      "`tokenizer.py` (standard library only) reproduces it: `tokenizer.tokenize(text)` gives the\n"
      "tokens, `tokenizer.tokenize_joined(text)` the sklearn pipeline's input string; the export\n"
      "was verified from the raw texts of sample.json through it. sample.json `encodedInputs`\n"
      "holds the tokens of each sample text.\n\n",
      in.format == "onnx"
          ? "Load `model.onnx` with onnxruntime. Input `tokens`: string [N, T], each row a text's "
            "tokens\npadded with \"\". Outputs `label` (string [N]) and `probabilities` (float32 "
            "[N, classes],\nin metadata.json `classes` order).\n"
          : "`joblib.load(\"model.joblib\")` is a scikit-learn Pipeline (TfidfVectorizer with the "
            "fixed\nvocabulary and idf, then LogisticRegression or OneVsRestClassifier). Input: a "
            "list of strings,\neach a text's tokens joined by single spaces; `predict_proba` gives "
            "the class probabilities\nin `classes_` order.\n",
      "\nsample.json holds texts, their tokens and the probabilities the tsml service computed\n"
      "(`expectedScores`: the probability of classes[1] for two classes); the export was\n"
      "verified against them.\n");
  out->expected = std::move(expected);
  out->metadata = std::move(metadata);
  return absl::OkStatus();
}

}  // namespace tsml::exporting
