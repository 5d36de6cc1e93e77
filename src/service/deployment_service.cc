#include "service/deployment_service.h"

#include <cmath>
#include <map>

#include "common/errors.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "data/filters.h"
#include "service/validation.h"

namespace tsml::service {
namespace {

using common::FormatIso8601;
using common::Millis;
using common::StrCat;
using common::ValidationErrors;

const std::vector<std::string>& MonitorMetrics() {
  static const std::vector<std::string> k = {"accuracy",  "precision",      "recall",
                                             "f1Score",   "latency",        "throughput",
                                             "errorRate", "cpuUtilization", "memoryUtilization"};
  return k;
}

Json OptTime(const std::optional<Millis>& t) { return t ? Json(FormatIso8601(*t)) : Json(); }

// Start of the bucket holding `t` (UTC): hour, day, or ISO week (Monday).
Millis BucketStart(Millis t, const std::string& granularity) {
  constexpr Millis kHour = 3600000, kDay = 86400000;
  if (granularity == "hourly") return t - ((t % kHour) + kHour) % kHour;
  const Millis day = t - ((t % kDay) + kDay) % kDay;
  if (granularity == "daily") return day;
  const int64_t days = day / kDay;                   // 1970-01-01 was a Thursday
  const int64_t weekday = ((days + 3) % 7 + 7) % 7;  // 0 = Monday
  return day - weekday * kDay;
}

Millis BucketLength(const std::string& granularity) {
  return granularity == "hourly" ? 3600000 : granularity == "daily" ? 86400000 : 7 * 86400000LL;
}

// The spec's metrics from aggregated minute counts (null where undefined).
Json MetricsOf(const serve::MinuteCounts& m, double seconds, double cpu, double mem, int cpu_n) {
  auto ratio = [](double a, double b) { return b > 0 ? Json(a / b) : Json(); };
  Json out = Json::object();
  out["latency"] = m.requests ? Json(m.latency_sum_us / m.requests / 1000.0) : Json();
  out["throughput"] = seconds > 0 ? Json(m.requests / seconds) : Json();
  out["errorRate"] = m.requests ? Json(100.0 * m.errors / m.requests) : Json();
  out["cpuUtilization"] = cpu_n ? Json(cpu / cpu_n) : Json();
  out["memoryUtilization"] = cpu_n ? Json(mem / cpu_n) : Json();
  out["accuracy"] = ratio(static_cast<double>(m.fb_correct), static_cast<double>(m.fb_total));
  const double tp = static_cast<double>(m.fb_tp), fp = static_cast<double>(m.fb_fp),
               fn = static_cast<double>(m.fb_fn);
  const bool binary = m.fb_tp + m.fb_fp + m.fb_fn + m.fb_tn > 0;
  out["precision"] = binary ? ratio(tp, tp + fp) : out["accuracy"];
  out["recall"] = binary ? ratio(tp, tp + fn) : out["accuracy"];
  if (out["precision"].is_number() && out["recall"].is_number()) {
    const double p = out["precision"], r = out["recall"];
    out["f1Score"] = p + r > 0 ? Json(2 * p * r / (p + r)) : Json(0.0);
  } else {
    out["f1Score"] = Json();
  }
  if (m.fb_total && !binary && m.fb_correct == 0 && m.fb_abs_error > 0) {
    out["meanAbsoluteError"] = m.fb_abs_error / m.fb_total;
  }
  return out;
}

}  // namespace

DeploymentService::DeploymentService(DeploymentServiceOptions options, store::Store* store,
                                     serve::ModelServer* server, const common::Clock* clock,
                                     common::IdGenerator* ids)
    : options_(std::move(options)), store_(store), server_(server), clock_(clock), ids_(ids) {}

Json DeploymentService::ToJson(const store::DeploymentRecord& d) const {
  Json health = server_ ? server_->HealthMetrics(d.id) : Json();
  if (health.is_null()) health = d.health_metrics;
  return {{"deploymentId", d.id},
          {"trainingJobId", d.training_job_id},
          {"deploymentName", d.deployment_name},
          {"environment", d.environment},
          {"version", d.version},
          {"autoScaling", d.auto_scaling},
          {"status", d.status},
          {"endpointUrl", d.endpoint_url},
          {"deployedAt", OptTime(d.deployed_at)},
          {"failureReason", d.failure_reason ? Json(*d.failure_reason) : Json()},
          {"healthMetrics", health},
          {"alertThresholds", d.config.value("alertThresholds", Json::object())},
          {"createdBy", d.created_by},
          {"createdAt", FormatIso8601(d.created_at)},
          {"updatedAt", FormatIso8601(d.updated_at)}};
}

absl::StatusOr<store::DeploymentRecord> DeploymentService::Accessible(
    const auth::Principal& who, const std::string& deployment_id) {
  if (!common::IsValidObjectId(deployment_id)) return common::InvalidIdError("deploymentId");
  ASSIGN_OR_RETURN(store::DeploymentRecord d,
                   store_->GetDeployment(common::ToLower(deployment_id)));
  if (!who.CanAccess(d.created_by)) {
    return absl::PermissionDeniedError("this deployment belongs to another user");
  }
  return d;
}

absl::StatusOr<store::DeploymentRecord> DeploymentService::Deploy(const auth::Principal& who,
                                                                  const std::string& job_id,
                                                                  const Json& body) {
  ASSIGN_OR_RETURN(store::JobRecord job, AccessibleJob(*store_, who, job_id));
  if (job.status != "completed") {
    return absl::FailedPreconditionError(
        StrCat("job is ", job.status, "; only a completed job can be deployed"));
  }
  if (job.deployment_id) {
    auto current = store_->GetDeployment(*job.deployment_id);
    if (current.ok() && (current->status == "pending" || current->status == "deploying" ||
                         current->status == "active")) {
      return absl::FailedPreconditionError(StrCat("the model of this job is already deployed (",
                                                  current->id, " is ", current->status, ")"));
    }
  }
  // Field validation comes after the 409 checks, as the specification orders them.
  ValidationErrors errors;
  FieldChecker check(errors);
  check.NoUnknownFields(
      body, "", {"deploymentName", "environment", "version", "autoScaling", "alertThresholds"});
  store::DeploymentRecord d;
  if (auto name = check.String(FieldChecker::Member(body, "deploymentName"), "deploymentName", 1,
                               100, true)) {
    d.deployment_name = *name;
  }
  if (auto env = check.Enum(FieldChecker::Member(body, "environment"), "environment",
                            {"staging", "production"}, true)) {
    d.environment = *env;
  }
  d.version =
      check.String(FieldChecker::Member(body, "version"), "version", 0, 20, false).value_or("");
  Json scaling = {{"minInstances", 1}, {"maxInstances", 5}, {"targetCPU", 70}};
  if (const Json* as =
          check.Object(FieldChecker::Member(body, "autoScaling"), "autoScaling", false)) {
    check.NoUnknownFields(*as, "autoScaling.", {"minInstances", "maxInstances", "targetCPU"});
    auto min_i = check.Integer(FieldChecker::Member(*as, "minInstances"),
                               "autoScaling.minInstances", 1, 10, false);
    auto max_i = check.Integer(FieldChecker::Member(*as, "maxInstances"),
                               "autoScaling.maxInstances", 1, 50, false);
    auto target = check.Number(FieldChecker::Member(*as, "targetCPU"), "autoScaling.targetCPU", 10,
                               90, false);
    if (min_i) scaling["minInstances"] = *min_i;
    if (max_i) scaling["maxInstances"] = *max_i;
    if (target) scaling["targetCPU"] = *target;
    if (scaling["maxInstances"].get<int64_t>() < scaling["minInstances"].get<int64_t>() &&
        (min_i || max_i)) {
      check.Add("autoScaling.maxInstances", "must be greater than or equal to minInstances");
    }
  }
  d.auto_scaling = scaling;
  // Alert thresholds: the defaults, with what the body sets (driftPsi checked first).
  Json thresholds = serve::AlertThresholds().ToJson();
  if (const Json* at =
          check.Object(FieldChecker::Member(body, "alertThresholds"), "alertThresholds", false)) {
    check.NoUnknownFields(
        *at, "alertThresholds.",
        {"p95LatencyMs", "errorRatePercent", "accuracyDrop", "minRequests", "driftPsi"});
    struct Limit {
      const char* key;
      double lo, hi;
    };
    for (const Limit& l : {Limit{"driftPsi", 0.01, 10}, Limit{"p95LatencyMs", 0.01, 600000},
                           Limit{"errorRatePercent", 0, 100}, Limit{"accuracyDrop", 0, 1}}) {
      if (auto v = check.Number(FieldChecker::Member(*at, l.key), StrCat("alertThresholds.", l.key),
                                l.lo, l.hi, false)) {
        thresholds[l.key] = *v;
      }
    }
    if (auto v = check.Integer(FieldChecker::Member(*at, "minRequests"),
                               "alertThresholds.minRequests", 1, 1000000, false)) {
      thresholds["minRequests"] = *v;
    }
  }
  d.config["alertThresholds"] = std::move(thresholds);
  RETURN_IF_ERROR(errors.ToStatus());
  d.id = ids_->Next();
  d.training_job_id = job.id;
  d.status = "pending";
  d.endpoint_url = "/api/ml/predict/" + d.id;
  d.created_by = who.user_id;
  d.created_at = d.updated_at = clock_->NowMillis();
  RETURN_IF_ERROR(store_->CreateDeploymentForJob(d, options_.max_attempts));
  if (options_.on_queued) options_.on_queued();
  return d;
}

absl::Status DeploymentService::RunDeployTask(const store::TaskRecord& task) {
  ASSIGN_OR_RETURN(store::DeploymentRecord d, store_->GetDeployment(task.ref_id));
  if (d.status != "pending" && d.status != "deploying") return absl::OkStatus();  // stopped
  d.status = "deploying";
  d.updated_at = clock_->NowMillis();
  ASSIGN_OR_RETURN(bool moved, store_->UpdateDeploymentIf(d, {"pending", "deploying"}));
  if (!moved) return absl::OkStatus();
  // Load it here (verifies the checksum, warms it up); other serving processes load it when
  // they see it active.
  absl::Status loaded = server_ ? server_->Load(d) : absl::OkStatus();
  const Millis now = clock_->NowMillis();
  if (!loaded.ok()) {
    d.status = "failed";
    d.failure_reason = std::string(loaded.message());
    d.updated_at = now;
    (void)store_->UpdateDeploymentIf(d, {"deploying"});
    return loaded;
  }
  d.status = "active";
  d.deployed_at = now;
  d.updated_at = now;
  ASSIGN_OR_RETURN(bool activated, store_->UpdateDeploymentIf(d, {"deploying"}));
  if (!activated) {  // stopped meanwhile
    if (server_) server_->Unload(d.id);
    return absl::OkStatus();
  }
  // A new version under the same name and environment replaces the active one.
  ASSIGN_OR_RETURN(auto history, store_->DeploymentsNamed(d.deployment_name, d.environment));
  for (auto& old : history) {
    if (old.id == d.id || old.status != "active") continue;
    old.status = "inactive";
    old.updated_at = now;
    if (server_) {
      Json h = server_->HealthMetrics(old.id);
      if (!h.is_null()) old.health_metrics = h;
    }
    (void)store_->UpdateDeploymentIf(old, {"active"});
    if (server_) server_->Unload(old.id);
    common::LogInfo("deployment replaced", {{"deploymentId", old.id}, {"by", d.id}});
  }
  common::LogInfo("deployment active", {{"deploymentId", d.id}, {"jobId", d.training_job_id}});
  return absl::OkStatus();
}

absl::StatusOr<Json> DeploymentService::Status(const auth::Principal& who,
                                               const std::string& deployment_id) {
  ASSIGN_OR_RETURN(store::DeploymentRecord d, Accessible(who, deployment_id));
  Json out = ToJson(d);
  ASSIGN_OR_RETURN(auto history, store_->DeploymentsNamed(d.deployment_name, d.environment));
  Json versions = Json::array();
  for (const auto& h : history) {
    versions.push_back({{"deploymentId", h.id},
                        {"trainingJobId", h.training_job_id},
                        {"version", h.version},
                        {"status", h.status},
                        {"deployedAt", OptTime(h.deployed_at)},
                        {"createdAt", FormatIso8601(h.created_at)}});
  }
  out["versionHistory"] = versions;
  return out;
}

absl::StatusOr<Json> DeploymentService::Stop(const auth::Principal& who,
                                             const std::string& deployment_id) {
  ASSIGN_OR_RETURN(store::DeploymentRecord d, Accessible(who, deployment_id));
  if (d.status == "inactive" || d.status == "failed") {
    return absl::FailedPreconditionError(StrCat("deployment is already ", d.status));
  }
  if (server_) {
    Json h = server_->HealthMetrics(d.id);
    if (!h.is_null()) d.health_metrics = h;
  }
  d.status = "inactive";
  d.updated_at = clock_->NowMillis();
  ASSIGN_OR_RETURN(bool stopped, store_->UpdateDeploymentIf(d, {"pending", "deploying", "active"}));
  if (!stopped) return absl::FailedPreconditionError("deployment changed state; retry");
  if (server_) server_->Unload(d.id);
  return ToJson(d);
}

absl::StatusOr<Json> DeploymentService::Predict(const std::string& deployment_id,
                                                const Json& body) {
  if (!common::IsValidObjectId(deployment_id)) return common::InvalidIdError("deploymentId");
  if (!server_) return absl::UnavailableError("this process does not serve models");
  return server_->Predict(common::ToLower(deployment_id), body);
}

absl::StatusOr<store::JobRecord> DeploymentService::Retrain(const auth::Principal& who,
                                                            const std::string& deployment_id,
                                                            const Json& body) {
  ASSIGN_OR_RETURN(store::DeploymentRecord d, Accessible(who, deployment_id));
  ValidationErrors errors;
  FieldChecker check(errors);
  check.NoUnknownFields(body, "", {"trainingData", "incremental", "hyperparameters"});
  Json training_data;
  if (const Json* td = FieldChecker::Member(body, "trainingData")) {
    training_data = ValidateTrainingData(*td, "trainingData", errors);
  } else {
    check.Add("trainingData.source", "is required");
  }
  const bool incremental =
      check.Boolean(FieldChecker::Member(body, "incremental"), "incremental").value_or(false);
  const Json* hp =
      check.Object(FieldChecker::Member(body, "hyperparameters"), "hyperparameters", false);
  RETURN_IF_ERROR(errors.ToStatus());
  ASSIGN_OR_RETURN(store::JobRecord parent, store_->GetJob(d.training_job_id));
  store::JobRecord job;
  job.model_type = parent.model_type;
  job.training_data = training_data;
  // Keep the model's target and features unless the request names others.
  for (const char* key : {"target", "features"}) {
    if (!job.training_data.contains(key) && parent.training_data.contains(key)) {
      job.training_data[key] = parent.training_data[key];
    }
  }
  job.hyperparameters = parent.hyperparameters;
  if (hp) {
    for (auto it = hp->begin(); it != hp->end(); ++it) job.hyperparameters[it.key()] = it.value();
  }
  job.validation_strategy = parent.validation_strategy;
  job.compute_resources = parent.compute_resources;
  RETURN_IF_ERROR(PrepareJob(options_.trainers, options_.catalog, job));
  job.id = ids_->Next();
  job.status = "pending";
  job.stage = "queued";
  job.parent_job_id = parent.id;
  job.source_deployment_id = d.id;
  job.options = {{"incremental", incremental}};
  if (incremental && parent.model_artifact_id) {
    job.options["warmStartArtifactId"] = *parent.model_artifact_id;
  }
  job.created_by = who.user_id;
  job.created_at = job.updated_at = clock_->NowMillis();
  RETURN_IF_ERROR(store_->CreateJob(job, options_.max_attempts));
  if (options_.on_queued) options_.on_queued();
  return job;
}

absl::StatusOr<Json> DeploymentService::Performance(const auth::Principal& who,
                                                    const std::string& deployment_id,
                                                    const QueryParams& params) {
  ASSIGN_OR_RETURN(store::DeploymentRecord d, Accessible(who, deployment_id));
  ValidationErrors errors;
  std::map<std::string, std::string> single;
  std::vector<std::string> metrics;
  bool metrics_given = false;
  for (const auto& [k, v] : params) {
    if (k == "metrics" || k == "metrics[]") {
      metrics_given = true;
      for (const auto& m : common::Split(v, ',')) {
        const std::string name(common::StripWhitespace(m));
        if (name.empty()) continue;
        if (!IsOneOf(name, MonitorMetrics())) {
          errors.Add("metrics", StrCat("unknown metric '", name.substr(0, 40), "'; ",
                                       OneOfMessage(MonitorMetrics())));
        } else if (std::find(metrics.begin(), metrics.end(), name) == metrics.end()) {
          metrics.push_back(name);
        }
      }
    } else if (k == "startDate" || k == "endDate" || k == "granularity") {
      if (single.count(k)) {
        errors.Add(k, "must be given once");
      } else {
        single[k] = v;
      }
    } else {
      errors.Add(k, "unknown query parameter; known: startDate, endDate, granularity, metrics");
    }
  }
  if (metrics_given && metrics.empty() && errors.empty()) {
    errors.Add("metrics", "must name at least one metric");
  }
  const Millis now = clock_->NowMillis();
  constexpr Millis kSkew = 60000;  // client clocks run a little ahead
  std::optional<Millis> start, end;
  if (!single.count("startDate")) {
    errors.Add("startDate", "is required");
  } else if (!(start = common::ParseIso8601(single["startDate"]))) {
    errors.Add("startDate", "must be an ISO 8601 date");
  } else if (*start > now + kSkew) {
    errors.Add("startDate", "must not be in the future");
  }
  if (!single.count("endDate")) {
    errors.Add("endDate", "is required");
  } else if (!(end = common::ParseIso8601(single["endDate"]))) {
    errors.Add("endDate", "must be an ISO 8601 date");
  } else if (*end > now + kSkew) {
    errors.Add("endDate", "must not be in the future");
  } else if (start && *end <= *start) {
    errors.Add("endDate", "must be after startDate");
  }
  const std::string granularity = single.count("granularity") ? single["granularity"] : "daily";
  if (!IsOneOf(granularity, {"hourly", "daily", "weekly"})) {
    errors.Add("granularity", "must be one of: hourly, daily, weekly");
  }
  if (start && end && errors.empty() && (*end - *start) / BucketLength(granularity) > 10000) {
    errors.Add("granularity", "the range holds more than 10000 buckets; use a coarser granularity");
  }
  RETURN_IF_ERROR(errors.ToStatus());
  if (metrics.empty()) metrics = MonitorMetrics();

  // Stored minutes, then the minutes still in memory (not yet flushed).
  std::map<int64_t, serve::MinuteCounts> minutes;
  ASSIGN_OR_RETURN(auto stored, store_->ListPerformance(d.id, *start, *end));
  for (const auto& r : stored) {
    minutes[r.timestamp / 60000] = serve::MinuteCounts::FromJson(r.metrics, r.timestamp / 60000);
  }
  if (server_) {
    for (const auto& m : server_->UnflushedMinutes(d.id, *start / 60000, *end / 60000)) {
      if (m.minute * 60000 >= *start && m.minute * 60000 <= *end) minutes[m.minute] = m;
    }
  }
  struct Bucket {
    serve::MinuteCounts counts;
    double cpu = 0, mem = 0;
    int usage_n = 0;
  };
  std::map<Millis, Bucket> buckets;
  for (Millis b = BucketStart(*start, granularity); b <= *end; b += BucketLength(granularity)) {
    buckets[b];
  }
  Bucket total;
  for (const auto& [minute, m] : minutes) {
    Bucket& b = buckets[BucketStart(minute * 60000, granularity)];
    for (Bucket* t : {&b, &total}) {
      t->counts.Add(m);
      if (m.cpu_percent >= 0) {
        t->cpu += m.cpu_percent;
        t->mem += m.memory_percent;
        ++t->usage_n;
      }
    }
  }
  auto pick = [&](const Json& all) {
    Json out = Json::object();
    for (const auto& name : metrics) out[name] = all.contains(name) ? all[name] : Json();
    return out;
  };
  Json series = Json::array();
  const double bucket_s = BucketLength(granularity) / 1000.0;
  for (const auto& [ts, b] : buckets) {
    series.push_back({{"timestamp", FormatIso8601(ts)},
                      {"metrics", pick(MetricsOf(b.counts, bucket_s, b.cpu, b.mem, b.usage_n))},
                      {"sampleSize", b.counts.requests},
                      {"feedbackSize", b.counts.fb_total}});
  }
  const double range_s = std::max(1.0, (*end - *start) / 1000.0);
  Json summary = pick(MetricsOf(total.counts, range_s, total.cpu, total.mem, total.usage_n));
  summary["totalRequests"] = total.counts.requests;
  summary["totalErrors"] = total.counts.errors;
  summary["totalFeedback"] = total.counts.fb_total;
  summary["latencyP95"] = total.counts.LatencyPercentileMs(95);
  summary["latencyP99"] = total.counts.LatencyPercentileMs(99);
  Json drift = server_ ? server_->Drift(d.id) : Json();
  return Json{{"deploymentId", d.id},
              {"drift", drift},
              {"startDate", FormatIso8601(*start)},
              {"endDate", FormatIso8601(*end)},
              {"granularity", granularity},
              {"metrics", metrics},
              {"series", series},
              {"summary", summary}};
}

absl::StatusOr<Json> DeploymentService::Feedback(const auth::Principal& who,
                                                 const std::string& deployment_id,
                                                 const Json& body) {
  ASSIGN_OR_RETURN(store::DeploymentRecord d, Accessible(who, deployment_id));
  const Json* items = body.is_array() ? &body : nullptr;
  ValidationErrors errors;
  if (body.is_object()) {
    FieldChecker check(errors);
    check.NoUnknownFields(body, "", {"feedback"});
    items = FieldChecker::Member(body, "feedback");
  }
  if (!items || !items->is_array() || items->empty() || items->size() > 10000) {
    errors.Add("feedback", "must be an array of 1 to 10000 {predictionId, actual} items");
  } else {
    for (size_t i = 0; i < items->size(); ++i) {
      const Json& it = (*items)[i];
      const std::string f = StrCat("feedback[", i, "]");
      if (!it.is_object()) {
        errors.Add(f, "must be an object {predictionId, actual}");
        continue;
      }
      for (auto kv = it.begin(); kv != it.end(); ++kv) {
        if (kv.key() != "predictionId" && kv.key() != "actual") {
          errors.Add(f + "." + kv.key(), "unknown field");
        }
      }
      if (!it.contains("predictionId") || !it["predictionId"].is_string() ||
          !common::IsValidObjectId(it["predictionId"].get<std::string>())) {
        errors.Add(f + ".predictionId", "must be a prediction id (24 hex)");
      }
      if (!it.contains("actual") || it["actual"].is_null() || it["actual"].is_object() ||
          it["actual"].is_array()) {
        errors.Add(f + ".actual", "must be the true label or value");
      }
      if (errors.errors().size() > 50) break;
    }
  }
  RETURN_IF_ERROR(errors.ToStatus());
  if (d.status != "active") {
    return absl::FailedPreconditionError(StrCat("deployment is ", d.status));
  }
  if (!server_) return absl::UnavailableError("this process does not serve models");
  return server_->Feedback(d.id, *items);
}

absl::StatusOr<Json> DeploymentService::Alerts(const auth::Principal& who,
                                               const std::string& deployment_id) {
  ASSIGN_OR_RETURN(store::DeploymentRecord d, Accessible(who, deployment_id));
  ASSIGN_OR_RETURN(auto alerts, store_->ListAlerts(d.id, 200));
  Json out = Json::array();
  for (const auto& a : alerts) {
    out.push_back({{"alertId", a.id},
                   {"kind", a.kind},
                   {"severity", a.severity},
                   {"message", a.message},
                   {"value", a.value},
                   {"threshold", a.threshold},
                   {"raisedAt", FormatIso8601(a.raised_at)}});
  }
  return Json{{"deploymentId", d.id},
              {"alerts", out},
              {"thresholds", d.config.value("alertThresholds", Json::object())}};
}

}  // namespace tsml::service
