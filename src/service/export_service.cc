#include "service/export_service.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <filesystem>

#include "common/errors.h"
#include "common/file_util.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "export/export.h"
#include "service/job_service.h"
#include "service/validation.h"

namespace tsml::service {
namespace {

using common::FormatIso8601;
using common::StrCat;

const std::vector<std::string>& Formats() {
  static const std::vector<std::string> k = {"onnx", "tensorflow", "pytorch", "sklearn", "pmml"};
  return k;
}

}  // namespace

ExportService::ExportService(ExportServiceOptions options, store::Store* store,
                             const common::Clock* clock, common::IdGenerator* ids)
    : options_(std::move(options)), store_(store), clock_(clock), ids_(ids) {}

std::string ExportService::Sign(const std::string& export_id, int64_t expires_s) const {
  const std::string msg = StrCat(export_id, ".", expires_s);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  HMAC(EVP_sha256(), options_.link_secret.data(), static_cast<int>(options_.link_secret.size()),
       reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), md, &len);
  return common::ToHex(md, len);
}

std::string ExportService::SignedUrl(const std::string& export_id,
                                     common::Millis expires_at) const {
  const int64_t expires_s = expires_at / 1000;
  return StrCat("/api/ml/exports/", export_id, "/download?expires=", expires_s,
                "&signature=", Sign(export_id, expires_s));
}

Json ExportService::ToJson(const store::ExportRecord& e) const {
  Json out = {{"exportId", e.id},
              {"trainingJobId", e.training_job_id},
              {"format", e.format},
              {"includeMetadata", e.include_metadata},
              {"status", e.status},
              {"failureReason", e.failure_reason ? Json(*e.failure_reason) : Json()},
              {"requestedBy", e.requested_by},
              {"createdAt", FormatIso8601(e.created_at)},
              {"completedAt", e.completed_at ? Json(FormatIso8601(*e.completed_at)) : Json()}};
  if (e.status == "completed") {
    out["downloadUrl"] = e.download_url;
    out["expiresAt"] = e.expires_at ? Json(FormatIso8601(*e.expires_at)) : Json();
    out["fileSize"] = e.file_size;
    out["checksum"] = e.checksum;
    if (e.report.contains("parity")) out["parity"] = e.report["parity"];
  }
  out["statusUrl"] = "/api/ml/exports/" + e.id;
  return out;
}

absl::StatusOr<store::ExportRecord> ExportService::Create(const auth::Principal& who,
                                                          const std::string& job_id,
                                                          const Json& body) {
  ASSIGN_OR_RETURN(store::JobRecord job, AccessibleJob(*store_, who, job_id));
  if (job.status != "completed" || !job.model_artifact_id) {
    return absl::FailedPreconditionError(
        StrCat("job is ", job.status, "; only a completed job's model can be exported"));
  }
  common::ValidationErrors errors;
  FieldChecker check(errors);
  check.NoUnknownFields(body, "", {"format", "includeMetadata"});
  auto format = check.Enum(FieldChecker::Member(body, "format"), "format", Formats(), true);
  const bool include_metadata =
      check.Boolean(FieldChecker::Member(body, "includeMetadata"), "includeMetadata")
          .value_or(true);
  RETURN_IF_ERROR(errors.ToStatus());
  // The trained algorithm narrows the type's formats (e.g. fastText has no portable form).
  std::string algorithm;
  if (auto artifact = store_->GetArtifact(*job.model_artifact_id); artifact.ok()) {
    const Json a = artifact->metadata.value("algorithm", Json());
    if (a.is_string()) algorithm = a.get<std::string>();
  }
  if (absl::Status s = exporting::CheckFormatSupported(job.model_type, *format, algorithm);
      !s.ok()) {
    return common::ValidationError("format", std::string(s.message()));
  }
  store::ExportRecord e;
  e.id = ids_->Next();
  e.training_job_id = job.id;
  e.format = *format;
  e.include_metadata = include_metadata;
  e.status = "pending";
  e.requested_by = who.user_id;
  e.created_at = clock_->NowMillis();
  RETURN_IF_ERROR(store_->CreateExport(e));
  RETURN_IF_ERROR(
      store_->Enqueue(store::TaskKind::kExport, e.id, options_.max_attempts, e.created_at));
  if (options_.on_queued) options_.on_queued();
  return e;
}

absl::StatusOr<store::ExportRecord> ExportService::Get(const auth::Principal& who,
                                                       const std::string& export_id) {
  if (!common::IsValidObjectId(export_id)) return common::InvalidIdError("exportId");
  ASSIGN_OR_RETURN(store::ExportRecord e, store_->GetExport(common::ToLower(export_id)));
  if (!who.CanAccess(e.requested_by)) {
    return absl::PermissionDeniedError("this export belongs to another user");
  }
  return e;
}

