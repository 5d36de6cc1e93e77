// Deployed models in memory, behind POST /api/ml/predict/:deploymentId.
//
// The hot path (Predict) reads an immutable snapshot of the deployment under a shared lock,
// picks a predictor replica round-robin, and records latency and outcome with atomics; it
// never touches the database. A background thread reconciles with the store every second
// (loads deployments that became active anywhere, unloads inactive ones), scales replicas
// between minInstances and maxInstances on measured CPU, flushes per-minute statistics into
// the performance metrics store, and raises alerts.
#ifndef TSML_SERVE_MODEL_SERVER_H_
#define TSML_SERVE_MODEL_SERVER_H_

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/object_id.h"
#include "monitor/drift.h"
#include "serve/stats.h"
#include "store/store.h"
#include "train/predictor.h"

namespace tsml::serve {

// Default alert thresholds; a deployment's `config.alertThresholds` overrides them.
struct AlertThresholds {
  double p95_latency_ms = 100;
  double error_rate_percent = 5;
  double accuracy_drop = 0.10;  // below the evaluation's accuracy, with ≥ 30 feedback items
  int64_t min_requests = 20;    // per minute, before latency/error alerts apply
  double drift_psi = 0.2;       // any input column or the score, with ≥ 500 rows observed
  static AlertThresholds FromJson(const Json& j);
  Json ToJson() const;
};

// Recent predictions, so that ground truth can be matched to them later. Bounded.
class PredictionLog {
 public:
  struct Entry {
    std::string label;  // classification
    double value = 0;   // regression
    bool has_label = false;
    bool positive = false;  // binary: predicted the positive class
    std::string positive_label;
  };
  explicit PredictionLog(size_t capacity) : capacity_(capacity) {}
  // Adds many under one lock (a batch request).
  void AddBatch(std::vector<std::pair<std::string, Entry>>& entries);
  bool Take(const std::string& id, Entry* out);

 private:
  size_t capacity_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
  std::deque<std::string> order_;
};

struct LiveDeployment {
  store::DeploymentRecord record;
  std::string model_type;
  std::string task;
  std::string artifact_path;
  double evaluation_accuracy = -1;
  AlertThresholds thresholds;
  common::Millis loaded_at = 0;
  DeploymentStats stats;
  PredictionLog log{200000};  // the latest predictions, for feedback

  mutable std::shared_mutex replicas_mu;
  std::vector<std::shared_ptr<const train::Predictor>> replicas;
  std::atomic<uint64_t> next{0};

  std::unique_ptr<monitor::DriftTracker> drift;  // null when the model has no reference

  std::mutex alerts_mu;
  std::map<std::string, common::Millis> last_alert;  // kind → when last raised

  LiveDeployment(const common::Clock* clock) : stats(clock) {}
  int instances() const;
};

struct ModelServerOptions {
  int sync_ms = 1000;
  int flush_ms = 60000;
  int autoscale_ms = 5000;
};

class ModelServer {
 public:
  ModelServer(ModelServerOptions options, store::Store* store,
              const train::PredictorRegistry* predictors, const common::Clock* clock,
              common::IdGenerator* ids);
  ~ModelServer();

  void Start();
  void Stop();  // flushes statistics

  // Loads (or reloads) a deployment: verifies the artifact's checksum, loads minInstances
  // replicas and warms them up with a test prediction.
  absl::Status Load(const store::DeploymentRecord& record);
  void Unload(const std::string& deployment_id);
  std::shared_ptr<LiveDeployment> Find(const std::string& deployment_id) const;

  // {"predictions": [...], "deploymentId", "modelVersion"}. NotFound / FailedPrecondition for
  // a deployment that does not exist or is not active (loads an active one on first use).
  absl::StatusOr<Json> Predict(const std::string& deployment_id, const Json& body);

  // Matches ground truth to logged predictions. Returns {accepted, unmatched: [...]}.
  absl::StatusOr<Json> Feedback(const std::string& deployment_id, const Json& items);

  // Drift of a loaded deployment's inputs and scores against training (null when unknown).
  Json Drift(const std::string& deployment_id) const;

  // Live health metrics of a loaded deployment (null when not loaded here).
  Json HealthMetrics(const std::string& deployment_id) const;

  // Minutes held in memory that were not yet flushed, for monitoring queries.
  std::vector<MinuteCounts> UnflushedMinutes(const std::string& deployment_id, int64_t from,
                                             int64_t to) const;

  // Per-deployment Prometheus series.
  std::string PrometheusText() const;

  // One reconcile / flush / alert / autoscale pass (the background thread runs these).
  void SyncOnce();
  void FlushOnce(bool include_current_minute);
  void AutoscaleOnce();

 private:
  // Stores `d`'s minutes after its last flush through `through`, with `usage` (when given) as
  // their CPU and memory figures, checking alerts on each when `check_alerts`.
  void FlushDeployment(const std::string& id, LiveDeployment& d, int64_t now_minute,
                       int64_t through, const ProcessUsage* usage, bool check_alerts);
  // Load() for a deployment not served yet: concurrent first requests and the sync thread load
  // it once. Both take load_mu_; LoadLocked expects it held.
  absl::Status LoadIfAbsent(const store::DeploymentRecord& record);
  absl::Status LoadLocked(const store::DeploymentRecord& record);
  absl::StatusOr<std::shared_ptr<const train::Predictor>> LoadReplica(const std::string& model_type,
                                                                      const std::string& path);
  void CheckAlerts(LiveDeployment& d, const MinuteCounts& minute);
  void Loop();

  ModelServerOptions options_;
  store::Store* store_;
  const train::PredictorRegistry* predictors_;
  const common::Clock* clock_;
  common::IdGenerator* ids_;

  mutable std::shared_mutex mu_;
  std::map<std::string, std::shared_ptr<LiveDeployment>> live_;
  std::map<std::string, int64_t> flushed_through_;  // deployment → last flushed minute
  std::mutex load_mu_;                              // serializes loads

  std::mutex loop_mu_;
  std::condition_variable loop_cv_;
  bool stopping_ = false;
  std::thread thread_;
  common::Millis last_flush_ = 0, last_autoscale_ = 0;
};

}  // namespace tsml::serve

#endif  // TSML_SERVE_MODEL_SERVER_H_
