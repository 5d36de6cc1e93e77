#include "store/migrations.h"

#include <string>
#include <vector>

#include "common/status_macros.h"

namespace tsml::store {
namespace {

struct Migration {
  int version;
  const char* name;
  const char* sql;
};

// Append only: never edit a migration that has shipped.
const std::vector<Migration>& Migrations() {
  static const std::vector<Migration> kMigrations = {
      {1, "jobs_tasks_audit", R"sql(
CREATE TABLE jobs (
  id TEXT PRIMARY KEY,
  model_type TEXT NOT NULL,
  source TEXT NOT NULL,
  training_data TEXT NOT NULL,
  hyperparameters TEXT NOT NULL,
  validation_strategy TEXT NOT NULL,
  compute_resources TEXT NOT NULL,
  status TEXT NOT NULL,
  progress DOUBLE PRECISION NOT NULL DEFAULT 0,
  stage TEXT NOT NULL DEFAULT 'queued',
  eta_at BIGINT,
  started_at BIGINT,
  completed_at BIGINT,
  failure_reason TEXT,
  evaluation_results TEXT,
  model_artifact_id TEXT,
  deployment_id TEXT,
  parent_job_id TEXT,
  source_deployment_id TEXT,
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX jobs_created ON jobs (created_at, id);
CREATE INDEX jobs_started ON jobs (started_at, id);
CREATE INDEX jobs_completed ON jobs (completed_at, id);
CREATE INDEX jobs_user_created ON jobs (created_by, created_at, id);
CREATE INDEX jobs_status_created ON jobs (status, created_at, id);
CREATE INDEX jobs_type_created ON jobs (model_type, created_at, id);
CREATE INDEX jobs_type_status_created ON jobs (model_type, status, created_at, id);

CREATE TABLE tasks (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  ref_id TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL,
  lease_owner TEXT,
  lease_expires_at BIGINT,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX tasks_queue ON tasks (state, kind, created_at, id);
CREATE INDEX tasks_lease ON tasks (state, lease_expires_at);
CREATE INDEX tasks_ref ON tasks (ref_id);

CREATE TABLE audit_log (
  id TEXT PRIMARY KEY,
  at BIGINT NOT NULL,
  user_id TEXT NOT NULL,
  action TEXT NOT NULL,
  resource_id TEXT NOT NULL,
  status INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  request_id TEXT NOT NULL,
  remote_address TEXT NOT NULL,
  detail TEXT NOT NULL
);
CREATE INDEX audit_at ON audit_log (at, id);
CREATE INDEX audit_user_at ON audit_log (user_id, at);
CREATE INDEX audit_action_at ON audit_log (action, at);
)sql"},
      {2, "deployments_artifacts_exports_metrics", R"sql(
CREATE TABLE artifacts (
  id TEXT PRIMARY KEY,
  training_job_id TEXT NOT NULL,
  model_type TEXT NOT NULL,
  framework TEXT NOT NULL,
  version TEXT NOT NULL,
  file_path TEXT NOT NULL,
  file_size BIGINT NOT NULL,
  checksum TEXT NOT NULL,
  metadata TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX artifacts_job ON artifacts (training_job_id);

CREATE TABLE deployments (
  id TEXT PRIMARY KEY,
  training_job_id TEXT NOT NULL,
  deployment_name TEXT NOT NULL,
  environment TEXT NOT NULL,
  version TEXT NOT NULL,
  auto_scaling TEXT NOT NULL,
  status TEXT NOT NULL,
  endpoint_url TEXT NOT NULL,
  deployed_at BIGINT,
  failure_reason TEXT,
  health_metrics TEXT NOT NULL,
  config TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX deployments_name_env ON deployments (deployment_name, environment, created_at);
CREATE INDEX deployments_status ON deployments (status);
CREATE INDEX deployments_job ON deployments (training_job_id);

CREATE TABLE exports (
  id TEXT PRIMARY KEY,
  training_job_id TEXT NOT NULL,
  format TEXT NOT NULL,
  include_metadata INTEGER NOT NULL,
  status TEXT NOT NULL,
  file_path TEXT NOT NULL,
  file_size BIGINT NOT NULL,
  checksum TEXT NOT NULL,
  download_url TEXT NOT NULL,
  expires_at BIGINT,
  failure_reason TEXT,
  report TEXT NOT NULL,
  requested_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  completed_at BIGINT
);
CREATE INDEX exports_job ON exports (training_job_id);

CREATE TABLE performance_metrics (
  id TEXT PRIMARY KEY,
  deployment_id TEXT NOT NULL,
  ts BIGINT NOT NULL,
  metrics TEXT NOT NULL,
  sample_size BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  UNIQUE (deployment_id, ts)
);
)sql"},
      {3, "alerts_job_options", R"sql(
ALTER TABLE jobs ADD COLUMN options TEXT;
CREATE TABLE alerts (
  id TEXT PRIMARY KEY,
  deployment_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  severity TEXT NOT NULL,
  message TEXT NOT NULL,
  value DOUBLE PRECISION NOT NULL,
  threshold DOUBLE PRECISION NOT NULL,
  raised_at BIGINT NOT NULL
);
CREATE INDEX alerts_deployment ON alerts (deployment_id, raised_at);
)sql"},
  };
  return kMigrations;
}

}  // namespace

int LatestSchemaVersion() { return Migrations().back().version; }

absl::StatusOr<int> Migrate(Database& db, common::Millis now) {
  RETURN_IF_ERROR(db.Run([](SqlConnection& c) {
    return c.ExecScript(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, "
        "name TEXT NOT NULL, applied_at BIGINT NOT NULL)");
  }));
  int reached = 0;
  for (const Migration& m : Migrations()) {
    bool applied_now = false;
    RETURN_IF_ERROR(db.Transaction([&](SqlConnection& c) -> absl::Status {
      if (db.backend() == SqlBackend::kPostgres) {
        RETURN_IF_ERROR(c.Query("SELECT pg_advisory_xact_lock(7358221)").status());
      }
      ASSIGN_OR_RETURN(SqlRows rows,
                       c.Query("SELECT version FROM schema_migrations WHERE version = ?",
                               {int64_t{m.version}}));
      if (!rows.empty()) return absl::OkStatus();
      RETURN_IF_ERROR(c.ExecScript(m.sql));
      RETURN_IF_ERROR(
          c.Query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                  {int64_t{m.version}, std::string(m.name), now})
              .status());
      applied_now = true;
      return absl::OkStatus();
    }));
    (void)applied_now;
    reached = m.version;
  }
  return reached;
}

}  // namespace tsml::store
