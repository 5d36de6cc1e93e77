// Training time and peak memory per model type on the demo data at several sizes, and the
// overhead of the service's tabular trainer over a bare XGBoost C API run on the same matrix.
// Each training runs in a child process so that its peak RSS is its own.
//   train_bench [--sizes 10000,100000,1000000] [--out bench/results.json]
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

#include "bench_util.h"
#include "common/logging.h"
#include "common/strings.h"
#include "data/catalog.h"
#include "data/demo_data.h"
#include "data/filters.h"
#include "data/frame.h"
#include "store/sql.h"
#include "support/test_server.h"
#include "train/registry.h"
#include "train/xgb/booster.h"

namespace tsml::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Case {
  std::string model_type;
  Json training_data;
};

std::vector<Case> Cases(const train::TrainerRegistry& registry) {
  std::vector<Case> all = {
      {"churn_prediction", {{"source", "user_profiles"}}},
      {"user_behavior", {{"source", "user_profiles"}}},
      {"predictive_analytics", {{"source", "bookings"}}},
      {"recommendation", {{"source", "user_events"}}},
      {"nlp_sentiment", {{"source", "reviews"}}},
      {"demand_forecast", {{"source", "bookings"}}},
  };
  std::vector<Case> out;
  for (auto& c : all) {
    if (registry.Has(c.model_type)) out.push_back(c);
  }
  return out;
}

class NullSink final : public train::ProgressSink {
 public:
  void Report(double, std::string_view, std::optional<common::Millis>) override {}
};

// Child: trains one model, prints {"seconds", "ok", "metrics"} as one JSON line.
int Child(const std::string& db_url, const std::string& type, const std::string& training_data,
          const std::string& artifacts) {
  common::InitLogging("error");
  train::TrainerRegistry trainers;
  train::PredictorRegistry predictors;
  train::RegisterAllModels(trainers, predictors);
  auto db = store::OpenDatabase(db_url);
  if (!db.ok()) return 2;
  train::TrainSpec spec;
  spec.job_id = "bench";
  spec.model_type = type;
  spec.training_data = Json::parse(training_data);
  common::ValidationErrors errors;
  if (const auto* specs = trainers.Hyperparams(type)) {
    spec.hyperparameters = train::ValidateHyperparameters(*specs, Json::object(), errors);
  }
  spec.cpu = static_cast<int>(std::thread::hardware_concurrency());
  spec.memory_gb = 16;
  spec.artifact_dir = artifacts;
  NullSink sink;
  common::CancellationToken token;
  train::TrainContext ctx{&sink, &token, common::SystemClock::Default(), db->get()};
  const auto t0 = Clock::now();
  auto result = trainers.Create(type)->Train(spec, ctx);
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  Json out = {{"seconds", seconds}, {"ok", result.ok()}};
  if (result.ok()) {
    out["metrics"] = result->evaluation.value("metrics", Json::object());
    out["baseline"] = result->evaluation.value("baseline", Json::object()).value("metrics", Json::object());
  } else {
    out["error"] = std::string(result.status().message());
  }
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

// Runs the child and returns its JSON line plus its peak RSS in MiB.
Json RunChild(const char* self, const std::vector<std::string>& args) {
  int pipefd[2];
  if (pipe(pipefd) != 0) return {{"error", "pipe"}};
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(pipefd[1], 1);
    close(pipefd[0]);
    std::vector<char*> argv = {const_cast<char*>(self)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(self, argv.data());
    _exit(127);
  }
  close(pipefd[1]);
  std::string output;
  char buf[4096];
  ssize_t n;
  while ((n = read(pipefd[0], buf, sizeof(buf))) > 0) output.append(buf, static_cast<size_t>(n));
  close(pipefd[0]);
  int status = 0;
  struct rusage usage {};
  wait4(pid, &status, 0, &usage);
  Json out = Json::object();
  auto parsed = common::ParseJson(output.substr(0, output.find('\n')));
  if (parsed.ok()) out = *parsed;
  out["peakRssMiB"] = usage.ru_maxrss / 1024.0;
  return out;
}

// The service's tabular trainer vs. a bare XGBoost run (same matrix, params and rounds).
Json Overhead(store::Database& db, const std::string& artifacts) {
  train::TrainerRegistry trainers;
  train::PredictorRegistry predictors;
  train::RegisterAllModels(trainers, predictors);
  train::TrainSpec spec;
  spec.job_id = "overhead";
  spec.model_type = "predictive_analytics";
  spec.training_data = {{"source", "bookings"}};
  common::ValidationErrors errors;
  Json hp = {{"earlyStoppingRounds", 0}, {"nEstimators", 200}};
  spec.hyperparameters = train::ValidateHyperparameters(*trainers.Hyperparams(spec.model_type), hp, errors);
  spec.cpu = static_cast<int>(std::thread::hardware_concurrency());
  spec.memory_gb = 16;
  spec.artifact_dir = artifacts;
  NullSink sink;
  common::CancellationToken token;
  train::TrainContext ctx{&sink, &token, common::SystemClock::Default(), &db};
  auto t0 = Clock::now();
  auto result = trainers.Create(spec.model_type)->Train(spec, ctx);
  const double service_s = std::chrono::duration<double>(Clock::now() - t0).count();
  if (!result.ok()) return {{"error", std::string(result.status().message())}};

  // Bare: the same frame, all rows, the same parameters and 200 rounds.
  data::DataCatalog catalog(&db);
  auto resolved = data::ResolveTrainingData(catalog, spec.model_type, spec.training_data);
  data::FrameOptions fo;
  fo.target = resolved->target;
  fo.where = resolved->where;
  t0 = Clock::now();
  auto frame = data::LoadFeatureFrame(db, resolved->schema, fo);
  const double load_s = std::chrono::duration<double>(Clock::now() - t0).count();
  const size_t cols = frame->transform.num_features();
  t0 = Clock::now();
  auto m = train::xgb::Matrix::FromDense(frame->x.data(), frame->rows, cols, spec.cpu);
  (void)m->SetLabels(frame->y);
  train::xgb::TrainOptions o;
  o.params = {{"tree_method", "hist"}, {"max_depth", "6"}, {"eta", "0.1"},
              {"objective", "binary:logistic"}, {"nthread", std::to_string(spec.cpu)},
              {"verbosity", "0"}};
  o.num_rounds = 200;
  o.early_stopping_rounds = 0;
  auto booster = train::xgb::Booster::Train(*m, nullptr, o, nullptr);
  const double bare_s = std::chrono::duration<double>(Clock::now() - t0).count();
  return {{"serviceTimings", result->evaluation.value("timings", Json::object())},
          {"rows", frame->rows},
          {"features", cols},
          {"serviceSeconds", service_s},
          {"bareXgboostSeconds", bare_s},
          {"bareWithDataLoadSeconds", bare_s + load_s},
          {"ratioVsBare", service_s / bare_s},
          {"ratioVsBareWithLoad", service_s / (bare_s + load_s)},
          {"target", "<= 1.3"}};
}

}  // namespace
}  // namespace tsml::bench

