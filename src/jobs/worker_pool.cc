#include "jobs/worker_pool.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "common/file_util.h"
#include "common/logging.h"
#include "common/strings.h"

namespace tsml::jobs {
namespace {

using common::CancelReason;
using common::LogError;
using common::LogInfo;
using common::LogWarn;
using common::Millis;

std::string DefaultOwnerPrefix() {
  char host[256] = {0};
  ::gethostname(host, sizeof(host) - 1);
  return common::StrCat(host, ":", ::getpid());
}

// Writes progress to the job record, at most every 250 ms unless the stage changes; cancels
// the token when the record is no longer running (cancelled through another server).
class StoreProgressSink final : public train::ProgressSink {
 public:
  StoreProgressSink(store::JobStore* store, std::string job_id, const common::Clock* clock,
                    common::CancellationToken* token)
      : store_(store), job_id_(std::move(job_id)), clock_(clock), token_(token) {}

  void Report(double progress, std::string_view stage, std::optional<Millis> eta_at) override {
    const Millis now = clock_->NowMillis();
    progress = std::clamp(progress, 0.0, 100.0);
    if (stage == last_stage_ && now - last_write_ < 250 && progress < 100) return;
    last_stage_ = std::string(stage);
    last_write_ = now;
    auto still_running = store_->UpdateProgress(job_id_, progress, last_stage_, eta_at, now);
    if (still_running.ok() && !*still_running) token_->Cancel(CancelReason::kUser);
  }

 private:
  store::JobStore* store_;
  std::string job_id_;
  const common::Clock* clock_;
  common::CancellationToken* token_;
  std::string last_stage_;
  Millis last_write_ = 0;
};

train::TrainSpec SpecFromJob(const store::JobRecord& job, const WorkerPoolOptions& options) {
  train::TrainSpec spec;
  spec.job_id = job.id;
  spec.model_type = job.model_type;
  spec.training_data = job.training_data;
  spec.hyperparameters = job.hyperparameters;
  spec.validation_strategy = job.validation_strategy;
  spec.cpu = job.compute_resources.value("cpu", 4);
  spec.memory_gb = job.compute_resources.value("memory", 8.0);
  spec.gpu = job.compute_resources.value("gpu", false);
  spec.artifact_dir = (std::filesystem::path(options.artifact_dir) / "models" / job.id).string();
  spec.data_url = options.data_url;
  return spec;
}

void RemoveQuietly(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

}  // namespace

WorkerPool::WorkerPool(WorkerPoolOptions options, store::Store* store,
                       const train::TrainerRegistry* registry, const common::Clock* clock,
                       common::IdGenerator* ids)
    : options_(std::move(options)), store_(store), registry_(registry), clock_(clock), ids_(ids) {
  if (options_.owner_prefix.empty()) options_.owner_prefix = DefaultOwnerPrefix();
}

WorkerPool::~WorkerPool() { Stop(); }

void WorkerPool::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_) return;
  started_ = true;
  for (int i = 0; i < options_.workers; ++i) {
    owners_.push_back(common::StrCat(options_.owner_prefix, "/w", i, "/", ids_->Next()));
  }
  for (int i = 0; i < options_.workers; ++i) {
    threads_.emplace_back([this, i] { WorkerLoop(i); });
  }
}

void WorkerPool::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!started_ || stopping_) return;
    stopping_ = true;
    for (auto& [id, token] : running_) token->Cancel(CancelReason::kShutdown);
    for (auto& [id, token] : running_tasks_) token->Cancel(CancelReason::kShutdown);
  }
  cv_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  for (const auto& owner : owners_) {
    if (auto s = store_->Release(owner, clock_->NowMillis()); !s.ok()) {
      LogWarn("releasing leases failed", {{"owner", owner}, {"error", s.ToString()}});
    }
  }
}

void WorkerPool::Notify() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++pending_notifications_;
  }
  cv_.notify_one();
}

void WorkerPool::CancelLocal(const std::string& job_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = running_.find(job_id);
  if (it != running_.end()) it->second->Cancel(CancelReason::kUser);
}

int WorkerPool::running_jobs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(running_.size());
}

void WorkerPool::RecoverOnce() {
  auto recovered = store_->RecoverExpired(clock_->NowMillis());
  if (!recovered.ok()) {
    LogWarn("lease recovery failed", {{"error", recovered.status().ToString()}});
    return;
  }
  for (const auto& r : *recovered) {
    LogWarn(r.requeued ? "requeued a task whose worker died" : "failed a task after retries",
            {{"taskId", r.task.id},
             {"kind", std::string(store::TaskKindName(r.task.kind))},
             {"refId", r.task.ref_id},
             {"attempts", r.task.attempts}});
  }
}

