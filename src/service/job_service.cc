#include "service/job_service.h"

#include <charconv>

#include "common/strings.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "common/time_util.h"
#include "data/filters.h"
#include "service/validation.h"

namespace tsml::service {
namespace {

using common::FormatIso8601;
using common::Millis;
using common::ValidationErrors;

Json OptTime(const std::optional<Millis>& t) { return t ? Json(FormatIso8601(*t)) : Json(); }
Json OptStr(const std::optional<std::string>& s) { return s ? Json(*s) : Json(); }

// A strictly parsed non-negative decimal integer ("007" is fine, "1.5", "-1", "" are not).
std::optional<int64_t> ParseUint(std::string_view s) {
  if (s.empty() || s.size() > 12) return std::nullopt;
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

absl::Status CheckAccess(const auth::Principal& who, const std::string& owner) {
  if (!who.CanAccess(owner)) {
    return absl::PermissionDeniedError("this training job belongs to another user");
  }
  return absl::OkStatus();
}

}  // namespace

Json ValidateTrainingData(const Json& value, const std::string& prefix,
                          ValidationErrors& errors) {
  FieldChecker check(errors);
  Json out = Json::object();
  const Json* td = check.Object(&value, prefix, true);
  if (!td) return out;
  check.NoUnknownFields(*td, prefix + ".",
                        {"source", "filters", "dateRange", "target", "features"});
  if (auto source = check.Enum(FieldChecker::Member(*td, "source"), prefix + ".source",
                               DataSources(), true)) {
    out["source"] = *source;
  }
  if (const Json* f = check.Object(FieldChecker::Member(*td, "filters"), prefix + ".filters",
                                   false)) {
    out["filters"] = *f;
  }
  if (const Json* dr = check.Object(FieldChecker::Member(*td, "dateRange"),
                                    prefix + ".dateRange", false)) {
    check.NoUnknownFields(*dr, prefix + ".dateRange.", {"startDate", "endDate"});
    const Json* start_v = FieldChecker::Member(*dr, "startDate");
    const Json* end_v = FieldChecker::Member(*dr, "endDate");
    auto start = check.Date(start_v, prefix + ".dateRange.startDate", false);
    auto end = check.Date(end_v, prefix + ".dateRange.endDate", false);
    if (start && end && *end <= *start) {
      check.Add(prefix + ".dateRange.endDate", "must be after startDate");
    }
    if (end && end_v->get_ref<const std::string&>().size() == 10) {
      *end += 86400000 - 1;  // a date-only end covers that whole day
    }
    Json range = Json::object();
    if (start) range["startDate"] = FormatIso8601(*start);
    if (end) range["endDate"] = FormatIso8601(*end);
    out["dateRange"] = range;
  }
  if (auto target = check.String(FieldChecker::Member(*td, "target"), prefix + ".target", 1, 128,
                                 false)) {
    out["target"] = *target;
  }
  if (const Json* features = FieldChecker::Member(*td, "features")) {
    bool ok = features->is_array() && !features->empty() && features->size() <= 1000;
    if (ok) {
      for (const auto& f : *features) ok = ok && f.is_string() && !f.get<std::string>().empty();
    }
    if (ok) {
      out["features"] = *features;
    } else {
      check.Add(prefix + ".features", "must be a non-empty array of column names");
    }
  }
  return out;
}

absl::StatusOr<store::JobRecord> ValidateInitiateBody(const Json& body) {
  ValidationErrors errors;
  FieldChecker check(errors);
  if (!body.is_object()) {
    return common::ValidationError("body", "must be a JSON object");
  }
  check.NoUnknownFields(body, "", {"modelType", "trainingData", "hyperparameters",
                                   "validationStrategy", "computeResources"});
  store::JobRecord job;
  if (auto mt = check.Enum(FieldChecker::Member(body, "modelType"), "modelType", ModelTypes(),
                           true)) {
    job.model_type = *mt;
  }
  const Json* td = FieldChecker::Member(body, "trainingData");
  if (!td) {
    check.Add("trainingData.source", "is required");
  } else {
    job.training_data = ValidateTrainingData(*td, "trainingData", errors);
  }
  if (const Json* hp = check.Object(FieldChecker::Member(body, "hyperparameters"),
                                    "hyperparameters", false)) {
    job.hyperparameters = *hp;
  }
  job.validation_strategy = check.Enum(FieldChecker::Member(body, "validationStrategy"),
                                       "validationStrategy", ValidationStrategies(), false)
                                .value_or("train_test_split");
  Json resources = {{"cpu", 4}, {"memory", 8}, {"gpu", false}};
  if (const Json* cr = check.Object(FieldChecker::Member(body, "computeResources"),
                                    "computeResources", false)) {
    check.NoUnknownFields(*cr, "computeResources.", {"cpu", "memory", "gpu"});
    if (auto cpu = check.Integer(FieldChecker::Member(*cr, "cpu"), "computeResources.cpu", 1,
                                 32, false)) {
      resources["cpu"] = *cpu;
    }
    if (auto mem = check.Number(FieldChecker::Member(*cr, "memory"), "computeResources.memory",
                                1, 128, false)) {
      resources["memory"] = *mem;
    }
    if (auto gpu = check.Boolean(FieldChecker::Member(*cr, "gpu"), "computeResources.gpu")) {
      resources["gpu"] = *gpu;
    }
  }
  job.compute_resources = resources;
  RETURN_IF_ERROR(errors.ToStatus());
  return job;
}

absl::Status PrepareJob(const train::TrainerRegistry* trainers, data::DataCatalog* catalog,
                        store::JobRecord& job) {
  if (trainers) {
    ValidationErrors errors;
    if (const auto* specs = trainers->Hyperparams(job.model_type)) {
      job.hyperparameters = train::ValidateHyperparameters(*specs, job.hyperparameters, errors);
    }
    trainers->CheckRequest(job.model_type, job.validation_strategy, job.hyperparameters, errors);
    RETURN_IF_ERROR(errors.ToStatus());
  }
  if (catalog) {
    RETURN_IF_ERROR(data::ValidateTrainingRequest(*catalog, job.model_type, job.training_data));
  }
  return absl::OkStatus();
}

JobService::JobService(JobServiceOptions options, store::Store* store,
                       const common::Clock* clock, common::IdGenerator* ids)
    : options_(std::move(options)), store_(store), clock_(clock), ids_(ids) {}

absl::StatusOr<store::JobRecord> JobService::Initiate(const auth::Principal& who,
                                                      const Json& body) {
  ASSIGN_OR_RETURN(store::JobRecord job, ValidateInitiateBody(body));
  RETURN_IF_ERROR(PrepareJob(options_.trainers, options_.catalog, job));
  job.id = ids_->Next();
  job.status = "pending";
  job.stage = "queued";
  job.created_by = who.user_id;
  job.created_at = job.updated_at = clock_->NowMillis();
  RETURN_IF_ERROR(store_->CreateJob(job, options_.max_attempts));
  if (options_.on_queued) options_.on_queued();
  return job;
}

absl::StatusOr<store::JobRecord> AccessibleJob(store::JobStore& jobs, const auth::Principal& who,
                                               const std::string& job_id) {
  if (!common::IsValidObjectId(job_id)) return common::InvalidIdError("jobId");
  ASSIGN_OR_RETURN(store::JobRecord job, jobs.GetJob(common::ToLower(job_id)));
  RETURN_IF_ERROR(CheckAccess(who, job.created_by));
  return job;
}

absl::StatusOr<store::JobRecord> JobService::Get(const auth::Principal& who,
                                                 const std::string& job_id) {
  return AccessibleJob(*store_, who, job_id);
}

absl::StatusOr<store::JobPage> JobService::List(const auth::Principal& who,
                                                const QueryParams& params,
                                                store::JobQuery* effective) {
  ValidationErrors errors;
  store::JobQuery q;
  std::map<std::string, std::string> seen;
  static const std::vector<std::string> kKnown = {"modelType", "status", "startDate", "endDate",
                                                  "limit",     "offset", "sortBy",    "sortOrder"};
  for (const auto& [k, v] : params) {
    if (!IsOneOf(k, kKnown)) {
      errors.Add(k, common::StrCat("unknown query parameter; known: ", common::StrJoin(kKnown, ", ")));
    } else if (seen.count(k)) {
      errors.Add(k, "must be given once");
    } else {
      seen[k] = v;
    }
  }
  auto get = [&](const std::string& k) -> const std::string* {
    auto it = seen.find(k);
    return it == seen.end() ? nullptr : &it->second;
  };
  if (const auto* v = get("modelType")) {
    if (IsOneOf(*v, ModelTypes())) {
      q.model_type = *v;
    } else {
      errors.Add("modelType", OneOfMessage(ModelTypes()));
    }
  }
  if (const auto* v = get("status")) {
    if (IsOneOf(*v, JobStatuses())) {
      q.status = *v;
    } else {
      errors.Add("status", OneOfMessage(JobStatuses()));
    }
  }
  if (const auto* v = get("startDate")) {
    q.created_from = common::ParseIso8601(*v);
    if (!q.created_from) errors.Add("startDate", "must be an ISO 8601 date");
  }
  if (const auto* v = get("endDate")) {
    auto end = common::ParseIso8601(*v);
    if (!end) {
      errors.Add("endDate", "must be an ISO 8601 date");
    } else if (q.created_from && *end <= *q.created_from) {
      errors.Add("endDate", "must be after startDate");
    } else {
      q.created_to = ParseEndBound(*v);
    }
  }
  if (const auto* v = get("limit")) {
    auto n = ParseUint(*v);
    if (!n || *n < 1 || *n > 50) {
      errors.Add("limit", "must be an integer from 1 to 50");
    } else {
      q.limit = static_cast<int>(*n);
    }
  }
  if (const auto* v = get("offset")) {
    auto n = ParseUint(*v);
    if (!n || *n > 1000000000) {
      errors.Add("offset", "must be a non-negative integer");
    } else {
      q.offset = static_cast<int>(*n);
    }
  }
  if (const auto* v = get("sortBy")) {
    if (*v == "createdAt") {
      q.sort_by = store::SortField::kCreatedAt;
    } else if (*v == "startedAt") {
      q.sort_by = store::SortField::kStartedAt;
    } else if (*v == "completedAt") {
      q.sort_by = store::SortField::kCompletedAt;
    } else {
      errors.Add("sortBy", "must be one of: createdAt, startedAt, completedAt");
    }
  }
  if (const auto* v = get("sortOrder")) {
    if (*v == "asc" || *v == "desc") {
      q.descending = *v == "desc";
    } else {
      errors.Add("sortOrder", "must be one of: asc, desc");
    }
  }
  RETURN_IF_ERROR(errors.ToStatus());
  if (!who.Has(auth::kPrivAdmin)) q.created_by = who.user_id;
  if (effective) *effective = q;
  return store_->ListJobs(q);
}

absl::StatusOr<store::JobRecord> JobService::Cancel(const auth::Principal& who,
                                                    const std::string& job_id) {
  ASSIGN_OR_RETURN(store::JobRecord job, Get(who, job_id));
  ASSIGN_OR_RETURN(store::JobRecord cancelled, store_->CancelJob(job.id, clock_->NowMillis()));
  if (options_.on_cancelled) options_.on_cancelled(job.id);
  return cancelled;
}

absl::StatusOr<store::JobRecord> JobService::CompletedJob(const auth::Principal& who,
                                                          const std::string& job_id) {
  ASSIGN_OR_RETURN(store::JobRecord job, Get(who, job_id));
  if (job.status != "completed") {
    return absl::FailedPreconditionError(common::StrCat(
        "job is ", job.status, "; the evaluation is available once it has completed"));
  }
  if (job.evaluation_results.is_null()) {
    return absl::FailedPreconditionError("this job has no evaluation results");
  }
  return job;
}

Json JobService::ToJson(const store::JobRecord& j) {
  Json out = {{"jobId", j.id},
              {"modelType", j.model_type},
              {"status", j.status},
              {"progress", j.progress},
              {"stage", j.stage},
              {"trainingData", j.training_data},
              {"hyperparameters", j.hyperparameters},
              {"validationStrategy", j.validation_strategy},
              {"computeResources", j.compute_resources},
              {"startedAt", OptTime(j.started_at)},
              {"completedAt", OptTime(j.completed_at)},
              {"estimatedCompletionAt", OptTime(j.eta_at)},
              {"failureReason", OptStr(j.failure_reason)},
              {"modelArtifactId", OptStr(j.model_artifact_id)},
              {"deploymentId", OptStr(j.deployment_id)},
              {"parentJobId", OptStr(j.parent_job_id)},
              {"evaluationAvailable", j.status == "completed" && !j.evaluation_results.is_null()},
              {"attempts", j.attempts},
              {"createdBy", j.created_by},
              {"createdAt", FormatIso8601(j.created_at)},
              {"updatedAt", FormatIso8601(j.updated_at)}};
  if (j.source_deployment_id) out["sourceDeploymentId"] = *j.source_deployment_id;
  if (j.options.contains("incremental")) out["incremental"] = j.options["incremental"];
  if (j.evaluation_results.is_object() && j.evaluation_results.contains("trainingMode")) {
    out["trainingMode"] = j.evaluation_results["trainingMode"];
  }
  return out;
}

}  // namespace tsml::service
