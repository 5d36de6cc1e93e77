// Model export use cases (spec endpoint 10, export status, signed downloads) and the export
// task run by workers.
#ifndef TSML_SERVICE_EXPORT_SERVICE_H_
#define TSML_SERVICE_EXPORT_SERVICE_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "auth/principal.h"
#include "common/cancellation.h"
#include "common/clock.h"
#include "common/json_util.h"
#include "common/object_id.h"
#include "store/sql.h"
#include "store/store.h"

namespace tsml::service {

struct ExportServiceOptions {
  int max_attempts = 3;
  std::function<void()> on_queued;
  std::string link_secret;  // HMAC key of download links
  int64_t link_ttl_seconds = 86400;
  std::string artifact_dir;            // exports are written under <artifact_dir>/exports
  std::string python;                  // converters' interpreter
  store::Database* data_db = nullptr;  // sample rows for exports
};

class ExportService {
 public:
  ExportService(ExportServiceOptions options, store::Store* store, const common::Clock* clock,
                common::IdGenerator* ids);

  absl::StatusOr<store::ExportRecord> Create(const auth::Principal& who, const std::string& job_id,
                                             const Json& body);
  absl::StatusOr<store::ExportRecord> Get(const auth::Principal& who, const std::string& export_id);
  // Checks a download link (no token); returns the export whose file to send. PermissionDenied
  // for a bad signature or an expired link.
  absl::StatusOr<store::ExportRecord> Download(const std::string& export_id,
                                               const std::string& expires,
                                               const std::string& signature);
  // The export worker's task. `cancel` (shutdown, lost lease) stops the converters; the export
  // then goes back to pending for the worker that picks the task up next.
  absl::Status RunExportTask(const store::TaskRecord& task,
                             const common::CancellationToken& cancel);

  Json ToJson(const store::ExportRecord& e) const;
  std::string SignedUrl(const std::string& export_id, common::Millis expires_at) const;

 private:
  std::string Sign(const std::string& export_id, int64_t expires_s) const;
  absl::Status RunExportTaskImpl(const store::TaskRecord& task,
                                 const common::CancellationToken& cancel);

  ExportServiceOptions options_;
  store::Store* store_;
  const common::Clock* clock_;
  common::IdGenerator* ids_;
};

}  // namespace tsml::service

#endif  // TSML_SERVICE_EXPORT_SERVICE_H_
