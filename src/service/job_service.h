// Training job use cases (spec endpoints 1–4). Handlers call these after authentication and
// the privilege check; access checks (owner or ml:admin) happen here, after the 404.
#ifndef TSML_SERVICE_JOB_SERVICE_H_
#define TSML_SERVICE_JOB_SERVICE_H_

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "auth/principal.h"
#include "common/clock.h"
#include "common/errors.h"
#include "common/json_util.h"
#include "common/object_id.h"
#include "data/catalog.h"
#include "train/trainer.h"
#include "store/store.h"

namespace tsml::service {

// Query parameters as received (name, raw value), in order; names may repeat.
using QueryParams = std::vector<std::pair<std::string, std::string>>;

struct JobServiceOptions {
  int max_attempts = 3;
  // Called after a job is queued (wakes in-process workers).
  std::function<void()> on_queued;
  // Called after a job is cancelled (stops it at once when it runs in this process).
  std::function<void(const std::string& job_id)> on_cancelled;
  // When set, requests are checked against the data sources at submission (columns, filter
  // types, whether the source can serve the model type).
  data::DataCatalog* catalog = nullptr;
  // When set, hyperparameters are validated against the model type's schema (defaults filled
  // in) and the model type's own request checks run.
  const train::TrainerRegistry* trainers = nullptr;
};

class JobService {
 public:
  JobService(JobServiceOptions options, store::Store* store, const common::Clock* clock,
             common::IdGenerator* ids);

  absl::StatusOr<store::JobRecord> Initiate(const auth::Principal& who, const Json& body);
  absl::StatusOr<store::JobRecord> Get(const auth::Principal& who, const std::string& job_id);
  absl::StatusOr<store::JobPage> List(const auth::Principal& who, const QueryParams& params,
                                      store::JobQuery* effective_query);
  absl::StatusOr<store::JobRecord> Cancel(const auth::Principal& who,
                                          const std::string& job_id);
  // The job, once completed (FailedPrecondition → 409 before that).
  absl::StatusOr<store::JobRecord> CompletedJob(const auth::Principal& who,
                                                const std::string& job_id);

  // The job as the API shows it (CONTRACT §6).
  static Json ToJson(const store::JobRecord& job);

 private:
  JobServiceOptions options_;
  store::Store* store_;
  const common::Clock* clock_;
  common::IdGenerator* ids_;
};

// Validates an initiate body; on success returns the job record to insert (id, status,
// timestamps left for the caller), with defaults filled in. Exposed for tests and retrain.
absl::StatusOr<store::JobRecord> ValidateInitiateBody(const Json& body);

// The job `job_id` if `who` may see it: InvalidId (400), NotFound (404), PermissionDenied (403),
// in that order. Shared by every use case that takes a job id.
absl::StatusOr<store::JobRecord> AccessibleJob(store::JobStore& jobs, const auth::Principal& who,
                                               const std::string& job_id);

// Checks a job built from a request against the model type's hyperparameter schema (filling in
// defaults), its own request checks, and the data sources. Shared by initiate and retrain.
absl::Status PrepareJob(const train::TrainerRegistry* trainers, data::DataCatalog* catalog,
                        store::JobRecord& job);

// Shared validation of a `trainingData` object (initiate and retrain). Adds field errors
// prefixed with `prefix`; returns the normalized object.
Json ValidateTrainingData(const Json& value, const std::string& prefix,
                          common::ValidationErrors& errors);

}  // namespace tsml::service

#endif  // TSML_SERVICE_JOB_SERVICE_H_