void WorkerPool::WorkerLoop(int index) {
  const std::string owner = owners_[index];
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
    }
    const Millis now = clock_->NowMillis();
    bool recover = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (now - last_recover_ >= options_.recover_every_ms) {
        last_recover_ = now;
        recover = true;
      }
    }
    if (recover) RecoverOnce();

    std::vector<store::TaskKind> kinds = {store::TaskKind::kTrain};
    for (const auto& [kind, handler] : options_.handlers) kinds.push_back(kind);
    auto claimed = store_->Claim(owner, kinds, options_.lease_ms, clock_->NowMillis());
    if (!claimed.ok()) {
      LogWarn("claiming a task failed", {{"error", claimed.status().ToString()}});
    } else if (claimed->has_value()) {
      RunTask(owner, **claimed);
      continue;
    }
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(options_.poll_ms),
                 [this] { return stopping_ || pending_notifications_ > 0; });
    if (pending_notifications_ > 0) --pending_notifications_;
  }
}

// Renews a claimed task's lease every heartbeat_ms while it runs, and turns a cancellation
// requested anywhere (kUser) or a lost lease (kLeaseLost) into `token`.
class WorkerPool::LeaseKeeper {
 public:
  LeaseKeeper(WorkerPool* pool, const store::TaskRecord& task, const std::string& owner,
              common::CancellationToken* token)
      : thread_([this, pool, &task, &owner, token] {
          std::unique_lock<std::mutex> lock(mu_);
          while (!cv_.wait_for(lock, std::chrono::milliseconds(pool->options_.heartbeat_ms),
                               [&] { return done_; })) {
            auto t = pool->store_->Heartbeat(task.id, owner, pool->options_.lease_ms,
                                             pool->clock_->NowMillis());
            if (absl::IsNotFound(t.status())) {
              token->Cancel(CancelReason::kLeaseLost);
            } else if (t.ok() && t->cancel_requested) {
              token->Cancel(CancelReason::kUser);
            }
          }
        }) {}
  ~LeaseKeeper() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;  // last: starts after the members it uses
};

void WorkerPool::RunHandlerTask(const std::string& owner, const store::TaskRecord& task) {
  const Json log_ids = {{"taskId", task.id},
                        {"kind", std::string(store::TaskKindName(task.kind))},
                        {"refId", task.ref_id},
                        {"worker", owner}};
  auto token = std::make_shared<common::CancellationToken>();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) token->Cancel(CancelReason::kShutdown);
    running_tasks_[task.id] = token;
  }
  auto it = options_.handlers.find(task.kind);
  absl::Status s = absl::UnimplementedError("no handler for this task kind");
  if (it != options_.handlers.end()) {
    LeaseKeeper lease(this, task, owner, token.get());
    try {
      s = it->second(task, *token);
    } catch (const std::exception& e) {
      s = absl::InternalError(common::StrCat("task crashed: ", e.what()));
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    running_tasks_.erase(task.id);
  }
  switch (token->reason()) {
    case CancelReason::kShutdown:
      LogInfo("task interrupted by shutdown; lease released", log_ids);
      return;  // Stop() hands the lease back; the next worker runs it again
    case CancelReason::kLeaseLost:
      LogWarn("task lease lost; another worker owns it now", log_ids);
      return;
    case CancelReason::kUser:
    case CancelReason::kNone:
      break;
  }
  if (!s.ok()) {
    Json fields = log_ids;
    fields["error"] = std::string(s.message());
    LogWarn("task failed", fields);
  }
  (void)store_->Finish(task.id, owner, s.ok(), clock_->NowMillis());
}

