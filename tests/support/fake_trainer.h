// A trainer for tests: runs `steps` steps of `step_ms`, reporting progress and checking the
// cancellation token, then writes a small model file — or fails, as configured.
#ifndef TSML_TESTS_SUPPORT_FAKE_TRAINER_H_
#define TSML_TESTS_SUPPORT_FAKE_TRAINER_H_

#include <atomic>
#include <memory>
#include <string>

#include "train/trainer.h"

namespace tsml::test {

struct FakeTrainerControl {
  std::atomic<int> steps{5};
  std::atomic<int> step_ms{10};
  std::atomic<bool> fail{false};
  std::atomic<int> started{0};
  std::atomic<int> finished{0};
  std::atomic<int> cancelled{0};
  std::atomic<int64_t> cancel_seen_at_ms{0};  // steady clock, when the token was noticed
};

// Registers the fake trainer for every model type.
void RegisterFakeTrainer(train::TrainerRegistry& registry,
                         std::shared_ptr<FakeTrainerControl> control);

int64_t SteadyNowMs();

}  // namespace tsml::test

#endif  // TSML_TESTS_SUPPORT_FAKE_TRAINER_H_
