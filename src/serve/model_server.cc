#include "serve/model_server.h"

#include <chrono>
#include <cmath>

#include "common/file_util.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "monitor/http_metrics.h"
#include "train/bundle.h"

namespace tsml::serve {
namespace {

using common::Millis;
using common::StrCat;

// Canonical text of a label or an actual value ("1" for true and 1.0).
std::string Canonical(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "1" : "0";
  if (v.is_number()) {
    const double d = v.get<double>();
    if (d == std::floor(d) && std::fabs(d) < 1e15) return std::to_string(static_cast<int64_t>(d));
    return StrCat(d);
  }
  return v.dump();
}

// Instances that exercise a model once at deploy time; the first accepted one warms it up.
const std::vector<Json>& WarmupCandidates() {
  static const std::vector<Json> k = {
      Json::array({Json::object()}), Json::array({{{"text", "warm up"}}}),
      Json::array({{{"userId", "__warmup__"}}}), Json::array({{{"group", "__warmup__"}}})};
  return k;
}

}  // namespace

AlertThresholds AlertThresholds::FromJson(const Json& j) {
  AlertThresholds t;
  if (!j.is_object()) return t;
  t.p95_latency_ms = j.value("p95LatencyMs", t.p95_latency_ms);
  t.error_rate_percent = j.value("errorRatePercent", t.error_rate_percent);
  t.accuracy_drop = j.value("accuracyDrop", t.accuracy_drop);
  t.min_requests = j.value("minRequests", t.min_requests);
  t.drift_psi = j.value("driftPsi", t.drift_psi);
  return t;
}

Json AlertThresholds::ToJson() const {
  return {{"p95LatencyMs", p95_latency_ms},
          {"errorRatePercent", error_rate_percent},
          {"accuracyDrop", accuracy_drop},
          {"minRequests", min_requests},
          {"driftPsi", drift_psi}};
}

void PredictionLog::AddBatch(std::vector<std::pair<std::string, Entry>>& batch) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [id, e] : batch) {
    if (entries_.size() >= capacity_ && !order_.empty()) {
      entries_.erase(order_.front());
      order_.pop_front();
    }
    order_.push_back(id);
    entries_.emplace(std::move(id), std::move(e));
  }
}

bool PredictionLog::Take(const std::string& id, Entry* out) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return false;
  *out = it->second;
  return true;
}

int LiveDeployment::instances() const {
  std::shared_lock lock(replicas_mu);
  return static_cast<int>(replicas.size());
}

ModelServer::ModelServer(ModelServerOptions options, store::Store* store,
                         const train::PredictorRegistry* predictors, const common::Clock* clock,
                         common::IdGenerator* ids)
    : options_(options), store_(store), predictors_(predictors), clock_(clock), ids_(ids) {}

ModelServer::~ModelServer() { Stop(); }

void ModelServer::Start() {
  std::lock_guard<std::mutex> lock(loop_mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  last_flush_ = last_autoscale_ = clock_->NowMillis();
  thread_ = std::thread([this] { Loop(); });
}

void ModelServer::Stop() {
  {
    std::lock_guard<std::mutex> lock(loop_mu_);
    if (!thread_.joinable()) return;
    stopping_ = true;
  }
  loop_cv_.notify_all();
  thread_.join();
  FlushOnce(true);
}

void ModelServer::Loop() {
  std::unique_lock<std::mutex> lock(loop_mu_);
  while (!loop_cv_.wait_for(lock, std::chrono::milliseconds(options_.sync_ms),
                            [this] { return stopping_; })) {
    lock.unlock();
    SyncOnce();
    const Millis now = clock_->NowMillis();
    if (now - last_flush_ >= options_.flush_ms) {
      last_flush_ = now;
      FlushOnce(false);
    }
    if (now - last_autoscale_ >= options_.autoscale_ms) {
      last_autoscale_ = now;
      AutoscaleOnce();
    }
    lock.lock();
  }
}

absl::StatusOr<std::shared_ptr<const train::Predictor>> ModelServer::LoadReplica(
    const std::string& model_type, const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<train::Predictor> p, predictors_->Load(model_type, path));
  return std::shared_ptr<const train::Predictor>(std::move(p));
}

absl::Status ModelServer::Load(const store::DeploymentRecord& record) {
  std::lock_guard<std::mutex> guard(load_mu_);
  return LoadLocked(record);
}