void WorkerPool::RunTask(const std::string& owner, const store::TaskRecord& task) {
  if (task.kind != store::TaskKind::kTrain) {
    RunHandlerTask(owner, task);
    return;
  }
  const Json log_ids = {{"jobId", task.ref_id}, {"taskId", task.id}, {"worker", owner}};
  auto job = store_->GetJob(task.ref_id);
  if (!job.ok()) {
    LogError("claimed a task for a missing job", log_ids);
    (void)store_->Finish(task.id, owner, false, clock_->NowMillis());
    return;
  }
  auto marked = store_->MarkRunning(job->id, clock_->NowMillis());
  if (!marked.ok() || !*marked) {  // cancelled before it started
    (void)store_->Finish(task.id, owner, true, clock_->NowMillis());
    return;
  }
  auto token = std::make_shared<common::CancellationToken>();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) token->Cancel(CancelReason::kShutdown);
    running_[job->id] = token;
  }
  LogInfo("job started", log_ids);

  // Heartbeat: renews the lease; notices cancellation made anywhere, or a lost lease.
  auto lease = std::make_unique<LeaseKeeper>(this, task, owner, token.get());

  train::TrainSpec spec = SpecFromJob(*job, options_);
  spec.incremental = job->options.value("incremental", false);
  if (spec.incremental && job->options.contains("warmStartArtifactId")) {
    auto artifact = store_->GetArtifact(job->options.value("warmStartArtifactId", ""));
    if (artifact.ok()) {
      auto sum = common::Sha256File(artifact->file_path);
      if (sum.ok() && *sum == artifact->checksum) spec.warm_start_path = artifact->file_path;
    }
  }
  StoreProgressSink progress(store_, job->id, clock_, token.get());
  train::TrainContext ctx{&progress, token.get(), clock_, options_.data_db};
  absl::StatusOr<train::TrainResult> result;
  std::unique_ptr<train::Trainer> trainer = registry_->Create(job->model_type);
  if (!trainer) {
    result = absl::UnimplementedError(common::StrCat("no trainer for model type '", job->model_type,
                                                     "' is available in this build"));
  } else if (spec.gpu) {
    result =
        absl::FailedPreconditionError("gpu: true was requested, but this worker has no usable GPU");
  } else {
    try {
      result = trainer->Train(spec, ctx);
    } catch (const std::exception& e) {
      result = absl::InternalError(common::StrCat("training crashed: ", e.what()));
    }
  }

  lease.reset();
  {
    std::lock_guard<std::mutex> lock(mu_);
    running_.erase(job->id);
  }

  const Millis now = clock_->NowMillis();
  switch (token->reason()) {
    case CancelReason::kUser:
      RemoveQuietly(spec.artifact_dir);
      (void)store_->Finish(task.id, owner, true, now);
      LogInfo("job cancelled", log_ids);
      return;
    case CancelReason::kShutdown:
      RemoveQuietly(spec.artifact_dir);
      LogInfo("job interrupted by shutdown; lease released", log_ids);
      return;  // Stop() hands the lease back
    case CancelReason::kLeaseLost:
      RemoveQuietly(spec.artifact_dir);
      LogWarn("job lease lost; another worker owns it now", log_ids);
      return;
    case CancelReason::kNone:
      break;
  }

  if (!result.ok()) {
    RemoveQuietly(spec.artifact_dir);
    const std::string reason(result.status().message());
    (void)store_->FailJob(job->id, reason, now);
    (void)store_->Finish(task.id, owner, false, now);
    LogWarn("job failed", {{"jobId", job->id}, {"taskId", task.id}, {"reason", reason}});
    return;
  }

  std::optional<std::string> artifact_id;
  if (result->model) {
    const train::TrainedModel& m = *result->model;
    auto checksum = common::Sha256File(m.file_path);
    std::error_code ec;
    const auto size = std::filesystem::file_size(m.file_path, ec);
    if (!checksum.ok() || ec) {
      (void)store_->FailJob(job->id, "the trained model file could not be read back", now);
      (void)store_->Finish(task.id, owner, false, now);
      return;
    }
    store::ArtifactRecord a;
    a.id = ids_->Next();
    a.training_job_id = job->id;
    a.model_type = job->model_type;
    a.framework = m.framework;
    a.version = m.version;
    a.file_path = m.file_path;
    a.file_size = static_cast<int64_t>(size);
    a.checksum = *checksum;
    a.metadata = m.metadata;
    a.created_at = a.updated_at = now;
    if (auto s = store_->CreateArtifact(a); !s.ok()) {
      (void)store_->FailJob(job->id, "the model artifact could not be recorded", now);
      (void)store_->Finish(task.id, owner, false, now);
      return;
    }
    artifact_id = a.id;
  }
  if (spec.incremental && result->evaluation.is_object() &&
      !result->evaluation.contains("trainingMode")) {
    // The trainer has no warm start: say so, as the retrain contract asks.
    result->evaluation["trainingMode"] = {
        {"mode", "full"},
        {"incrementalRequested", true},
        {"reason",
         common::StrCat(job->model_type,
                        " cannot continue from the deployed model; trained from scratch")}};
  }
  auto completed = store_->CompleteJob(job->id, result->evaluation, artifact_id, now);
  if (completed.ok() && !*completed) RemoveQuietly(spec.artifact_dir);  // cancelled meanwhile
  (void)store_->Finish(task.id, owner, true, now);
  LogInfo("job completed", log_ids);
}

}  // namespace tsml::jobs
