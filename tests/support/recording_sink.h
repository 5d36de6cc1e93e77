// A progress sink that records every report, for trainer tests.
#ifndef TSML_TESTS_SUPPORT_RECORDING_SINK_H_
#define TSML_TESTS_SUPPORT_RECORDING_SINK_H_

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/cancellation.h"
#include "common/clock.h"
#include "train/trainer.h"

namespace tsml::test {

class RecordingSink final : public train::ProgressSink {
 public:
  void Report(double progress, std::string_view stage, std::optional<common::Millis>) override {
    std::lock_guard<std::mutex> lock(mu_);
    values_.push_back(progress);
    stages_.emplace_back(stage);
  }
  std::vector<double> values() const {
    std::lock_guard<std::mutex> lock(mu_);
    return values_;
  }
  std::vector<std::string> stages() const {
    std::lock_guard<std::mutex> lock(mu_);
    return stages_;
  }
  double last() const {
    std::lock_guard<std::mutex> lock(mu_);
    return values_.empty() ? 0 : values_.back();
  }

 private:
  mutable std::mutex mu_;
  std::vector<double> values_;
  std::vector<std::string> stages_;
};

// Progress rises monotonically through the documented stages (GoogleTest expectations).
inline void ExpectMonotonicProgress(const std::vector<double>& progress,
                                    const std::vector<std::string>& stages) {
  ASSERT_FALSE(progress.empty());
  for (size_t i = 1; i < progress.size(); ++i) {
    EXPECT_GE(progress[i], progress[i - 1]) << "at report " << i;
  }
  for (const std::string& s : stages) {
    EXPECT_TRUE(s == "loading_data" || s == "preparing_features" || s == "training" ||
                s == "tuning" || s == "evaluating" || s == "saving")
        << s;
  }
}

// One training run as a worker makes it, with what the sink saw and the wall time.
struct TrainRun {
  absl::StatusOr<train::TrainResult> result;
  std::vector<double> progress;
  std::vector<std::string> stages;
  double seconds = 0;
};

// Runs `trainer` on `spec` against `db`, cancellable through `token` (none: a private one).
inline TrainRun RunTrainer(train::Trainer& trainer, const train::TrainSpec& spec,
                           store::Database* db,
                           const common::CancellationToken* token = nullptr) {
  RecordingSink sink;
  common::CancellationToken local;
  train::TrainContext ctx{&sink, token ? token : &local, common::SystemClock::Default(), db};
  const auto start = std::chrono::steady_clock::now();
  TrainRun run{trainer.Train(spec, ctx)};
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  run.progress = sink.values();
  run.stages = sink.stages();
  return run;
}

}  // namespace tsml::test

#endif  // TSML_TESTS_SUPPORT_RECORDING_SINK_H_
