// The training contract: a job's parameters in, a model artifact and its evaluation out.
#ifndef TSML_TRAIN_TRAINER_H_
#define TSML_TRAIN_TRAINER_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/cancellation.h"
#include "common/clock.h"
#include "common/json_util.h"
#include "store/sql.h"
#include "train/hyperparams.h"

namespace tsml::train {

struct TrainSpec {
  std::string job_id;
  std::string model_type;
  Json training_data = Json::object();
  Json hyperparameters = Json::object();
  std::string validation_strategy = "train_test_split";
  int cpu = 4;
  double memory_gb = 8;
  bool gpu = false;
  std::string artifact_dir;  // where the trainer writes its model file(s)
  std::string data_url;      // TSML_DATA_URL
  // Retrain with `incremental: true`: the deployed model's artifact (checksum verified) to
  // continue from where the library allows; empty otherwise.
  bool incremental = false;
  std::string warm_start_path;
};

// Receives progress 0..100 with a stage name (loading_data, preparing_features, training,
// tuning, evaluating, saving) and, when known, the estimated completion time.
class ProgressSink {
 public:
  virtual ~ProgressSink() = default;
  virtual void Report(double progress, std::string_view stage,
                      std::optional<common::Millis> eta_at = std::nullopt) = 0;
};

struct TrainContext {
  ProgressSink* progress = nullptr;
  const common::CancellationToken* cancel = nullptr;
  const common::Clock* clock = nullptr;
  store::Database* data_db = nullptr;  // TSML_DATA_URL: the six sources
};

// What every trainer returns once its job was cancelled.
inline absl::Status TrainingCancelled() { return absl::CancelledError("training was cancelled"); }
// Whether the job was cancelled (a context without a token never is).
inline bool IsCancelled(const TrainContext& ctx) {
  return ctx.cancel != nullptr && ctx.cancel->cancelled();
}
// TrainingCancelled() once the job was cancelled, else OK.
inline absl::Status CheckCancel(const TrainContext& ctx) {
  return IsCancelled(ctx) ? TrainingCancelled() : absl::OkStatus();
}

// A trained model as written by a trainer (the worker records it as a Model Artifact).
struct TrainedModel {
  std::string framework;  // e.g. "xgboost"
  std::string version;    // library version
  std::string file_path;  // written to a temporary name, synced, renamed
  Json metadata = Json::object();
};

struct TrainResult {
  Json evaluation = Json::object();  // CONTRACT §6 evaluation document
  std::optional<TrainedModel> model;
};

// Implementations check `ctx.cancel` between iterations and return Cancelled promptly
// (within 2 s), leaving nothing behind. Errors carry a reason a person understands.
class Trainer {
 public:
  virtual ~Trainer() = default;
  virtual absl::StatusOr<TrainResult> Train(const TrainSpec& spec, TrainContext& ctx) = 0;
};

// Model type → trainer and its hyperparameter schema. Filled at start-up (main.cc, tests);
// read-only afterwards.
class TrainerRegistry {
 public:
  using Factory = std::function<std::unique_ptr<Trainer>()>;
  // Extra submission checks of a model type (e.g. a validation strategy it cannot honour):
  // adds field errors for the job's validationStrategy/hyperparameters.
  using RequestCheck = std::function<void(const std::string& validation_strategy,
                                          const Json& hyperparameters,
                                          common::ValidationErrors& errors)>;
  void Register(std::string model_type, Factory factory,
                std::vector<HyperparamSpec> hyperparams = {}, RequestCheck check = nullptr) {
    if (!hyperparams.empty()) hyperparams_[model_type] = std::move(hyperparams);
    if (check) checks_[model_type] = std::move(check);
    factories_[std::move(model_type)] = std::move(factory);
  }
  // Runs the model type's extra checks, if any.
  void CheckRequest(std::string_view model_type, const std::string& validation_strategy,
                    const Json& hyperparameters, common::ValidationErrors& errors) const {
    auto it = checks_.find(std::string(model_type));
    if (it != checks_.end()) it->second(validation_strategy, hyperparameters, errors);
  }
  // The hyperparameter schema of `model_type`; nullptr when none was registered (then the
  // hyperparameters are passed through unchecked).
  const std::vector<HyperparamSpec>* Hyperparams(std::string_view model_type) const {
    auto it = hyperparams_.find(std::string(model_type));
    return it == hyperparams_.end() ? nullptr : &it->second;
  }
  // nullptr when no trainer is registered for `model_type`.
  std::unique_ptr<Trainer> Create(std::string_view model_type) const {
    auto it = factories_.find(std::string(model_type));
    return it == factories_.end() ? nullptr : it->second();
  }
  bool Has(std::string_view model_type) const {
    return factories_.count(std::string(model_type)) > 0;
  }

 private:
  std::map<std::string, Factory> factories_;
  std::map<std::string, std::vector<HyperparamSpec>> hyperparams_;
  std::map<std::string, RequestCheck> checks_;
};

}  // namespace tsml::train

#endif  // TSML_TRAIN_TRAINER_H_