absl::Status ModelServer::LoadIfAbsent(const store::DeploymentRecord& record) {
  std::lock_guard<std::mutex> guard(load_mu_);
  if (Find(record.id)) return absl::OkStatus();
  return LoadLocked(record);
}

absl::Status ModelServer::LoadLocked(const store::DeploymentRecord& record) {
  ASSIGN_OR_RETURN(store::JobRecord job, store_->GetJob(record.training_job_id));
  if (!job.model_artifact_id) {
    return absl::FailedPreconditionError("the training job has no model artifact");
  }
  ASSIGN_OR_RETURN(store::ArtifactRecord artifact, store_->GetArtifact(*job.model_artifact_id));
  ASSIGN_OR_RETURN(std::string checksum, common::Sha256File(artifact.file_path));
  if (checksum != artifact.checksum) {
    return absl::DataLossError("the model artifact's checksum does not match; it was modified");
  }
  auto live = std::make_shared<LiveDeployment>(clock_);
  live->record = record;
  live->model_type = job.model_type;
  live->artifact_path = artifact.file_path;
  live->task = job.evaluation_results.value("task", "");
  if (job.evaluation_results.contains("metrics") &&
      job.evaluation_results["metrics"].contains("accuracy") &&
      job.evaluation_results["metrics"]["accuracy"].is_number()) {
    live->evaluation_accuracy = job.evaluation_results["metrics"]["accuracy"].get<double>();
  }
  live->thresholds = AlertThresholds::FromJson(record.config.value("alertThresholds", Json()));
  if (auto bundle = train::ReadBundle(artifact.file_path);
      bundle.ok() && bundle->contains("reference")) {
    auto ref = monitor::DriftReference::FromJson((*bundle)["reference"]);
    if (!ref.empty()) live->drift = std::make_unique<monitor::DriftTracker>(std::move(ref));
  }
  live->loaded_at = clock_->NowMillis();
  const int instances = std::max(1, record.auto_scaling.value("minInstances", 1));
  for (int i = 0; i < instances; ++i) {
    ASSIGN_OR_RETURN(auto replica, LoadReplica(job.model_type, artifact.file_path));
    live->replicas.push_back(std::move(replica));
  }
  // Warm-up: the model must answer a test prediction before it serves.
  absl::Status warm = absl::InternalError("no warm-up instance was accepted");
  for (const Json& instances_json : WarmupCandidates()) {
    auto r = live->replicas.front()->Predict(instances_json, Json::object());
    if (r.ok()) {
      warm = absl::OkStatus();
      break;
    }
    warm = r.status();
  }
  if (!warm.ok()) {
    return absl::FailedPreconditionError(
        StrCat("the model failed its warm-up prediction: ", warm.message()));
  }
  std::unique_lock lock(mu_);
  live_[record.id] = std::move(live);
  return absl::OkStatus();
}

void ModelServer::Unload(const std::string& deployment_id) {
  std::shared_ptr<LiveDeployment> gone;
  {
    std::unique_lock lock(mu_);
    auto it = live_.find(deployment_id);
    if (it == live_.end()) return;
    gone = it->second;
    live_.erase(it);
  }
  // Keep its statistics: flush what it served since the last flush, current minute included.
  const int64_t now_minute = clock_->NowMillis() / 60000;
  FlushDeployment(deployment_id, *gone, now_minute, now_minute, /*usage=*/nullptr,
                  /*check_alerts=*/false);
  std::unique_lock lock(mu_);
  flushed_through_.erase(deployment_id);
}

std::shared_ptr<LiveDeployment> ModelServer::Find(const std::string& deployment_id) const {
  std::shared_lock lock(mu_);
  auto it = live_.find(deployment_id);
  return it == live_.end() ? nullptr : it->second;
}

