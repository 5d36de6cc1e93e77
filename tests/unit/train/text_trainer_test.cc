// The nlp_sentiment trainer: the tokenizer, TF-IDF + liblinear and fastText, seeded demo reviews
// and the real sentiment sentences (Kotzias et al., KDD 2015; UCI, CC BY 4.0) on SQLite, every
// validation strategy, save → load → identical probabilities, cancellation, progress and the
// predictor's input checks.
#include "support/train_spec.h"
#include "support/shared_data.h"
#include "support/recording_sink.h"
#include "train/text/text_trainer.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/cancellation.h"
#include "common/clock.h"
#include "common/errors.h"
#include "common/strings.h"
#include "data/csv_import.h"
#include "data/demo_data.h"
#include "gtest/gtest.h"
#include "store/sql.h"
#include "train/bundle.h"
#include "train/hyperparams.h"
#include "train/text/fasttext_model.h"
#include "train/text/register.h"
#include "train/text/tfidf_linear.h"
#include "train/text/tokenizer.h"

namespace tsml::train::text {
namespace {

namespace fs = std::filesystem;
using common::StrCat;

// ---- tokenizer ----------------------------------------------------------------------------------

TEST(TokenizerTest, LowercasesAndStripsPunctuation) {
  EXPECT_EQ(Tokenize("Hello, WORLD!! It's great... (really) #1"),
            (Tokens{"hello", "world", "it's", "great", "really", "1"}));
  EXPECT_TRUE(Tokenize("").empty());
  EXPECT_TRUE(Tokenize(" ,.!? -- ").empty());
}

TEST(TokenizerTest, MarksNegationUntilClausePunctuation) {
  EXPECT_EQ(Tokenize("The room was not clean, the staff was nice."),
            (Tokens{"the", "room", "was", "not", "NEG_clean", "the", "staff", "was", "nice"}));
  EXPECT_EQ(Tokenize("I didn't like it. Great view"),
            (Tokens{"i", "didn't", "NEG_like", "NEG_it", "great", "view"}));
  // Curly apostrophe, "never", "no".
  EXPECT_EQ(Tokenize("Don’t go; never again! No wifi"),
            (Tokens{"don't", "NEG_go", "never", "NEG_again", "no", "NEG_wifi"}));
  EXPECT_TRUE(IsNegationCue("wasn't"));
  EXPECT_TRUE(IsNegationCue("cannot"));
  EXPECT_FALSE(IsNegationCue("note"));
}

TEST(TokenizerTest, KeepsMultibyteCharactersWhole) {
  EXPECT_EQ(Tokenize("Café CRÈME très BIEN — Ünïcödé"),
            (Tokens{"café", "crème", "très", "bien", "ünïcödé"}));
  EXPECT_EQ(Tokenize("ΚΑΛΟ ξενοδοχείο, ОТЛИЧНО"), (Tokens{"καλο", "ξενοδοχείο", "отлично"}));
  EXPECT_EQ(Tokenize("love it😍😍"), (Tokens{"love", "it", "😍", "😍"}));
  EXPECT_EQ(Tokenize("很好"), (Tokens{"很", "好"}));
  EXPECT_EQ(Tokenize("ab\xff"
                     "cd \xe2\x82"),
            (Tokens{"ab", "cd"}));  // invalid bytes split
  for (const std::string& t : Tokenize("Zoë’s «naïve» façade… ½ ok")) {
    EXPECT_EQ(CodePointOffsets(t).back(), t.size());
  }
}

TEST(TokenizerTest, ScrubsEmailsAndPhonesAndTruncatesOnCharacterBoundaries) {
  const std::string s = ScrubPii("mail john.doe@example.com or call +1 (555) 123-4567 today");
  EXPECT_EQ(s, "mail [email] or call [phone] today");
  EXPECT_EQ(ScrubPii("a@b.co, x.y+z@mail.example.org. 06 12 34 56 78!"),
            "[email], [email]. [phone]!");
  // Not personal data: short numbers, prices, dates, a lone @.
  EXPECT_EQ(ScrubPii("room 12, 3 nights for $450 @ 2024-05-01"),
            "room 12, 3 nights for $450 @ 2024-05-01");
  EXPECT_EQ(ScrubPii("user@localhost"), "user@localhost");
  EXPECT_EQ(TruncateUtf8("ééé", 2), "éé…");
  EXPECT_EQ(TruncateUtf8("abc", 3), "abc");
}

// ---- components: fitted models survive save → load exactly --------------------------------------

using Idx = std::vector<int>;

// Synthetic reviews over small word classes with negations: labels 0 (negative), 1 (positive),
// 2 (neutral).
struct Synthetic {
  std::vector<std::string> texts;
  std::vector<Tokens> tokens;
  std::vector<int> y;
  Idx rows;
};

Synthetic MakeSynthetic(int n, int classes, uint64_t seed) {
  const std::vector<std::vector<std::string>> words = {{"dirty", "rude", "noisy", "awful"},
                                                       {"great", "lovely", "clean", "friendly"},
                                                       {"okay", "average", "fine", "decent"}};
  std::mt19937_64 rng(seed);
  Synthetic s;
  for (int i = 0; i < n; ++i) {
    const int label = static_cast<int>(rng() % classes);
    std::string text = "The stay was ";
    const auto& w = words[label];
    text += w[rng() % w.size()];
    text += rng() % 2 ? ". Staff were " : ", and the room was ";
    text += (label == 1 && rng() % 3 == 0) ? "not " + words[0][rng() % 4] : w[rng() % w.size()];
    text += rng() % 2 ? "!" : ".";
    s.texts.push_back(text);
    s.tokens.push_back(Tokenize(text));
    s.y.push_back(label);
    s.rows.push_back(i);
  }
  return s;
}

fs::path FreshDir(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / StrCat("tsml_text_test_", ::getpid(), "_", name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void ExpectIdenticalAfterReload(const SentimentModel& model, const Synthetic& s,
                                const fs::path& dir) {
  auto bundle = model.ToBundle(dir.string(), {{"trainedAt", 1}});
  ASSERT_TRUE(bundle.ok()) << bundle.status();
  const std::string path = (dir / "model.json").string();
  ASSERT_TRUE(WriteBundle(path, *bundle).ok());
  auto predictor = TextPredictor::Load(path);
  ASSERT_TRUE(predictor.ok()) << predictor.status();
  Json instances = Json::array();
  for (const std::string& t : s.texts) instances.push_back({{"text", t}});
  instances.push_back({{"text", ""}});
  instances.push_back({{"text", "zzz unseen words only"}});
  auto out = (*predictor)->Predict(instances, Json::object());
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->size(), instances.size());
  for (size_t i = 0; i < instances.size(); ++i) {
    const std::vector<double> p = model.PredictText(instances[i]["text"].get<std::string>());
    for (size_t c = 0; c < p.size(); ++c) {
      ASSERT_EQ((*out)[i]["probabilities"][model.labels()[c]].get<double>(), p[c])
          << "row " << i << " class " << c;
    }
  }
  fs::remove_all(dir);
}

TEST(TextModelTest, TfidfLogRegReloadsWithIdenticalProbabilities) {
  const Synthetic s = MakeSynthetic(400, 3, 1);
  auto fit = TfidfLogReg::Fit(s.tokens, s.rows, s.y, 3, TfidfOptions{}, LogRegOptions{}, {});
  ASSERT_TRUE(fit.ok()) << fit.status();
  double correct = 0;
  for (int r : s.rows) {
    double p[3];
    (*fit)->PredictProba(s.tokens[r], p);
    EXPECT_NEAR(p[0] + p[1] + p[2], 1.0, 1e-9);
    correct += std::max_element(p, p + 3) - p == s.y[r];
  }
  EXPECT_GT(correct / s.rows.size(), 0.9);
  // The n-gram "not dirty" (negation-marked) is a positive feature.
  const auto top = (*fit)->TopFeatures(20);
  EXPECT_FALSE(top.empty());
  SentimentModel model({"negative", "positive", "neutral"}, -1, "text", std::move(*fit));
  ExpectIdenticalAfterReload(model, s, FreshDir("tfidf_reload"));
}

TEST(TextModelTest, HashedVectorizerAndCharNgramsTrain) {
  const Synthetic s = MakeSynthetic(300, 2, 2);
  TfidfOptions o;
  o.hashed = true;
  o.max_features = 4096;
  o.char_ngrams = true;
  auto fit = TfidfLogReg::Fit(s.tokens, s.rows, s.y, 2, o, LogRegOptions{}, {});
  ASSERT_TRUE(fit.ok()) << fit.status();
  EXPECT_EQ((*fit)->vectorizer().num_features(), 4096);
  SentimentModel model({"negative", "positive"}, 1, "text", std::move(*fit));
  ExpectIdenticalAfterReload(model, s, FreshDir("hashed_reload"));
}

TEST(TextModelTest, FastTextReloadsWithIdenticalProbabilitiesAndStopsEarly) {
  const Synthetic s = MakeSynthetic(600, 2, 3);
  const fs::path dir = FreshDir("fasttext_reload");
  FastTextOptions o;
  o.epochs = 30;
  o.scratch_dir = dir.string();
  Idx train(s.rows.begin(), s.rows.begin() + 450), val(s.rows.begin() + 450, s.rows.end());
  EarlyStopping es{&s.tokens, val, s.y, 3};
  auto fit = FastTextClassifier::Fit(s.tokens, train, s.y, 2, o, {}, &es);
  ASSERT_TRUE(fit.ok()) << fit.status();
  EXPECT_GE(fit->best_epoch, 1);
  EXPECT_LE(fit->best_epoch, 30);
  EXPECT_FALSE(fit->epoch_scores.empty());
  EXPECT_GT(fit->best_score, 0.9);
  // The training file was removed.
  for (const auto& e : fs::directory_iterator(dir)) ADD_FAILURE() << "left behind: " << e.path();
  SentimentModel model({"negative", "positive"}, 1, "text", std::move(fit->model));
  // Concurrent predictions agree with serial ones (predictLine on a per-call stream).
  std::vector<std::vector<double>> serial;
  for (const std::string& t : s.texts) serial.push_back(model.PredictText(t));
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int w = 0; w < 4; ++w) {
    threads.emplace_back([&] {
      for (size_t i = 0; i < s.texts.size(); ++i) {
        if (model.PredictText(s.texts[i]) != serial[i]) ++mismatches;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
  ExpectIdenticalAfterReload(model, s, dir);
}

TEST(TextModelTest, FastTextWithSeveralThreadsTrainsAndCancels) {
  const Synthetic s = MakeSynthetic(2000, 3, 4);
  const fs::path dir = FreshDir("fasttext_threads");
  FastTextOptions o;
  o.threads = 2;
  o.epochs = 5;
  o.scratch_dir = dir.string();
  auto fit = FastTextClassifier::Fit(s.tokens, s.rows, s.y, 3, o, {});
  ASSERT_TRUE(fit.ok()) << fit.status();
  EXPECT_EQ(fit->best_epoch, 5);  // no early stopping with several threads
  double correct = 0;
  for (int r : s.rows) {
    double p[3];
    fit->model->PredictProba(s.tokens[r], p);
    correct += std::max_element(p, p + 3) - p == s.y[r];
  }
  EXPECT_GT(correct / s.rows.size(), 0.9);

  // The callback aborts training once cancellation is requested.
  o.epochs = 100;
  std::atomic<int> polls{0};
  FitHooks hooks;
  hooks.cancelled = [&] { return ++polls > 20; };
  const auto start = std::chrono::steady_clock::now();
  auto cancelled = FastTextClassifier::Fit(s.tokens, s.rows, s.y, 3, o, hooks);
  EXPECT_TRUE(absl::IsCancelled(cancelled.status())) << cancelled.status();
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 2.0);
  for (const auto& e : fs::directory_iterator(dir)) ADD_FAILURE() << "left behind: " << e.path();
  fs::remove_all(dir);
}

TEST(TextModelTest, DamagedBundlesAreRefused) {
  EXPECT_FALSE(SentimentModel::FromBundle(Json{{"modelType", "churn_prediction"}}).ok());
  Json b = {{"modelType", "nlp_sentiment"},
            {"transform", {{"tokenizer", {{"version", 99}}}}},
            {"labels", {"a", "b"}}};
  EXPECT_TRUE(absl::IsInvalidArgument(SentimentModel::FromBundle(b).status()));
  b["transform"]["tokenizer"]["version"] = kTokenizerVersion;
  b["model"] = {{"algorithm", "fasttext"}, {"numClasses", 2}, {"binary", Base64Encode("garbage!")}};
  EXPECT_TRUE(absl::IsInvalidArgument(SentimentModel::FromBundle(b).status()));
}

TEST(TextModelTest, HyperparametersAreValidatedAndDefaulted) {
  common::ValidationErrors errors;
  Json filled = ValidateHyperparameters(TextHyperparams(), Json::object(), errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(filled["algorithm"], "auto");
  EXPECT_EQ(filled["C"], 1.0);
  EXPECT_EQ(filled["ngramMax"], 2);
  EXPECT_EQ(filled["wordNgrams"], 2);
  EXPECT_EQ(filled["epochs"], 10);
  for (const Json& bad :
       {Json{{"C", 0}}, Json{{"algorithm", "svm"}}, Json{{"ngramMax", 4}}, Json{{"epochs", 0}},
        Json{{"testSize", 0.9}}, Json{{"folds", 1}}, Json{{"nope", 1}}}) {
    common::ValidationErrors e;
    ValidateHyperparameters(TextHyperparams(), bad, e);
    EXPECT_FALSE(e.empty()) << bad;
  }
  TrainerRegistry trainers;
  PredictorRegistry predictors;
  RegisterText(trainers, predictors);
  EXPECT_TRUE(trainers.Has("nlp_sentiment"));
  ASSERT_NE(trainers.Hyperparams("nlp_sentiment"), nullptr);
  EXPECT_NE(HyperparamTable(*trainers.Hyperparams("nlp_sentiment")).find("wordNgrams"),
            std::string::npos);
}

// ---- the trainer on data ------------------------------------------------------------------------

using test::RecordingSink;

std::string CsvField(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

class TextTrainerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(FreshDir("suite"));
    auto db = store::OpenDatabase("sqlite://" + (*dir_ / "demo.db").string());
    ASSERT_TRUE(db.ok()) << db.status();
    demo_db_ = db->release();
    data::DemoOptions options;
    options.events = 32000;  // 2,000 reviews
    options.seed = 11;
    auto report = data::SeedDemo(*demo_db_, options);
    ASSERT_TRUE(report.ok()) << report.status();
  }
  static void TearDownTestSuite() {
    delete demo_db_;
    demo_db_ = nullptr;
    delete real_db_;
    real_db_ = nullptr;
    fs::remove_all(*dir_);
    delete dir_;
  }

  // The three files of sentiment_labelled_sentences as a `reviews` source (CSV → ImportCsv).
  static store::Database* RealDb() {
    if (real_db_ != nullptr) return real_db_;
    const fs::path src = fs::path(test::SharedDataDir()) / "sentiment_labelled_sentences";
    const fs::path csv = *dir_ / "sentences.csv";
    std::ofstream out(csv);
    out << "review_id,user_id,item_id,text,created_at,sentiment\n";
    int id = 0;
    for (const char* name :
         {"amazon_cells_labelled.txt", "imdb_labelled.txt", "yelp_labelled.txt"}) {
      std::ifstream in(src / name);
      EXPECT_TRUE(in.good()) << (src / name);
      std::string line;
      while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        const size_t tab = line.rfind('\t');
        if (tab == std::string::npos) continue;
        const std::string label(common::StripWhitespace(line.substr(tab + 1)));
        if (label != "0" && label != "1") continue;
        ++id;
        char date[32];
        std::snprintf(date, sizeof(date), "2024-%02d-%02dT12:00:00Z", 1 + id % 12, 1 + id % 28);
        out << "rv" << id << ",u" << id % 97 << ",i" << id % 31 << ","
            << CsvField(line.substr(0, tab)) << "," << date << "," << label << "\n";
      }
    }
    out.close();
    auto db = store::OpenDatabase("sqlite://" + (*dir_ / "real.db").string());
    EXPECT_TRUE(db.ok()) << db.status();
    real_db_ = db->release();
    data::ImportOptions io;
    io.replace = true;
    auto report = data::ImportCsv(*real_db_, "reviews", csv.string(), io);
    EXPECT_TRUE(report.ok()) << report.status();
    if (report.ok()) {
      EXPECT_EQ(report->rows, 3000);
    }
    return real_db_;
  }

  using Run = test::TrainRun;

  static Run Train(Json hyperparameters = Json::object(), std::string strategy = "train_test_split",
                   Json training_data = {{"source", "reviews"}}, store::Database* db = nullptr,
                   common::CancellationToken* token = nullptr, double memory_gb = 8) {
    TrainSpec spec = test::MakeTrainSpec(StrCat("job", ++counter_), "nlp_sentiment",
                                         std::move(training_data), TextHyperparams(),
                                         hyperparameters, std::move(strategy), dir_->string(),
                                         memory_gb);
    TextTrainer trainer;
    return test::RunTrainer(trainer, spec, db ? db : demo_db_, token);
  }

  static std::unique_ptr<Predictor> LoadPredictor(const TrainResult& r) {
    EXPECT_TRUE(r.model.has_value());
    if (!r.model) return nullptr;
    auto p = TextPredictor::Load(r.model->file_path);
    EXPECT_TRUE(p.ok()) << p.status();
    return p.ok() ? std::move(*p) : nullptr;
  }

  static void ExpectMonotonic(const Run& run) {
    test::ExpectMonotonicProgress(run.progress, run.stages);
  }

  static double Metric(const Json& ev, const char* name) {
    return ev["metrics"][name].get<double>();
  }
  static double Baseline(const Json& ev, const char* name) {
    return ev["baseline"]["metrics"][name].get<double>();
  }

  static inline fs::path* dir_ = nullptr;
  static inline store::Database* demo_db_ = nullptr;
  static inline store::Database* real_db_ = nullptr;
  static inline int counter_ = 0;
};

TEST_F(TextTrainerTest, DemoReviewsBeatTheMajorityClassByAClearMargin) {
  Run run = Train();
  ASSERT_TRUE(run.result.ok()) << run.result.status();
  const Json& ev = run.result->evaluation;
  std::cout << "demo reviews (" << ev["dataSummary"]["rows"] << " rows, " << ev["algorithm"]["name"]
            << "): accuracy " << Metric(ev, "accuracy") << " vs majority "
            << Baseline(ev, "accuracy") << "; macro-F1 " << Metric(ev, "f1Score") << " vs "
            << Baseline(ev, "f1Score") << "; candidates " << ev["algorithm"]["candidates"].dump()
            << " in " << run.seconds << " s\n";
  EXPECT_EQ(ev["task"], "multiclass_classification");
  EXPECT_EQ(ev["baseline"]["name"], "majority_class");
  for (const char* key : {"accuracy", "precision", "recall", "f1Score", "logLoss"}) {
    EXPECT_TRUE(ev["metrics"].contains(key)) << key;
    EXPECT_TRUE(ev["baseline"]["metrics"].contains(key)) << key;
  }
  EXPECT_GE(Metric(ev, "f1Score"), Baseline(ev, "f1Score") + 0.3);
  EXPECT_GE(Metric(ev, "accuracy"), Baseline(ev, "accuracy") + 0.15);
  EXPECT_LT(Metric(ev, "logLoss"), Baseline(ev, "logLoss"));
  ASSERT_EQ(ev["algorithm"]["candidates"].size(), 2u);
  EXPECT_EQ(ev["confusionMatrix"]["labels"], Json({"negative", "neutral", "positive"}));
  EXPECT_FALSE(ev["featureImportance"].empty());
  EXPECT_FALSE(ev["errorAnalysis"]["perClass"].empty());
  EXPECT_TRUE(ev["errorAnalysis"].contains("misclassified"));
  for (const Json& e : ev["errorAnalysis"]["misclassified"]) {
    EXPECT_LE(e["text"].get<std::string>().size(), 210u);
  }
  EXPECT_TRUE(ev["warnings"].is_array());
  EXPECT_FALSE(ev["dataSummary"]["targetFromRating"].get<bool>());
  ASSERT_GE(ev["visualizations"].size(), 2u);
  for (const Json& c : ev["visualizations"]) {
    EXPECT_TRUE(fs::exists(c["file"].get<std::string>())) << c;
  }
  ExpectMonotonic(run);
  EXPECT_EQ(run.progress.back(), 100);
  EXPECT_EQ(run.stages.front(), "loading_data");
  EXPECT_EQ(run.stages.back(), "saving");

  // The artifact serves handwritten reviews, negations included.
  auto predictor = LoadPredictor(*run.result);
  ASSERT_NE(predictor, nullptr);
  auto out = predictor->Predict(
      Json::array(
          {{{"text", "Loved our stay. The room was spotless. Would definitely come back!"}},
           {{"text", "The staff was rude. The bed was broken. Never again."}},
           {{"text",
             "The room was not dirty and the staff was not rude. Cannot wait to return."}}}),
      Json::object());
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ((*out)[0]["label"], "positive") << (*out)[0];
  EXPECT_EQ((*out)[1]["label"], "negative") << (*out)[1];
  EXPECT_EQ((*out)[2]["label"], "positive") << (*out)[2];
  EXPECT_FALSE((*out)[0].contains("probability"));  // multiclass
  EXPECT_EQ(predictor->InputColumns(), std::vector<std::string>{"text"});
}

TEST_F(TextTrainerTest, BothAlgorithmsTrainAndBeatTheBaseline) {
  for (const char* algorithm : {"tfidf_logreg", "fasttext"}) {
    Run run = Train({{"algorithm", algorithm}});
    ASSERT_TRUE(run.result.ok()) << algorithm << ": " << run.result.status();
    const Json& ev = run.result->evaluation;
    std::cout << algorithm << " on demo reviews: accuracy " << Metric(ev, "accuracy")
              << ", macro-F1 " << Metric(ev, "f1Score") << " vs " << Baseline(ev, "f1Score")
              << " in " << run.seconds << " s; params " << ev["algorithm"]["params"].dump() << "\n";
    EXPECT_EQ(ev["algorithm"]["name"], algorithm);
    EXPECT_EQ(run.result->model->framework,
              std::string(algorithm) == "fasttext" ? "fasttext" : "liblinear");
    EXPECT_GE(Metric(ev, "f1Score"), Baseline(ev, "f1Score") + 0.3);
    EXPECT_FALSE(ev["featureImportance"].empty());
    auto predictor = LoadPredictor(*run.result);
    ASSERT_NE(predictor, nullptr);
    auto out = predictor->Predict(
        Json::array({{{"text", "Worst trip in years. The food was awful."}}}), Json::object());
    ASSERT_TRUE(out.ok());
    EXPECT_EQ((*out)[0]["label"], "negative") << (*out)[0];
    ExpectMonotonic(run);
  }
}

TEST_F(TextTrainerTest, RealSentimentSentencesAreLearned) {
  store::Database* db = RealDb();
  ASSERT_NE(db, nullptr);
  Run run = Train(Json::object(), "train_test_split", {{"source", "reviews"}}, db);
  ASSERT_TRUE(run.result.ok()) << run.result.status();
  const Json& ev = run.result->evaluation;
  std::cout << "sentiment sentences (3,000 real, binary): " << ev["algorithm"]["name"]
            << " accuracy " << Metric(ev, "accuracy") << " (majority " << Baseline(ev, "accuracy")
            << "), f1 " << Metric(ev, "f1Score") << ", rocAuc " << Metric(ev, "rocAuc")
            << "; candidates " << ev["algorithm"]["candidates"].dump() << " in " << run.seconds
            << " s\n";
  EXPECT_EQ(ev["task"], "binary_classification");
  EXPECT_GE(Metric(ev, "accuracy"), 0.75);
  EXPECT_GT(Metric(ev, "rocAuc"), 0.8);
  EXPECT_FALSE(ev["rocCurve"].empty());
  EXPECT_FALSE(ev["prCurve"].empty());
  EXPECT_GE(ev["visualizations"].size(), 4u);
  auto predictor = LoadPredictor(*run.result);
  ASSERT_NE(predictor, nullptr);
  auto out = predictor->Predict(Json::array({{{"text", "This phone is great, I love it."}},
                                             {{"text", "Terrible service, the food was bad."}}}),
                                Json::object());
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ((*out)[0]["label"], "1") << (*out)[0];
  EXPECT_EQ((*out)[1]["label"], "0") << (*out)[1];
  EXPECT_GT((*out)[0]["probability"].get<double>(), 0.5);
}

TEST_F(TextTrainerTest, KFoldReportsEachFoldAndRefitsOnAllRows) {
  Run run = Train({{"folds", 3}, {"algorithm", "tfidf_logreg"}}, "k_fold");
  ASSERT_TRUE(run.result.ok()) << run.result.status();
  const Json& ev = run.result->evaluation;
  ASSERT_EQ(ev["folds"].size(), 3u);
  int test_rows = 0;
  for (const Json& f : ev["folds"]) {
    test_rows += f["testRows"].get<int>();
    EXPECT_GT(f["metrics"]["f1Score"].get<double>(), f["baseline"]["f1Score"].get<double>());
  }
  EXPECT_EQ(test_rows, ev["dataSummary"]["rows"].get<int>());
  EXPECT_TRUE(ev["foldSummary"]["mean"].contains("accuracy"));
  EXPECT_TRUE(ev["foldSummary"]["std"]["accuracy"].is_number());
  EXPECT_TRUE(ev.contains("pooledMetrics"));
  EXPECT_GE(Metric(ev, "f1Score"), Baseline(ev, "f1Score") + 0.3);
  EXPECT_TRUE(fs::exists(run.result->model->file_path));
  ExpectMonotonic(run);
}

TEST_F(TextTrainerTest, TimeSeriesSplitNeverTrainsOnTheFuture) {
  Run run = Train({{"folds", 2}, {"algorithm", "fasttext"}}, "time_series_split");
  ASSERT_TRUE(run.result.ok()) << run.result.status();
  const Json& ev = run.result->evaluation;
  ASSERT_EQ(ev["folds"].size(), 2u);
  EXPECT_LT(ev["folds"][0]["trainRows"].get<int>(), ev["folds"][1]["trainRows"].get<int>());
  EXPECT_GE(Metric(ev, "f1Score"), Baseline(ev, "f1Score") + 0.3);
  ExpectMonotonic(run);
}

TEST_F(TextTrainerTest, RatingBecomesSentimentWhenThereIsNoSentimentColumn) {
  const fs::path csv = *dir_ / "ratings.csv";
  {
    std::ofstream out(csv);
    out << "review_id,user_id,item_id,text,created_at,rating\n";
    const char* good[] = {"wonderful", "superb", "great"};
    const char* bad[] = {"horrible", "dreadful", "bad"};
    const char* mid[] = {"so-so", "average", "passable"};
    for (int i = 0; i < 300; ++i) {
      const int rating = 1 + i % 5;
      const char* w = rating >= 4 ? good[i % 3] : rating <= 2 ? bad[i % 3] : mid[i % 3];
      out << "r" << i << ",u" << i % 10 << ",i" << i % 7 << ",\"A " << w << " hotel, " << w
          << " food.\",2024-03-0" << 1 + i % 9 << "," << (i == 7 ? 9 : rating) << "\n";
    }
  }
  auto db = store::OpenDatabase("sqlite://" + (*dir_ / "ratings.db").string());
  ASSERT_TRUE(db.ok());
  data::ImportOptions io;
  io.replace = true;
  ASSERT_TRUE(data::ImportCsv(**db, "reviews", csv.string(), io).ok());
  Run run = Train({{"algorithm", "tfidf_logreg"}, {"minDf", 1}}, "train_test_split",
                  {{"source", "reviews"}}, db->get());
  ASSERT_TRUE(run.result.ok()) << run.result.status();
  const Json& ev = run.result->evaluation;
  EXPECT_TRUE(ev["dataSummary"]["targetFromRating"].get<bool>());
  EXPECT_EQ(ev["dataSummary"]["skipped"]["ratingOutOfRange"], 1);
  EXPECT_EQ(ev["confusionMatrix"]["labels"], Json({"negative", "neutral", "positive"}));
  EXPECT_GT(Metric(ev, "accuracy"), 0.9);
  // A target named in the request is used as it is: five rating classes.
  Run five = Train({{"algorithm", "tfidf_logreg"}, {"minDf", 1}}, "train_test_split",
                   {{"source", "reviews"}, {"target", "rating"}}, db->get());
  ASSERT_TRUE(five.result.ok()) << five.result.status();
  EXPECT_EQ(five.result->evaluation["confusionMatrix"]["labels"].size(), 6u);  // 1-5 and 9
}

TEST_F(TextTrainerTest, TuningRunsARandomSearchWithinItsBudget) {
  Run run = Train({{"tuning", {{"trials", 5}, {"timeBudgetSeconds", 60}}}});
  ASSERT_TRUE(run.result.ok()) << run.result.status();
  const Json& ev = run.result->evaluation;
  ASSERT_TRUE(ev.contains("tuning"));
  EXPECT_GE(ev["tuning"]["trials"].get<int>(), 2);
  EXPECT_LE(ev["tuning"]["trials"].get<int>(), 5);
  EXPECT_TRUE(ev["tuning"]["best"].contains("validationMacroF1"));
  EXPECT_NE(std::find(run.stages.begin(), run.stages.end(), "tuning"), run.stages.end());
  ExpectMonotonic(run);
}

TEST_F(TextTrainerTest, CancellationStopsWithinTwoSeconds) {
  common::CancellationToken token;
  Run run;
  std::atomic<bool> done{false};
  std::chrono::steady_clock::time_point finished;
  std::thread worker([&] {
    // A long job: many tuning trials with a large budget.
    run = Train({{"epochs", 100},
                 {"earlyStopping", false},
                 {"tuning", {{"trials", 200}, {"timeBudgetSeconds", 600}}}},
                "k_fold", {{"source", "reviews"}}, nullptr, &token);
    finished = std::chrono::steady_clock::now();
    done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  ASSERT_FALSE(done.load()) << "the job ended before it could be cancelled";
  const auto cancelled_at = std::chrono::steady_clock::now();
  token.Cancel(common::CancelReason::kUser);
  worker.join();
  const double seconds = std::chrono::duration<double>(finished - cancelled_at).count();
  std::cout << "cancelled after " << seconds << " s\n";
  EXPECT_LT(seconds, 2.0);
  EXPECT_TRUE(absl::IsCancelled(run.result.status())) << run.result.status();

  common::CancellationToken before;
  before.Cancel(common::CancelReason::kUser);
  Run early = Train(Json::object(), "train_test_split", {{"source", "reviews"}}, nullptr, &before);
  EXPECT_TRUE(absl::IsCancelled(early.result.status())) << early.result.status();
}

TEST_F(TextTrainerTest, BadInstancesAndBadRequestsAreRefused) {
  Run run = Train({{"algorithm", "tfidf_logreg"}});
  ASSERT_TRUE(run.result.ok()) << run.result.status();
  auto predictor = LoadPredictor(*run.result);
  ASSERT_NE(predictor, nullptr);
  auto wrong_type =
      predictor->Predict(Json::array({{{"text", "fine"}}, {{"text", 5}}}), Json::object());
  ASSERT_TRUE(absl::IsInvalidArgument(wrong_type.status()));
  EXPECT_NE(std::string(wrong_type.status().message()).find("instances[1].text"), std::string::npos)
      << wrong_type.status();
  EXPECT_TRUE(absl::IsInvalidArgument(predictor->Predict(Json::object(), Json::object()).status()));
  EXPECT_TRUE(
      absl::IsInvalidArgument(predictor->Predict(Json::array({"text"}), Json::object()).status()));
  auto missing =
      predictor->Predict(Json::array({Json::object(), {{"text", nullptr}}}), Json::object());
  ASSERT_TRUE(missing.ok()) << missing.status();
  EXPECT_EQ(missing->size(), 2u);

  // No text column; memory cap; unknown strategy.
  EXPECT_TRUE(absl::IsInvalidArgument(
      Train(Json::object(), "train_test_split", {{"source", "user_profiles"}}).result.status()));
  EXPECT_TRUE(absl::IsResourceExhausted(
      Train(Json::object(), "train_test_split", {{"source", "reviews"}}, nullptr, nullptr, 1e-6)
          .result.status()));
  EXPECT_TRUE(absl::IsInvalidArgument(Train(Json::object(), "bootstrap").result.status()));
}

}  // namespace
}  // namespace tsml::train::text
