// Training workers over the durable queue.
//
// Each worker claims a task with a lease, runs the job's trainer, renews the lease with a
// heartbeat (which also notices a cancellation made through any server), and records the
// outcome. Expired leases of dead workers are recovered by every pool: re-queued while
// attempts remain, else failed with a reason. Runs in `tsml serve` (TSML_WORKERS) and in
// `tsml worker`.
#ifndef TSML_JOBS_WORKER_POOL_H_
#define TSML_JOBS_WORKER_POOL_H_

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/cancellation.h"
#include "common/clock.h"
#include "common/object_id.h"
#include "store/store.h"
#include "train/trainer.h"

namespace tsml::jobs {

struct WorkerPoolOptions {
  int workers = 1;
  common::Millis lease_ms = 30000;
  common::Millis heartbeat_ms = 500;  // also bounds how fast a remote cancel is seen
  common::Millis poll_ms = 250;       // idle wait between claims when not notified
  common::Millis recover_every_ms = 2000;
  std::string owner_prefix;  // default: hostname:pid
  std::string artifact_dir = "var/artifacts";
  std::string data_url;
  store::Database* data_db = nullptr;  // handed to trainers (TrainContext::data_db)
  // Handlers of the other task kinds (deploy, export); a kind without one is not claimed.
  // They return the task's outcome; the record's own state is theirs to write.
  // The token fires on shutdown (the lease is then handed back and the task runs again
  // elsewhere, whatever the handler returns) or when the lease was lost; the pool renews the
  // lease while a handler runs.
  std::map<store::TaskKind,
           std::function<absl::Status(const store::TaskRecord&, const common::CancellationToken&)>>
      handlers;
};

class WorkerPool {
 public:
  // `store`, `registry`, `clock`, `ids` must outlive the pool.
  WorkerPool(WorkerPoolOptions options, store::Store* store, const train::TrainerRegistry* registry,
             const common::Clock* clock, common::IdGenerator* ids);
  ~WorkerPool();

  void Start();
  // Stops claiming, cancels running jobs with reason shutdown and hands their leases back so
  // another worker picks them up; joins the threads. Idempotent.
  void Stop();

  // Wakes idle workers (a job was just queued).
  void Notify();
  // Signals a locally running job to stop now (its store record is already cancelled).
  void CancelLocal(const std::string& job_id);

  // Runs one recovery pass (also done periodically by the workers).
  void RecoverOnce();

  int running_jobs() const;

 private:
  void WorkerLoop(int index);
  void RunTask(const std::string& owner, const store::TaskRecord& task);

  WorkerPoolOptions options_;
  store::Store* store_;
  const train::TrainerRegistry* registry_;
  const common::Clock* clock_;
  common::IdGenerator* ids_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool started_ = false;
  int pending_notifications_ = 0;
  class LeaseKeeper;
  void RunHandlerTask(const std::string& owner, const store::TaskRecord& task);
  // Deploy and export tasks in progress: task id → token.
  std::map<std::string, std::shared_ptr<common::CancellationToken>> running_tasks_;
  std::map<std::string, std::shared_ptr<common::CancellationToken>> running_;  // job id →
  std::vector<std::thread> threads_;
  std::vector<std::string> owners_;
  common::Millis last_recover_ = 0;
};

}  // namespace tsml::jobs

#endif  // TSML_JOBS_WORKER_POOL_H_