absl::StatusOr<Json> ModelServer::Predict(const std::string& deployment_id, const Json& body) {
  std::shared_ptr<LiveDeployment> d = Find(deployment_id);
  if (!d) {
    // Not served here: the only path that reads the store (once per deployment).
    ASSIGN_OR_RETURN(store::DeploymentRecord rec, store_->GetDeployment(deployment_id));
    if (rec.status != "active") {
      return absl::FailedPreconditionError(
          StrCat("deployment is ", rec.status, "; only active deployments serve predictions"));
    }
    RETURN_IF_ERROR(LoadIfAbsent(rec));
    d = Find(deployment_id);
    if (!d) return absl::UnavailableError("deployment is being unloaded");
  }
  const auto start = std::chrono::steady_clock::now();
  const Json* instances = nullptr;
  absl::Status status;
  // Each member looked up once; the options are copied only when k / horizon are given on top.
  auto member = [&body](const char* key) -> const Json* {
    if (!body.is_object()) return nullptr;
    auto it = body.find(key);
    return it == body.end() ? nullptr : &*it;
  };
  const Json* rows = member("instances");
  if (rows == nullptr || !rows->is_array()) {
    status = absl::InvalidArgumentError("body must be {\"instances\": [ {...}, ... ]}");
  } else if (rows->empty() || rows->size() > 10000) {
    status = absl::InvalidArgumentError("instances must hold 1 to 10000 rows");
  } else {
    instances = rows;
  }
  static const Json kNoOptions = Json::object();
  const Json* parameters = member("parameters");
  const Json* k = member("k");
  const Json* horizon = member("horizon");
  Json merged;
  const Json* options = parameters != nullptr ? parameters : &kNoOptions;
  if (k != nullptr || horizon != nullptr) {
    merged = *options;
    if (k != nullptr) merged["k"] = *k;
    if (horizon != nullptr) merged["horizon"] = *horizon;
    options = &merged;
  }
  absl::StatusOr<Json> predictions = Json::array();
  if (!status.ok()) {
    predictions = status;
  } else {
    std::shared_ptr<const train::Predictor> replica;
    {
      std::shared_lock lock(d->replicas_mu);
      replica = d->replicas[d->next.fetch_add(1, std::memory_order_relaxed) % d->replicas.size()];
    }
    predictions = replica->Predict(*instances, *options);
  }
  const double us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
  d->stats.RecordRequest(us, instances ? instances->size() : 0, !predictions.ok());
  if (!predictions.ok()) return predictions.status();
  // Drift sees up to 16 rows of a batch (a sample keeps big batches cheap).
  const size_t drift_stride = instances ? std::max<size_t>(1, instances->size() / 16) : 1;
  if (d->drift) {
    for (size_t i = 0; i < instances->size(); i += drift_stride) {
      d->drift->Observe((*instances)[i], std::min(drift_stride, instances->size() - i));
    }
  }
  // Give every prediction an id for later feedback, and log what was predicted.
  std::vector<std::pair<std::string, PredictionLog::Entry>> logged;
  logged.reserve(predictions->size());
  size_t row = 0;
  for (Json& p : *predictions) {
    if (d->drift && p.is_object() && row++ % drift_stride == 0) {
      if (auto it = p.find("probability"); it != p.end() && it->is_number()) {
        d->drift->ObserveScore(it->get<double>(), drift_stride);
      } else if (auto v = p.find("value"); v != p.end() && v->is_number()) {
        d->drift->ObserveScore(v->get<double>(), drift_stride);
      }
    }
    if (!p.is_object()) continue;
    std::string id = ids_->Next();
    PredictionLog::Entry e;
    if (p.contains("label")) {
      e.has_label = true;
      e.label = Canonical(p["label"]);
      if (p.contains("probabilities") && p["probabilities"].is_object() &&
          p["probabilities"].size() == 2 && p.contains("probability")) {
        e.positive_label = std::prev(p["probabilities"].end()).key();
        e.positive = e.label == e.positive_label;
      }
    } else if (p.contains("value") && p["value"].is_number()) {
      e.value = p["value"].get<double>();
    } else {
      p["predictionId"] = id;
      continue;
    }
    p["predictionId"] = id;
    logged.emplace_back(std::move(id), std::move(e));
  }
  d->log.AddBatch(logged);
  return Json{
      {"predictions", *std::move(predictions)},
      {"deploymentId", deployment_id},
      {"modelVersion", d->record.version.empty() ? d->record.training_job_id : d->record.version}};
}

