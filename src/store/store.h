// The service's persistent state, as interfaces. One SQL implementation runs on both
// backends (SQLite, PostgreSQL); see sql_stores.h. All methods are thread-safe.
//
// Errors: NotFound for a missing id; FailedPrecondition for a state transition that is not
// allowed (e.g. cancelling a finished job); AlreadyExists for a duplicate id; Unavailable when
// the database cannot be reached (safe to retry).
#ifndef TSML_STORE_STORE_H_
#define TSML_STORE_STORE_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "store/records.h"

namespace tsml::store {

class JobStore {
 public:
  virtual ~JobStore() = default;
  // Inserts the job and, in the same transaction, queues its training task.
  virtual absl::Status CreateJob(const JobRecord& job, int max_attempts) = 0;
  virtual absl::StatusOr<JobRecord> GetJob(const std::string& id) = 0;
  virtual absl::StatusOr<JobPage> ListJobs(const JobQuery& query) = 0;
  // pending|running → cancelled (completed_at = now), and flags its task so the worker stops.
  // FailedPrecondition (naming the current status) otherwise.
  virtual absl::StatusOr<JobRecord> CancelJob(const std::string& id, Millis now) = 0;
  // pending|running → running, attempts counted, started_at set. False when the job is no
  // longer runnable (cancelled meanwhile).
  virtual absl::StatusOr<bool> MarkRunning(const std::string& id, Millis now) = 0;
  // Only while running. False when the job is no longer running.
  virtual absl::StatusOr<bool> UpdateProgress(const std::string& id, double progress,
                                              const std::string& stage,
                                              std::optional<Millis> eta_at, Millis now) = 0;
  // running → completed with its results and artifact. False when no longer running.
  virtual absl::StatusOr<bool> CompleteJob(const std::string& id, const Json& evaluation,
                                           const std::optional<std::string>& artifact_id,
                                           Millis now) = 0;
  // pending|running → failed with a reason. False when already finished.
  virtual absl::StatusOr<bool> FailJob(const std::string& id, const std::string& reason,
                                       Millis now) = 0;
  // Sets deployment_id (deploy use case).
  virtual absl::Status SetDeployment(const std::string& job_id,
                                     const std::optional<std::string>& deployment_id,
                                     Millis now) = 0;
  // Number of jobs per status.
  virtual absl::StatusOr<std::map<std::string, int64_t>> CountByStatus() = 0;
};

// The durable queue under every job kind. Claiming is atomic: a task is leased to one
// worker at a time (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: an immediate transaction).
class TaskStore {
 public:
  virtual ~TaskStore() = default;
  virtual absl::Status Enqueue(TaskKind kind, const std::string& ref_id, int max_attempts,
                               Millis now) = 0;
  // Leases the oldest queued task of one of `kinds` to `owner` until now + lease_ms.
  virtual absl::StatusOr<std::optional<TaskRecord>> Claim(const std::string& owner,
                                                          const std::vector<TaskKind>& kinds,
                                                          Millis lease_ms, Millis now) = 0;
  // Extends the lease. NotFound when `owner` no longer holds it (expired and re-claimed).
  // Returns the task (cancel_requested tells the worker to stop).
  virtual absl::StatusOr<TaskRecord> Heartbeat(const std::string& task_id,
                                               const std::string& owner, Millis lease_ms,
                                               Millis now) = 0;
  // Ends a lease: state done or failed. Ignored when `owner` no longer holds it.
  virtual absl::Status Finish(const std::string& task_id, const std::string& owner,
                              bool succeeded, Millis now) = 0;
  // Hands leases of `owner` back to the queue without counting an attempt (graceful stop).
  virtual absl::Status Release(const std::string& owner, Millis now) = 0;
  // Tasks whose lease expired (their worker died): re-queued while attempts remain, else
  // failed together with their job/deployment/export record, with a reason.
  virtual absl::StatusOr<std::vector<RecoveredTask>> RecoverExpired(Millis now) = 0;
  // Queued tasks (queue depth), by kind name.
  virtual absl::StatusOr<std::map<std::string, int64_t>> QueueDepth() = 0;
};

class DeploymentStore {
 public:
  virtual ~DeploymentStore() = default;
  virtual absl::Status CreateDeployment(const DeploymentRecord& d) = 0;
  virtual absl::StatusOr<DeploymentRecord> GetDeployment(const std::string& id) = 0;
  virtual absl::Status UpdateDeployment(const DeploymentRecord& d) = 0;
  // Writes `d` only while the stored status is one of `expected`; false otherwise.
  virtual absl::StatusOr<bool> UpdateDeploymentIf(const DeploymentRecord& d,
                                                  const std::vector<std::string>& expected) = 0;
  // In one transaction: refuses (FailedPrecondition) when the job already has a pending,
  // deploying or active deployment; inserts `d`, queues its deploy task and points the job
  // at it.
  virtual absl::Status CreateDeploymentForJob(const DeploymentRecord& d, int max_attempts) = 0;
  virtual absl::StatusOr<std::vector<DeploymentRecord>> ListDeployments(
      const std::optional<std::string>& status) = 0;
  // Deployments named `name` in `environment`, newest first (the version history).
  virtual absl::StatusOr<std::vector<DeploymentRecord>> DeploymentsNamed(
      const std::string& name, const std::string& environment) = 0;
};

class AlertStore {
 public:
  virtual ~AlertStore() = default;
  virtual absl::Status AppendAlert(const AlertRecord& a) = 0;
  // Newest first.
  virtual absl::StatusOr<std::vector<AlertRecord>> ListAlerts(const std::string& deployment_id,
                                                              int limit) = 0;
};

class ArtifactStore {
 public:
  virtual ~ArtifactStore() = default;
  virtual absl::Status CreateArtifact(const ArtifactRecord& a) = 0;
  virtual absl::StatusOr<ArtifactRecord> GetArtifact(const std::string& id) = 0;
};

class ExportStore {
 public:
  virtual ~ExportStore() = default;
  virtual absl::Status CreateExport(const ExportRecord& e) = 0;
  virtual absl::StatusOr<ExportRecord> GetExport(const std::string& id) = 0;
  virtual absl::Status UpdateExport(const ExportRecord& e) = 0;
};

class MetricsStore {
 public:
  virtual ~MetricsStore() = default;
  // Inserts or replaces the bucket (deployment_id, timestamp).
  virtual absl::Status UpsertPerformance(const PerformanceRecord& r) = 0;
  virtual absl::StatusOr<std::vector<PerformanceRecord>> ListPerformance(
      const std::string& deployment_id, Millis from, Millis to) = 0;
};

class AuditStore {
 public:
  virtual ~AuditStore() = default;
  virtual absl::Status AppendAudit(const AuditRecord& r) = 0;
  // Newest first.
  virtual absl::StatusOr<std::pair<std::vector<AuditRecord>, int64_t>> ListAudit(
      const AuditQuery& q) = 0;
};

// Every store over one database.
class Store : public JobStore,
              public TaskStore,
              public DeploymentStore,
              public ArtifactStore,
              public ExportStore,
              public MetricsStore,
              public AlertStore,
              public AuditStore {
 public:
  // True when the database answers a trivial query.
  virtual absl::Status Ping() = 0;
};

}  // namespace tsml::store

#endif  // TSML_STORE_STORE_H_
