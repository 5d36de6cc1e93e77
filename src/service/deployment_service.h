// Deployment, serving, monitoring and retraining use cases (spec endpoints 6–9, predict,
// feedback, alerts). Access: the deployment's creator or a holder of ml:admin.
#ifndef TSML_SERVICE_DEPLOYMENT_SERVICE_H_
#define TSML_SERVICE_DEPLOYMENT_SERVICE_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "auth/principal.h"
#include "common/clock.h"
#include "common/json_util.h"
#include "common/object_id.h"
#include "serve/model_server.h"
#include "service/job_service.h"
#include "store/store.h"
#include "train/trainer.h"

namespace tsml::service {

struct DeploymentServiceOptions {
  int max_attempts = 3;
  std::function<void()> on_queued;  // wakes in-process workers
  const train::TrainerRegistry* trainers = nullptr;
  data::DataCatalog* catalog = nullptr;
};

class DeploymentService {
 public:
  DeploymentService(DeploymentServiceOptions options, store::Store* store,
                    serve::ModelServer* server, const common::Clock* clock,
                    common::IdGenerator* ids);

  absl::StatusOr<store::DeploymentRecord> Deploy(const auth::Principal& who,
                                                 const std::string& job_id, const Json& body);
  absl::StatusOr<Json> Status(const auth::Principal& who, const std::string& deployment_id);
  absl::StatusOr<Json> Stop(const auth::Principal& who, const std::string& deployment_id);
  absl::StatusOr<store::JobRecord> Retrain(const auth::Principal& who,
                                           const std::string& deployment_id, const Json& body);
  absl::StatusOr<Json> Performance(const auth::Principal& who, const std::string& deployment_id,
                                   const QueryParams& params);
  absl::StatusOr<Json> Feedback(const auth::Principal& who, const std::string& deployment_id,
                                const Json& body);
  absl::StatusOr<Json> Alerts(const auth::Principal& who, const std::string& deployment_id);
  absl::StatusOr<Json> Predict(const std::string& deployment_id, const Json& body);

  // The deploy task (run by a worker): pending → deploying → active (or failed), the
  // previous active version of the same name and environment → inactive.
  absl::Status RunDeployTask(const store::TaskRecord& task);

  Json ToJson(const store::DeploymentRecord& d) const;

 private:
  absl::StatusOr<store::DeploymentRecord> Accessible(const auth::Principal& who,
                                                     const std::string& deployment_id);

  DeploymentServiceOptions options_;
  store::Store* store_;
  serve::ModelServer* server_;
  const common::Clock* clock_;
  common::IdGenerator* ids_;
};

}  // namespace tsml::service

#endif  // TSML_SERVICE_DEPLOYMENT_SERVICE_H_
