#include "api/app.h"

#include <filesystem>

#include "common/strings.h"
#include "common/file_util.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "store/sql_stores.h"

namespace tsml::api {

absl::StatusOr<std::unique_ptr<auth::JwtVerifier>> MakeVerifierFromConfig(
    const common::Config& config, const common::Clock* clock) {
  auth::JwtVerifierOptions o;
  o.hs256_secret = config.jwt_secret;
  o.issuer = config.jwt_issuer;
  o.audience = config.jwt_audience;
  if (!config.jwt_public_key_file.empty()) {
    auto pem = common::ReadFile(config.jwt_public_key_file);
    if (!pem.ok()) {
      return absl::InvalidArgumentError("TSML_JWT_PUBLIC_KEY_FILE cannot be read");
    }
    o.public_key_pem = *pem;
  }
  if (o.hs256_secret.empty() && o.public_key_pem.empty()) {
    return absl::InvalidArgumentError(
        "no JWT key configured: set TSML_JWT_SECRET (HS256) or TSML_JWT_PUBLIC_KEY_FILE "
        "(RS256/ES256); `make run` creates var/jwt.secret for you");
  }
  if (!o.hs256_secret.empty() && o.hs256_secret.size() < 32) {
    return absl::InvalidArgumentError("TSML_JWT_SECRET must be at least 32 characters");
  }
  return auth::MakeJwtVerifier(std::move(o), clock);
}

absl::StatusOr<std::unique_ptr<App>> App::Create(AppOptions options) {
  std::unique_ptr<App> app(new App());
  app->clock_ = options.clock ? options.clock : common::SystemClock::Default();
  app->ids_ = std::make_unique<common::IdGenerator>(app->clock_);
  const common::Config& config = options.config;
  ASSIGN_OR_RETURN(app->verifier_, MakeVerifierFromConfig(config, app->clock_));
  store::DatabaseOptions db_options;
  db_options.pool_size = config.db_pool_size;
  ASSIGN_OR_RETURN(app->store_,
                   store::OpenStore(config.database_url, app->ids_.get(), *app->clock_,
                                    db_options));
  ASSIGN_OR_RETURN(app->data_db_, store::OpenDatabase(config.data_url, db_options));
  {
    auto conn_status = app->data_db_->Run(
        [](store::SqlConnection& c) { return data::EnsureCatalogTables(c); });
    RETURN_IF_ERROR(conn_status);
  }
  app->catalog_ = std::make_unique<data::DataCatalog>(app->data_db_.get());
  std::error_code ec;
  std::filesystem::create_directories(config.artifact_dir, ec);

  static const train::PredictorRegistry kNoPredictors;
  app->model_server_ = std::make_unique<serve::ModelServer>(
      options.serving, app->store_.get(),
      options.predictors ? options.predictors : &kNoPredictors, app->clock_, app->ids_.get());
  service::DeploymentServiceOptions dso;
  dso.max_attempts = config.max_attempts;
  dso.trainers = options.trainers;
  dso.catalog = app->catalog_.get();

  jobs::WorkerPoolOptions wo = options.worker_overrides;
  wo.workers = config.workers;
  wo.lease_ms = config.lease_seconds * 1000LL;
  wo.artifact_dir = config.artifact_dir;
  wo.data_url = config.data_url;
  wo.data_db = app->data_db_.get();
  App* self = app.get();  // the pool is stopped before the services go away
  wo.handlers[store::TaskKind::kDeploy] = [self](const store::TaskRecord& t,
                                                 const common::CancellationToken&) {
    return self->deployments_->RunDeployTask(t);  // seconds at most: runs to its end
  };
  wo.handlers[store::TaskKind::kExport] = [self](const store::TaskRecord& t,
                                                 const common::CancellationToken& cancel) {
    return self->exports_->RunExportTask(t, cancel);
  };
  app->workers_ = std::make_unique<jobs::WorkerPool>(wo, app->store_.get(), options.trainers,
                                                     app->clock_, app->ids_.get());

  service::JobServiceOptions jo;
  jo.max_attempts = config.max_attempts;
  jo.catalog = app->catalog_.get();
  jo.trainers = options.trainers;
  jobs::WorkerPool* workers = app->workers_.get();
  jo.on_queued = [workers] { workers->Notify(); };
  jo.on_cancelled = [workers](const std::string& id) { workers->CancelLocal(id); };
  app->jobs_ = std::make_unique<service::JobService>(jo, app->store_.get(), app->clock_,
                                                     app->ids_.get());
  app->deployments_ = std::make_unique<service::DeploymentService>(
      [&] {
        service::DeploymentServiceOptions o = dso;
        o.on_queued = [workers] { workers->Notify(); };
        return o;
      }(),
      app->store_.get(), app->model_server_.get(), app->clock_, app->ids_.get());
  app->metrics_ = std::make_unique<monitor::HttpMetrics>();

  ApiDeps deps;
  deps.verifier = app->verifier_.get();
  deps.store = app->store_.get();
  deps.jobs = app->jobs_.get();
  deps.deployments = app->deployments_.get();
  {
    service::ExportServiceOptions eo;
    eo.max_attempts = config.max_attempts;
    eo.on_queued = [workers] { workers->Notify(); };
    eo.link_secret = !config.export_link_secret.empty()
                         ? config.export_link_secret
                         : common::Sha256Hex(config.jwt_secret + "\ntsml export links");
    if (config.export_link_secret.empty() && config.jwt_secret.empty()) {
      eo.link_secret = common::Sha256Hex(config.jwt_public_key_file + config.database_url);
    }
    eo.link_ttl_seconds = config.export_link_ttl_seconds;
    eo.artifact_dir = config.artifact_dir;
    eo.python = config.python;
    if (eo.python.empty()) {
      // The venv `make build` creates: beside the working folder or the binary (build/tsml).
      std::error_code ec;
      const auto exe_dir = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path();
      for (const auto& candidate : {std::filesystem::path(".venv/bin/python"),
                                    exe_dir / "../.venv/bin/python"}) {
        if (std::filesystem::exists(candidate, ec)) {
          eo.python = std::filesystem::absolute(candidate, ec).lexically_normal().string();
          break;
        }
      }
    }
    eo.data_db = app->data_db_.get();
    app->exports_ = std::make_unique<service::ExportService>(eo, app->store_.get(), app->clock_,
                                                             app->ids_.get());
  }
  deps.exports = app->exports_.get();
  deps.metrics = app->metrics_.get();
  deps.clock = app->clock_;
  deps.catalog = app->catalog_.get();
  serve::ModelServer* model_server = app->model_server_.get();
  deps.extra_metrics = [workers, model_server] {
    return model_server->PrometheusText() + common::StrCat(
        "# HELP tsml_worker_running_jobs Jobs running in this process.\n"
        "# TYPE tsml_worker_running_jobs gauge\ntsml_worker_running_jobs ",
        workers->running_jobs(), "\n");
  };
  app->api_ = std::make_unique<Api>(std::move(deps));
  app->options_ = std::move(options);
  return app;
}

App::~App() { Stop(); }

absl::Status App::Start() {
  model_server_->SyncOnce();  // active deployments serve again after a restart
  model_server_->Start();
  workers_->Start();
  if (!options_.start_http) return absl::OkStatus();
  HttpServerOptions ho;
  ho.address = options_.config.ListenHost();
  ho.port = static_cast<uint16_t>(options_.config.ListenPort());
  ho.threads = options_.config.http_threads;
  Api* api = api_.get();
  server_ = MakeHttpServer(ho, [api](HttpRequest& r) { return api->Handle(r); });
  return server_->Start();
}

void App::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (server_) server_->Stop();
  if (workers_) workers_->Stop();
  if (model_server_) model_server_->Stop();
}

}  // namespace tsml::api