absl::StatusOr<Json> ModelServer::Feedback(const std::string& deployment_id, const Json& items) {
  std::shared_ptr<LiveDeployment> d = Find(deployment_id);
  if (!d) {
    return absl::FailedPreconditionError(
        "deployment is not serving here; feedback is matched to recent predictions of a live "
        "deployment");
  }
  Json unmatched = Json::array();
  int64_t accepted = 0;
  for (const Json& item : items) {
    const std::string id = item.value("predictionId", "");
    PredictionLog::Entry e;
    if (!d->log.Take(id, &e)) {
      unmatched.push_back(id);
      continue;
    }
    const Json& actual = item["actual"];
    if (e.has_label) {
      const std::string a = Canonical(actual);
      const bool correct = a == e.label;
      int confusion = -1;
      if (!e.positive_label.empty()) {
        const bool actual_pos = a == e.positive_label;
        confusion = e.positive ? (actual_pos ? 0 : 1) : (actual_pos ? 2 : 3);
      }
      d->stats.RecordFeedback(correct, confusion, correct ? 0 : 1);
    } else {
      if (!actual.is_number()) {
        unmatched.push_back(id);
        continue;
      }
      d->stats.RecordFeedback(false, -1, std::fabs(actual.get<double>() - e.value));
    }
    ++accepted;
  }
  return Json{{"accepted", accepted}, {"unmatched", unmatched}};
}

Json ModelServer::Drift(const std::string& deployment_id) const {
  std::shared_ptr<LiveDeployment> d = Find(deployment_id);
  if (!d || !d->drift) return Json();
  return d->drift->Report();
}

Json ModelServer::HealthMetrics(const std::string& deployment_id) const {
  std::shared_ptr<LiveDeployment> d = Find(deployment_id);
  if (!d) return Json();
  const MinuteCounts recent = d->stats.Recent(5);
  const MinuteCounts last_minute = d->stats.Recent(1);
  const ProcessUsage usage = SampleProcessUsage();
  Json h = {{"requests", d->stats.total_requests()},
            {"errors", d->stats.total_errors()},
            {"errorRate", d->stats.total_requests()
                              ? 100.0 * d->stats.total_errors() / d->stats.total_requests()
                              : 0.0},
            {"window", "5m"},
            {"windowRequests", recent.requests},
            {"latencyMs",
             {{"p50", recent.LatencyPercentileMs(50)},
              {"p95", recent.LatencyPercentileMs(95)},
              {"p99", recent.LatencyPercentileMs(99)},
              {"mean", recent.requests ? recent.latency_sum_us / recent.requests / 1000.0 : 0.0}}},
            {"requestsPerSecond", last_minute.requests / 60.0},
            {"currentInstances", d->instances()},
            {"minInstances", d->record.auto_scaling.value("minInstances", 1)},
            {"maxInstances", d->record.auto_scaling.value("maxInstances", 5)},
            {"cpuUtilization", usage.cpu_percent},
            {"memoryUtilization", usage.memory_percent},
            {"memoryMiB", usage.rss_bytes / (1 << 20)},
            {"loadedAt", common::FormatIso8601(d->loaded_at)},
            {"alertThresholds", d->thresholds.ToJson()}};
  if (d->drift) h["drift"] = {{"rows", d->drift->rows()}, {"maxPsi", d->drift->MaxPsi()}};
  const Millis last = d->stats.last_request_at();
  h["lastPredictionAt"] = last ? Json(common::FormatIso8601(last)) : Json();
  return h;
}

std::vector<MinuteCounts> ModelServer::UnflushedMinutes(const std::string& deployment_id,
                                                        int64_t from, int64_t to) const {
  std::shared_ptr<LiveDeployment> d = Find(deployment_id);
  if (!d) return {};
  int64_t flushed = -1;
  {
    std::shared_lock lock(mu_);
    auto it = flushed_through_.find(deployment_id);
    if (it != flushed_through_.end()) flushed = it->second;
  }
  return d->stats.Minutes(std::max(from, flushed + 1), to);
}

void ModelServer::SyncOnce() {
  auto active = store_->ListDeployments(std::string("active"));
  if (!active.ok()) return;
  std::map<std::string, store::DeploymentRecord> want;
  for (auto& d : *active) want[d.id] = d;
  std::vector<std::string> loaded;
  {
    std::shared_lock lock(mu_);
    for (const auto& [id, d] : live_) loaded.push_back(id);
  }
  for (const auto& id : loaded) {
    if (!want.count(id)) {
      Unload(id);
      common::LogInfo("deployment unloaded", {{"deploymentId", id}});
    }
  }
  for (const auto& [id, rec] : want) {
    if (Find(id)) continue;
    if (auto s = LoadIfAbsent(rec); !s.ok()) {
      common::LogWarn("cannot load active deployment",
                      {{"deploymentId", id}, {"error", std::string(s.message())}});
    } else {
      common::LogInfo("deployment loaded", {{"deploymentId", id}});
    }
  }
}