int main(int argc, char** argv) {
  using namespace tsml;
  if (argc >= 2 && std::string(argv[1]) == "--child" && argc == 6) {
    return bench::Child(argv[2], argv[3], argv[4], argv[5]);
  }
  std::vector<int64_t> sizes = {10000, 100000, 1000000};
  std::string out = "bench/results.json";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--sizes")) {
      sizes.clear();
      for (const auto& s : common::Split(argv[i + 1], ',')) sizes.push_back(std::stoll(s));
    }
    if (!std::strcmp(argv[i], "--out")) out = argv[i + 1];
  }
  common::InitLogging("error");
  train::TrainerRegistry trainers;
  train::PredictorRegistry predictors;
  train::RegisterAllModels(trainers, predictors);
  Json results = Json::object();
  std::printf("%-10s %-22s %10s %10s  %s\n", "rows", "model type", "seconds", "peak MiB", "metric (model / baseline)");
  for (int64_t size : sizes) {
    test::TempDir dir;
    const std::string url = "sqlite://" + dir.path() + "/data.db";
    {
      auto db = store::OpenDatabase(url);
      data::DemoOptions o;
      o.events = size;
      if (!db.ok() || !data::SeedDemo(**db, o).ok()) {
        std::cerr << "cannot seed " << size << "\n";
        return 1;
      }
    }
    Json per_type = Json::object();
    for (const auto& c : bench::Cases(trainers)) {
      Json r = bench::RunChild("/proc/self/exe", {"--child", url, c.model_type, c.training_data.dump(),
                                                  dir.path() + "/art-" + c.model_type});
      per_type[c.model_type] = r;
      std::string metric;
      if (r.contains("metrics")) {
        for (const char* k : {"rocAuc", "ndcgAtK", "mase", "f1Score", "rmse"}) {
          if (r["metrics"].contains(k) && r["metrics"][k].is_number()) {
            metric = common::StrCat(k, " ", r["metrics"][k].get<double>(), " / ",
                                    r["baseline"].value(k, Json()).dump());
            break;
          }
        }
      }
      std::printf("%-10lld %-22s %10.2f %10.1f  %s\n", static_cast<long long>(size), c.model_type.c_str(),
                  r.value("seconds", -1.0), r.value("peakRssMiB", 0.0),
                  r.value("ok", false) ? metric.c_str() : r.value("error", std::string("failed")).c_str());
    }
    results[common::StrCat("events_", size)] = per_type;
    if (size == sizes.back()) {
      auto db = store::OpenDatabase(url);
      Json overhead = bench::Overhead(**db, dir.path() + "/overhead");
      results["overheadVsBareXgboost"] = overhead;
      std::printf("overhead vs bare XGBoost (%lld booking rows): service %.2fs, bare %.2fs (+load %.2fs) → %.2fx / %.2fx\n",
                  static_cast<long long>(overhead.value("rows", 0)), overhead.value("serviceSeconds", 0.0),
                  overhead.value("bareXgboostSeconds", 0.0), overhead.value("bareWithDataLoadSeconds", 0.0),
                  overhead.value("ratioVsBare", 0.0), overhead.value("ratioVsBareWithLoad", 0.0));
    }
  }
  bench::MergeResult(out, "training", results);
  return 0;
}
