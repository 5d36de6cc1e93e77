// The records the service keeps (spec "Data Models"), as stored.
#ifndef TSML_STORE_RECORDS_H_
#define TSML_STORE_RECORDS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/json_util.h"

namespace tsml::store {

using common::Millis;

// Model Training Job. JSON-valued fields hold the request's objects with defaults filled in.
struct JobRecord {
  std::string id;
  std::string model_type;
  Json training_data = Json::object();    // {source, filters, dateRange, target, features}
  Json hyperparameters = Json::object();
  std::string validation_strategy = "train_test_split";
  Json compute_resources = Json::object();  // {cpu, memory, gpu}
  std::string status = "pending";  // pending, running, completed, failed, cancelled
  double progress = 0;
  std::string stage = "queued";
  std::optional<Millis> eta_at;     // estimated completion while running
  std::optional<Millis> started_at;
  std::optional<Millis> completed_at;
  std::optional<std::string> failure_reason;
  Json evaluation_results;          // null until completed
  std::optional<std::string> model_artifact_id;
  std::optional<std::string> deployment_id;
  std::optional<std::string> parent_job_id;         // retrain: the job it came from
  std::optional<std::string> source_deployment_id;  // retrain: the deployment it came from
  std::string created_by;
  Millis created_at = 0;
  Millis updated_at = 0;
  int attempts = 0;  // times a worker has claimed it
  // Service-side options: {"incremental": bool, "warmStartArtifactId": id, "notes": [..]}.
  Json options = Json::object();
};

enum class SortField { kCreatedAt, kStartedAt, kCompletedAt };

struct JobQuery {
  std::optional<std::string> created_by;  // set for users without ml:admin
  std::optional<std::string> model_type;
  std::optional<std::string> status;
  std::optional<Millis> created_from;  // inclusive
  std::optional<Millis> created_to;    // inclusive
  SortField sort_by = SortField::kCreatedAt;
  bool descending = true;
  int limit = 20;
  int offset = 0;
};

struct JobPage {
  std::vector<JobRecord> jobs;
  int64_t total = 0;
};

// Model Deployment.
struct DeploymentRecord {
  std::string id;
  std::string training_job_id;
  std::string deployment_name;
  std::string environment;  // staging, production
  std::string version;
  Json auto_scaling = Json::object();  // {minInstances, maxInstances, targetCPU}
  std::string status = "pending";      // pending, deploying, active, inactive, failed
  std::string endpoint_url;
  std::optional<Millis> deployed_at;
  std::optional<std::string> failure_reason;
  Json health_metrics = Json::object();
  Json config = Json::object();  // alert thresholds and other per-deployment settings
  std::string created_by;
  Millis created_at = 0;
  Millis updated_at = 0;
};

// Model Artifact: a file in the artifact folder with its checksum.
struct ArtifactRecord {
  std::string id;
  std::string training_job_id;
  std::string model_type;
  std::string framework;
  std::string version;
  std::string file_path;
  int64_t file_size = 0;
  std::string checksum;  // SHA-256, hex
  Json metadata = Json::object();
  Millis created_at = 0;
  Millis updated_at = 0;
};

// Model Export.
struct ExportRecord {
  std::string id;
  std::string training_job_id;
  std::string format;
  bool include_metadata = true;
  std::string status = "pending";  // pending, processing, completed, failed
  std::string file_path;
  int64_t file_size = 0;
  std::string checksum;
  std::string download_url;
  std::optional<Millis> expires_at;
  std::optional<std::string> failure_reason;
  Json report = Json::object();  // e.g. the parity check
  std::string requested_by;
  Millis created_at = 0;
  std::optional<Millis> completed_at;
};

// Model Performance Metrics: one row per deployment and time bucket.
struct PerformanceRecord {
  std::string id;
  std::string deployment_id;
  Millis timestamp = 0;  // bucket start
  Json metrics = Json::object();
  int64_t sample_size = 0;
  Millis created_at = 0;
};

// A raised monitoring alert.
struct AlertRecord {
  std::string id;
  std::string deployment_id;
  std::string kind;      // latency, error_rate, accuracy_drop, drift
  std::string severity;  // warning, critical
  std::string message;
  double value = 0;
  double threshold = 0;
  Millis raised_at = 0;
};

// One audit entry: who did what, when, with what outcome.
struct AuditRecord {
  std::string id;
  Millis at = 0;
  std::string user_id;    // "" when the caller was not authenticated
  std::string action;     // e.g. "training.initiate"
  std::string resource_id;
  int status = 0;         // HTTP status of the outcome
  std::string outcome;    // "success", "denied", "error"
  std::string request_id;
  std::string remote_address;
  std::string detail;
};

struct AuditQuery {
  std::optional<std::string> user_id;
  std::optional<std::string> action;
  std::optional<Millis> from;
  std::optional<Millis> to;
  int limit = 50;
  int offset = 0;
};

// A queued unit of work: a training, deployment or export job.
enum class TaskKind { kTrain, kDeploy, kExport };
std::string_view TaskKindName(TaskKind kind);

struct TaskRecord {
  std::string id;
  TaskKind kind = TaskKind::kTrain;
  std::string ref_id;  // the job, deployment or export it works on
  std::string state;   // queued, leased, done, failed, cancelled
  int attempts = 0;
  int max_attempts = 3;
  std::string lease_owner;
  Millis lease_expires_at = 0;
  bool cancel_requested = false;
  Millis created_at = 0;
};

// What RecoverExpired did with one task whose lease ran out.
struct RecoveredTask {
  TaskRecord task;
  bool requeued = false;  // false: attempts exhausted, the task and its record failed
};

}  // namespace tsml::store

#endif  // TSML_STORE_RECORDS_H_