void ModelServer::FlushOnce(bool include_current_minute) {
  const int64_t now_minute = clock_->NowMillis() / 60000;
  const int64_t through = include_current_minute ? now_minute : now_minute - 1;
  const ProcessUsage usage = SampleProcessUsage();
  std::vector<std::pair<std::string, std::shared_ptr<LiveDeployment>>> all;
  {
    std::shared_lock lock(mu_);
    for (const auto& [id, d] : live_) all.emplace_back(id, d);
  }
  for (auto& [id, d] : all) {
    FlushDeployment(id, *d, now_minute, through, &usage, /*check_alerts=*/true);
    if (!include_current_minute) {
      std::unique_lock lock(mu_);
      flushed_through_[id] = through;
    }
  }
}

void ModelServer::FlushDeployment(const std::string& id, LiveDeployment& d, int64_t now_minute,
                                  int64_t through, const ProcessUsage* usage, bool check_alerts) {
  int64_t from = now_minute - DeploymentStats::kSlots;
  {
    std::shared_lock lock(mu_);
    auto it = flushed_through_.find(id);
    if (it != flushed_through_.end()) from = std::max(from, it->second + 1);
  }
  // The current minute may be flushed (stop) and later re-flushed: upserts are idempotent.
  for (MinuteCounts m : d.stats.Minutes(from, through)) {
    if (m.requests == 0 && m.fb_total == 0) continue;
    if (usage != nullptr) {
      m.cpu_percent = usage->cpu_percent;
      m.memory_percent = usage->memory_percent;
    }
    store::PerformanceRecord r;
    r.deployment_id = id;
    r.timestamp = m.minute * 60000;
    r.metrics = m.ToJson();
    r.sample_size = static_cast<int64_t>(m.requests);
    r.created_at = clock_->NowMillis();
    if (auto s = store_->UpsertPerformance(r); !s.ok()) {
      common::LogWarn("metrics flush failed", {{"deploymentId", id}, {"error", s.ToString()}});
      break;
    }
    if (check_alerts) CheckAlerts(d, m);
  }
}

void ModelServer::CheckAlerts(LiveDeployment& d, const MinuteCounts& m) {
  const AlertThresholds& t = d.thresholds;
  auto raise = [&](const std::string& kind, const std::string& severity, double value,
                   double threshold, const std::string& message) {
    const Millis now = clock_->NowMillis();
    {
      std::lock_guard<std::mutex> lock(d.alerts_mu);
      auto it = d.last_alert.find(kind);
      if (it != d.last_alert.end() && now - it->second < 5 * 60000) return;  // one per 5 min
      d.last_alert[kind] = now;
    }
    store::AlertRecord a;
    a.deployment_id = d.record.id;
    a.kind = kind;
    a.severity = severity;
    a.value = value;
    a.threshold = threshold;
    a.message = message;
    a.raised_at = clock_->NowMillis();
    (void)store_->AppendAlert(a);
    common::LogWarn("alert raised", {{"deploymentId", d.record.id},
                                     {"kind", kind},
                                     {"value", value},
                                     {"threshold", threshold}});
  };
  if (static_cast<int64_t>(m.requests) >= t.min_requests) {
    const double p95 = m.LatencyPercentileMs(95);
    if (p95 > t.p95_latency_ms) {
      raise("latency", "warning", p95, t.p95_latency_ms,
            StrCat("p95 latency ", p95, " ms over the threshold of ", t.p95_latency_ms, " ms"));
    }
    const double err = 100.0 * m.errors / m.requests;
    if (err > t.error_rate_percent) {
      raise("error_rate", "critical", err, t.error_rate_percent,
            StrCat("error rate ", err, " % over the threshold of ", t.error_rate_percent, " %"));
    }
  }
  if (d.drift && d.drift->rows() >= 500) {
    const double psi = d.drift->MaxPsi();
    if (psi > t.drift_psi) {
      raise("drift", "warning", psi, t.drift_psi,
            StrCat("input or prediction distribution shifted from training: max PSI ", psi,
                   " over ", d.drift->rows(), " rows"));
    }
  }
  if (d.evaluation_accuracy >= 0 && m.fb_total >= 30) {
    const double acc = static_cast<double>(m.fb_correct) / m.fb_total;
    if (d.evaluation_accuracy - acc > t.accuracy_drop) {
      raise("accuracy_drop", "warning", acc, d.evaluation_accuracy - t.accuracy_drop,
            StrCat("accuracy ", acc, " on ", m.fb_total, " feedback items, evaluation had ",
                   d.evaluation_accuracy));
    }
  }
}

