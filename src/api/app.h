// Wires the service together: store, JWT verifier, services, workers, API and HTTP server.
// `tsml serve` runs one; HTTP tests run one in-process on a free port with fakes injected.
#ifndef TSML_API_APP_H_
#define TSML_API_APP_H_

#include <memory>

#include "absl/status/statusor.h"
#include "api/api.h"
#include "api/http_server.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/object_id.h"
#include "data/catalog.h"
#include "jobs/worker_pool.h"
#include "monitor/http_metrics.h"
#include "serve/model_server.h"
#include "service/deployment_service.h"
#include "service/job_service.h"
#include "store/store.h"
#include "train/trainer.h"

namespace tsml::api {

struct AppOptions {
  common::Config config;
  const common::Clock* clock = nullptr;        // default: system clock
  const train::TrainerRegistry* trainers = nullptr;  // required
  const train::PredictorRegistry* predictors = nullptr;  // required to serve models
  serve::ModelServerOptions serving;
  jobs::WorkerPoolOptions worker_overrides;    // heartbeat/poll tuning (tests)
  bool start_http = true;
};

class App {
 public:
  // Opens and migrates the store, checks the JWT configuration. Does not start serving.
  static absl::StatusOr<std::unique_ptr<App>> Create(AppOptions options);
  ~App();

  absl::Status Start();  // workers, then HTTP
  // Graceful: stop accepting, finish in-flight requests, stop workers (leases released).
  void Stop();

  uint16_t port() const { return server_ ? server_->port() : 0; }
  store::Store& store() { return *store_; }
  jobs::WorkerPool& workers() { return *workers_; }
  Api& api() { return *api_; }
  store::Database& data_db() { return *data_db_; }
  serve::ModelServer& model_server() { return *model_server_; }
  service::ExportService& exports() { return *exports_; }

 private:
  App() = default;

  AppOptions options_;
  const common::Clock* clock_ = nullptr;
  std::unique_ptr<common::IdGenerator> ids_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::Database> data_db_;
  std::unique_ptr<data::DataCatalog> catalog_;
  std::unique_ptr<auth::JwtVerifier> verifier_;
  std::unique_ptr<monitor::HttpMetrics> metrics_;
  std::unique_ptr<jobs::WorkerPool> workers_;
  std::unique_ptr<service::JobService> jobs_;
  std::unique_ptr<serve::ModelServer> model_server_;
  std::unique_ptr<service::DeploymentService> deployments_;
  std::unique_ptr<service::ExportService> exports_;
  std::unique_ptr<Api> api_;
  std::unique_ptr<HttpServer> server_;
  bool stopped_ = false;
};

// Builds the JWT verifier from the configuration (secret and/or public key file).
absl::StatusOr<std::unique_ptr<auth::JwtVerifier>> MakeVerifierFromConfig(
    const common::Config& config, const common::Clock* clock);

}  // namespace tsml::api

#endif  // TSML_API_APP_H_
