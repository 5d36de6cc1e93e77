#include "support/fake_trainer.h"

#include <chrono>
#include <filesystem>
#include <thread>

#include "common/file_util.h"
#include "common/strings.h"
#include "train/bundle.h"

namespace tsml::test {

int64_t SteadyNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

namespace {

class FakeTrainer final : public train::Trainer {
 public:
  explicit FakeTrainer(std::shared_ptr<FakeTrainerControl> c) : c_(std::move(c)) {}

  absl::StatusOr<train::TrainResult> Train(const train::TrainSpec& spec,
                                           train::TrainContext& ctx) override {
    ++c_->started;
    const int steps = c_->steps.load();
    for (int i = 0; i < steps; ++i) {
      if (ctx.cancel->cancelled()) {
        c_->cancel_seen_at_ms = SteadyNowMs();
        ++c_->cancelled;
        return absl::CancelledError("cancelled");
      }
      ctx.progress->Report(100.0 * i / steps, "training");
      std::this_thread::sleep_for(std::chrono::milliseconds(c_->step_ms.load()));
    }
    if (c_->fail) {
      ++c_->finished;
      return absl::FailedPreconditionError("the fake trainer was told to fail");
    }
    train::TrainResult result;
    result.evaluation = {{"task", "binary_classification"},
                         {"metrics", {{"accuracy", 0.9}}},
                         {"baseline", {{"name", "class_prior"}, {"metrics", {{"accuracy", 0.6}}}}}};
    auto chart = train::WriteChart(spec.artifact_dir, "roc", "ROC curve",
                                   "<svg xmlns=\"http://www.w3.org/2000/svg\"/>");
    if (!chart.ok()) return chart.status();
    result.evaluation["visualizations"] = Json::array({*chart});
    train::TrainedModel model;
    model.framework = "fake";
    model.version = "1";
    model.file_path = spec.artifact_dir + "/model.bin";
    if (auto s = common::WriteFileAtomic(model.file_path, common::StrCat("fake model for ", spec.job_id));
        !s.ok()) {
      return s;
    }
    result.model = model;
    ++c_->finished;
    return result;
  }

 private:
  std::shared_ptr<FakeTrainerControl> c_;
};

}  // namespace

void RegisterFakeTrainer(train::TrainerRegistry& registry,
                         std::shared_ptr<FakeTrainerControl> control) {
  for (const char* type : {"recommendation", "predictive_analytics", "nlp_sentiment",
                           "user_behavior", "demand_forecast", "churn_prediction"}) {
    registry.Register(type, [control] { return std::make_unique<FakeTrainer>(control); });
  }
}

}  // namespace tsml::test