void ModelServer::AutoscaleOnce() {
  const ProcessUsage usage = SampleProcessUsage();
  std::vector<std::shared_ptr<LiveDeployment>> all;
  {
    std::shared_lock lock(mu_);
    for (const auto& [id, d] : live_) all.push_back(d);
  }
  for (auto& d : all) {
    const int min_i = std::max(1, d->record.auto_scaling.value("minInstances", 1));
    const int max_i = std::max(min_i, d->record.auto_scaling.value("maxInstances", 5));
    const double target = d->record.auto_scaling.value("targetCPU", 70.0);
    const int current = d->instances();
    int desired = current;
    if (d->stats.Recent(1).requests == 0) {
      desired = min_i;
    } else if (usage.cpu_percent > 0) {
      desired = static_cast<int>(std::ceil(current * usage.cpu_percent / target));
    }
    desired = std::clamp(desired, min_i, max_i);
    if (desired > current) {
      auto replica = LoadReplica(d->model_type, d->artifact_path);
      if (!replica.ok()) continue;
      std::unique_lock lock(d->replicas_mu);
      d->replicas.push_back(*std::move(replica));
    } else if (desired < current) {
      std::unique_lock lock(d->replicas_mu);
      d->replicas.pop_back();
    }
  }
}

std::string ModelServer::PrometheusText() const {
  std::string out =
      "# HELP tsml_predictions_total Prediction requests per deployment.\n"
      "# TYPE tsml_predictions_total counter\n";
  std::vector<std::pair<std::string, std::shared_ptr<LiveDeployment>>> all;
  {
    std::shared_lock lock(mu_);
    for (const auto& [id, d] : live_) all.emplace_back(id, d);
  }
  for (const auto& [id, d] : all) {
    common::StrAppend(&out, "tsml_predictions_total{deployment=\"", id, "\",name=\"",
                      monitor::PromLabel(d->record.deployment_name), "\"} ",
                      d->stats.total_requests(), "\n");
  }
  out +=
      "# HELP tsml_prediction_errors_total Failed prediction requests per deployment.\n"
      "# TYPE tsml_prediction_errors_total counter\n";
  for (const auto& [id, d] : all) {
    common::StrAppend(&out, "tsml_prediction_errors_total{deployment=\"", id, "\"} ",
                      d->stats.total_errors(), "\n");
  }
  out +=
      "# HELP tsml_prediction_latency_seconds Prediction latency over the last 5 minutes.\n"
      "# TYPE tsml_prediction_latency_seconds summary\n";
  for (const auto& [id, d] : all) {
    const MinuteCounts r = d->stats.Recent(5);
    for (double q : {0.5, 0.95, 0.99}) {
      common::StrAppend(&out, "tsml_prediction_latency_seconds{deployment=\"", id, "\",quantile=\"",
                        q, "\"} ", r.LatencyPercentileMs(q * 100) / 1000.0, "\n");
    }
    common::StrAppend(&out, "tsml_prediction_latency_seconds_sum{deployment=\"", id, "\"} ",
                      r.latency_sum_us / 1e6, "\n");
    common::StrAppend(&out, "tsml_prediction_latency_seconds_count{deployment=\"", id, "\"} ",
                      r.requests, "\n");
  }
  out +=
      "# HELP tsml_deployment_instances Predictor replicas per deployment.\n"
      "# TYPE tsml_deployment_instances gauge\n";
  for (const auto& [id, d] : all) {
    common::StrAppend(&out, "tsml_deployment_instances{deployment=\"", id, "\"} ", d->instances(),
                      "\n");
  }
  return out;
}

}  // namespace tsml::serve