absl::StatusOr<store::ExportRecord> ExportService::Download(const std::string& export_id,
                                                            const std::string& expires,
                                                            const std::string& signature) {
  if (!common::IsValidObjectId(export_id)) return common::InvalidIdError("exportId");
  int64_t expires_s = 0;
  if (expires.empty() || expires.size() > 12 ||
      expires.find_first_not_of("0123456789") != std::string::npos) {
    return absl::PermissionDeniedError("the download link is invalid");
  }
  expires_s = std::stoll(expires);
  const std::string expected = Sign(common::ToLower(export_id), expires_s);
  if (signature.size() != expected.size() ||
      CRYPTO_memcmp(signature.data(), expected.data(), expected.size()) != 0) {
    return absl::PermissionDeniedError("the download link's signature is not valid");
  }
  if (clock_->NowMillis() / 1000 > expires_s) {
    return absl::PermissionDeniedError("the download link has expired; request the export again");
  }
  ASSIGN_OR_RETURN(store::ExportRecord e, store_->GetExport(common::ToLower(export_id)));
  if (e.status != "completed") {
    return absl::FailedPreconditionError(StrCat("export is ", e.status));
  }
  return e;
}

absl::Status ExportService::RunExportTask(const store::TaskRecord& task,
                                          const common::CancellationToken& cancel) {
  try {
    return RunExportTaskImpl(task, cancel);
  } catch (const std::exception& ex) {
    // Exceptions stop here: the export fails with a reason instead of staying "processing".
    auto e = store_->GetExport(task.ref_id);
    if (e.ok()) {
      e->status = "failed";
      e->failure_reason = common::StrCat("the export crashed: ", ex.what());
      e->completed_at = clock_->NowMillis();
      (void)store_->UpdateExport(*e);
    }
    return absl::InternalError(common::StrCat("export crashed: ", ex.what()));
  }
}

absl::Status ExportService::RunExportTaskImpl(const store::TaskRecord& task,
                                              const common::CancellationToken& cancel) {
  ASSIGN_OR_RETURN(store::ExportRecord e, store_->GetExport(task.ref_id));
  if (e.status != "pending" && e.status != "processing") return absl::OkStatus();
  e.status = "processing";
  RETURN_IF_ERROR(store_->UpdateExport(e));
  auto fail = [&](const absl::Status& s) {
    e.status = "failed";
    e.failure_reason = std::string(s.message());
    e.completed_at = clock_->NowMillis();
    (void)store_->UpdateExport(e);
    return s;
  };
  auto job = store_->GetJob(e.training_job_id);
  if (!job.ok()) return fail(job.status());
  auto artifact = store_->GetArtifact(job->model_artifact_id.value_or(""));
  if (!artifact.ok()) return fail(artifact.status());
  auto sum = common::Sha256File(artifact->file_path);
  if (!sum.ok() || *sum != artifact->checksum) {
    return fail(absl::DataLossError("the model artifact's checksum does not match"));
  }
  const std::string dir = StrCat(options_.artifact_dir, "/exports/", e.id);
  exporting::ExportInput in;
  in.model_type = job->model_type;
  in.format = e.format;
  in.include_metadata = e.include_metadata;
  in.bundle_path = artifact->file_path;
  in.job = JobService::ToJson(*job);
  in.job["evaluation"] = {{"metrics", job->evaluation_results.value("metrics", Json::object())},
                          {"baseline", job->evaluation_results.value("baseline", Json::object())}};
  in.data_db = options_.data_db;
  in.work_dir = dir + "/work";
  in.output_zip = StrCat(dir, "/tsml-", job->model_type, "-", e.format, ".zip");
  in.python = options_.python;
  std::error_code ec;
  std::filesystem::create_directories(in.work_dir, ec);
  auto result = exporting::RunExport(in, &cancel);
  std::filesystem::remove_all(in.work_dir, ec);
  if (!result.ok()) {
    std::filesystem::remove(in.output_zip, ec);
    if (cancel.cancelled()) {  // interrupted, not failed: the next worker exports it again
      e.status = "pending";
      (void)store_->UpdateExport(e);
      return absl::CancelledError("export interrupted");
    }
    return fail(result.status());
  }
  const common::Millis now = clock_->NowMillis();
  e.status = "completed";
  e.file_path = in.output_zip;
  e.file_size = result->file_size;
  e.checksum = result->checksum;
  e.expires_at = now + options_.link_ttl_seconds * 1000;
  e.download_url = SignedUrl(e.id, *e.expires_at);
  e.report = {{"parity", result->parity}};
  e.completed_at = now;
  RETURN_IF_ERROR(store_->UpdateExport(e));
  common::LogInfo("export completed",
                  {{"exportId", e.id}, {"format", e.format}, {"bytes", e.file_size}});
  return absl::OkStatus();
}

}  // namespace tsml::service
