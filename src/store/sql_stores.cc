#include "store/sql_stores.h"

#include <utility>

#include "common/strings.h"
#include "common/status_macros.h"
#include "store/migrations.h"

namespace tsml::store {

std::string_view TaskKindName(TaskKind kind) {
  switch (kind) {
    case TaskKind::kTrain:
      return "train";
    case TaskKind::kDeploy:
      return "deploy";
    case TaskKind::kExport:
      return "export";
  }
  return "train";
}

namespace {

using common::DumpJson;

SqlValue Opt(const std::optional<std::string>& v) {
  return v ? SqlValue(*v) : SqlValue(std::monostate{});
}
SqlValue Opt(const std::optional<Millis>& v) {
  return v ? SqlValue(*v) : SqlValue(std::monostate{});
}

Json ParseStored(const SqlRow& row, size_t i, Json fallback) {
  if (row.IsNull(i)) return fallback;
  auto parsed = common::ParseJson(row.Str(i), 256);
  return parsed.ok() ? *std::move(parsed) : fallback;
}

TaskKind KindFromName(std::string_view name) {
  if (name == "deploy") return TaskKind::kDeploy;
  if (name == "export") return TaskKind::kExport;
  return TaskKind::kTrain;
}

constexpr char kJobColumns[] =
    "id, model_type, training_data, hyperparameters, validation_strategy, compute_resources, "
    "status, progress, stage, eta_at, started_at, completed_at, failure_reason, "
    "evaluation_results, model_artifact_id, deployment_id, parent_job_id, "
    "source_deployment_id, created_by, created_at, updated_at, attempts, options";

JobRecord RowToJob(const SqlRow& r) {
  JobRecord j;
  j.id = r.Str(0);
  j.model_type = r.Str(1);
  j.training_data = ParseStored(r, 2, Json::object());
  j.hyperparameters = ParseStored(r, 3, Json::object());
  j.validation_strategy = r.Str(4);
  j.compute_resources = ParseStored(r, 5, Json::object());
  j.status = r.Str(6);
  j.progress = r.Double(7);
  j.stage = r.Str(8);
  j.eta_at = r.OptInt(9);
  j.started_at = r.OptInt(10);
  j.completed_at = r.OptInt(11);
  j.failure_reason = r.OptStr(12);
  j.evaluation_results = ParseStored(r, 13, Json());
  j.model_artifact_id = r.OptStr(14);
  j.deployment_id = r.OptStr(15);
  j.parent_job_id = r.OptStr(16);
  j.source_deployment_id = r.OptStr(17);
  j.created_by = r.Str(18);
  j.created_at = r.Int(19);
  j.updated_at = r.Int(20);
  j.attempts = static_cast<int>(r.Int(21));
  j.options = ParseStored(r, 22, Json::object());
  return j;
}

constexpr char kTaskColumns[] =
    "id, kind, ref_id, state, attempts, max_attempts, lease_owner, lease_expires_at, "
    "cancel_requested, created_at";

TaskRecord RowToTask(const SqlRow& r) {
  TaskRecord t;
  t.id = r.Str(0);
  t.kind = KindFromName(r.Str(1));
  t.ref_id = r.Str(2);
  t.state = r.Str(3);
  t.attempts = static_cast<int>(r.Int(4));
  t.max_attempts = static_cast<int>(r.Int(5));
  t.lease_owner = r.Str(6);
  t.lease_expires_at = r.Int(7);
  t.cancel_requested = r.Int(8) != 0;
  t.created_at = r.Int(9);
  return t;
}

constexpr char kDeploymentColumns[] =
    "id, training_job_id, deployment_name, environment, version, auto_scaling, status, "
    "endpoint_url, deployed_at, failure_reason, health_metrics, config, created_by, "
    "created_at, updated_at";

DeploymentRecord RowToDeployment(const SqlRow& r) {
  DeploymentRecord d;
  d.id = r.Str(0);
  d.training_job_id = r.Str(1);
  d.deployment_name = r.Str(2);
  d.environment = r.Str(3);
  d.version = r.Str(4);
  d.auto_scaling = ParseStored(r, 5, Json::object());
  d.status = r.Str(6);
  d.endpoint_url = r.Str(7);
  d.deployed_at = r.OptInt(8);
  d.failure_reason = r.OptStr(9);
  d.health_metrics = ParseStored(r, 10, Json::object());
  d.config = ParseStored(r, 11, Json::object());
  d.created_by = r.Str(12);
  d.created_at = r.Int(13);
  d.updated_at = r.Int(14);
  return d;
}

constexpr char kExportColumns[] =
    "id, training_job_id, format, include_metadata, status, file_path, file_size, checksum, "
    "download_url, expires_at, failure_reason, report, requested_by, created_at, completed_at";

ExportRecord RowToExport(const SqlRow& r) {
  ExportRecord e;
  e.id = r.Str(0);
  e.training_job_id = r.Str(1);
  e.format = r.Str(2);
  e.include_metadata = r.Int(3) != 0;
  e.status = r.Str(4);
  e.file_path = r.Str(5);
  e.file_size = r.Int(6);
  e.checksum = r.Str(7);
  e.download_url = r.Str(8);
  e.expires_at = r.OptInt(9);
  e.failure_reason = r.OptStr(10);
  e.report = ParseStored(r, 11, Json::object());
  e.requested_by = r.Str(12);
  e.created_at = r.Int(13);
  e.completed_at = r.OptInt(14);
  return e;
}

constexpr char kAuditColumns[] =
    "id, at, user_id, action, resource_id, status, outcome, request_id, remote_address, detail";

AuditRecord RowToAudit(const SqlRow& r) {
  AuditRecord a;
  a.id = r.Str(0);
  a.at = r.Int(1);
  a.user_id = r.Str(2);
  a.action = r.Str(3);
  a.resource_id = r.Str(4);
  a.status = static_cast<int>(r.Int(5));
  a.outcome = r.Str(6);
  a.request_id = r.Str(7);
  a.remote_address = r.Str(8);
  a.detail = r.Str(9);
  return a;
}

// Moves a task's record back to its queued state (its worker died or stopped).
absl::Status RequeueRecord(SqlConnection& c, TaskKind kind, const std::string& id, Millis now) {
  switch (kind) {
    case TaskKind::kTrain:
      return c
          .Query("UPDATE jobs SET status = 'pending', stage = 'queued', progress = 0, "
                 "eta_at = NULL, updated_at = ? WHERE id = ? AND status = 'running'",
                 {now, id})
          .status();
    case TaskKind::kDeploy:
      return c
          .Query("UPDATE deployments SET status = 'pending', updated_at = ? WHERE id = ? AND "
                 "status = 'deploying'",
                 {now, id})
          .status();
    case TaskKind::kExport:
      return c
          .Query("UPDATE exports SET status = 'pending' WHERE id = ? AND status = 'processing'",
                 {id})
          .status();
  }
  return absl::OkStatus();
}

// Fails a task's record with a reason (its workers kept dying).
absl::Status FailRecord(SqlConnection& c, TaskKind kind, const std::string& id,
                        const std::string& reason, Millis now) {
  switch (kind) {
    case TaskKind::kTrain:
      return c
          .Query("UPDATE jobs SET status = 'failed', stage = 'failed', failure_reason = ?, "
                 "completed_at = ?, updated_at = ?, eta_at = NULL "
                 "WHERE id = ? AND status IN ('pending', 'running')",
                 {reason, now, now, id})
          .status();
    case TaskKind::kDeploy:
      return c
          .Query("UPDATE deployments SET status = 'failed', failure_reason = ?, updated_at = ? "
                 "WHERE id = ? AND status IN ('pending', 'deploying')",
                 {reason, now, id})
          .status();
    case TaskKind::kExport:
      return c
          .Query("UPDATE exports SET status = 'failed', failure_reason = ?, completed_at = ? "
                 "WHERE id = ? AND status IN ('pending', 'processing')",
                 {reason, now, id})
          .status();
  }
  return absl::OkStatus();
}

class SqlStore final : public Store {
 public:
  SqlStore(std::unique_ptr<Database> db, common::IdGenerator* ids)
      : db_(std::move(db)), ids_(ids) {}

  absl::Status Ping() override {
    return db_->Run([](SqlConnection& c) { return c.Query("SELECT 1").status(); });
  }

  // ---- JobStore ----
  absl::Status CreateJob(const JobRecord& j, int max_attempts) override {
    const std::string task_id = ids_->Next();
    return db_->Transaction([&](SqlConnection& c) -> absl::Status {
      RETURN_IF_ERROR(
          c.Query(common::StrCat("INSERT INTO jobs (", kJobColumns,
                               ", source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                               "?, ?, ?, ?, ?, ?, ?, ?, ?)"),
                  {j.id, j.model_type, DumpJson(j.training_data), DumpJson(j.hyperparameters),
                   j.validation_strategy, DumpJson(j.compute_resources), j.status, j.progress,
                   j.stage, Opt(j.eta_at), Opt(j.started_at), Opt(j.completed_at),
                   Opt(j.failure_reason),
                   j.evaluation_results.is_null() ? SqlValue()
                                                  : SqlValue(DumpJson(j.evaluation_results)),
                   Opt(j.model_artifact_id), Opt(j.deployment_id), Opt(j.parent_job_id),
                   Opt(j.source_deployment_id), j.created_by, j.created_at, j.updated_at,
                   int64_t{j.attempts}, DumpJson(j.options),
                   j.training_data.value("source", std::string())})
              .status());
      return InsertTask(c, task_id, TaskKind::kTrain, j.id, max_attempts, j.created_at);
    });
  }

  absl::StatusOr<JobRecord> GetJob(const std::string& id) override {
    SqlRows rows;
    RETURN_IF_ERROR(db_->Run([&](SqlConnection& c) -> absl::Status {
      ASSIGN_OR_RETURN(rows, c.Query(common::StrCat("SELECT ", kJobColumns,
                                                  " FROM jobs WHERE id = ?"),
                                     {id}));
      return absl::OkStatus();
    }));
    if (rows.empty()) return absl::NotFoundError("training job not found");
    return RowToJob(rows.front());
  }

  absl::StatusOr<JobPage> ListJobs(const JobQuery& q) override {
    std::vector<std::string> where;
    std::vector<SqlValue> params;
    if (q.created_by) {
      where.push_back("created_by = ?");
      params.push_back(*q.created_by);
    }
    if (q.model_type) {
      where.push_back("model_type = ?");
      params.push_back(*q.model_type);
    }
    if (q.status) {
      where.push_back("status = ?");
      params.push_back(*q.status);
    }
    if (q.created_from) {
      where.push_back("created_at >= ?");
      params.push_back(*q.created_from);
    }
    if (q.created_to) {
      where.push_back("created_at <= ?");
      params.push_back(*q.created_to);
    }
    const std::string where_sql =
        where.empty() ? "" : common::StrCat(" WHERE ", common::StrJoin(where, " AND "));
    const char* column = q.sort_by == SortField::kStartedAt     ? "started_at"
                         : q.sort_by == SortField::kCompletedAt ? "completed_at"
                                                                : "created_at";
    const char* dir = q.descending ? " DESC" : " ASC";
    // Jobs that have not started/completed sort last either way, as users expect.
    const char* nulls = q.sort_by == SortField::kCreatedAt ? "" : " NULLS LAST";
    const std::string order = common::StrCat(" ORDER BY ", column, dir, nulls, ", id", dir);
    JobPage page;
    RETURN_IF_ERROR(db_->Run([&](SqlConnection& c) -> absl::Status {
      std::vector<SqlValue> page_params = params;
      page_params.push_back(int64_t{q.limit});
      page_params.push_back(int64_t{q.offset});
      ASSIGN_OR_RETURN(SqlRows rows,
                       c.Query(common::StrCat("SELECT ", kJobColumns, " FROM jobs", where_sql,
                                            order, " LIMIT ? OFFSET ?"),
                               page_params));
      for (const auto& r : rows) page.jobs.push_back(RowToJob(r));
      ASSIGN_OR_RETURN(SqlRows count,
                       c.Query(common::StrCat("SELECT COUNT(*) FROM jobs", where_sql), params));
      page.total = count.empty() ? 0 : count.front().Int(0);
      return absl::OkStatus();
    }));
    return page;
  }

  absl::StatusOr<JobRecord> CancelJob(const std::string& id, Millis now) override {
    RETURN_IF_ERROR(db_->Transaction([&](SqlConnection& c) -> absl::Status {
      ASSIGN_OR_RETURN(SqlRows rows,
                       c.Query(common::StrCat("SELECT status FROM jobs WHERE id = ?",
                                            db_->ForUpdate()),
                               {id}));
      if (rows.empty()) return absl::NotFoundError("training job not found");
      const std::string status = rows.front().Str(0);
      if (status != "pending" && status != "running") {
        return absl::FailedPreconditionError(
            common::StrCat("job is ", status, "; only pending or running jobs can be cancelled"));
      }
      RETURN_IF_ERROR(c.Query("UPDATE jobs SET status = 'cancelled', stage = 'cancelled', "
                              "eta_at = NULL, completed_at = ?, updated_at = ? WHERE id = ?",
                              {now, now, id})
                          .status());
      return c
          .Query("UPDATE tasks SET cancel_requested = 1, updated_at = ?, state = CASE WHEN "
                 "state = 'queued' THEN 'cancelled' ELSE state END WHERE ref_id = ? AND "
                 "kind = 'train'",
                 {now, id})
          .status();
    }));
    return GetJob(id);
  }

  absl::StatusOr<bool> MarkRunning(const std::string& id, Millis now) override {
    return UpdateOne(
        "UPDATE jobs SET status = 'running', stage = 'loading_data', progress = 0, "
        "attempts = attempts + 1, started_at = ?, updated_at = ?, failure_reason = NULL "
        "WHERE id = ? AND status IN ('pending', 'running') RETURNING id",
        {now, now, id});
  }

  absl::StatusOr<bool> UpdateProgress(const std::string& id, double progress,
                                      const std::string& stage, std::optional<Millis> eta_at,
                                      Millis now) override {
    return UpdateOne(
        "UPDATE jobs SET progress = ?, stage = ?, eta_at = ?, updated_at = ? "
        "WHERE id = ? AND status = 'running' RETURNING id",
        {progress, stage, Opt(eta_at), now, id});
  }

  absl::StatusOr<bool> CompleteJob(const std::string& id, const Json& evaluation,
                                   const std::optional<std::string>& artifact_id,
                                   Millis now) override {
    return UpdateOne(
        "UPDATE jobs SET status = 'completed', stage = 'completed', progress = 100, "
        "eta_at = NULL, evaluation_results = ?, model_artifact_id = ?, completed_at = ?, "
        "updated_at = ? WHERE id = ? AND status = 'running' RETURNING id",
        {evaluation.is_null() ? SqlValue() : SqlValue(DumpJson(evaluation)), Opt(artifact_id),
         now, now, id});
  }

  absl::StatusOr<bool> FailJob(const std::string& id, const std::string& reason,
                               Millis now) override {
    return UpdateOne(
        "UPDATE jobs SET status = 'failed', stage = 'failed', eta_at = NULL, "
        "failure_reason = ?, completed_at = ?, updated_at = ? "
        "WHERE id = ? AND status IN ('pending', 'running') RETURNING id",
        {reason, now, now, id});
  }

  absl::Status SetDeployment(const std::string& job_id,
                             const std::optional<std::string>& deployment_id,
                             Millis now) override {
    ASSIGN_OR_RETURN(bool updated,
                     UpdateOne("UPDATE jobs SET deployment_id = ?, updated_at = ? WHERE id = ? "
                               "RETURNING id",
                               {Opt(deployment_id), now, job_id}));
    return updated ? absl::OkStatus() : absl::NotFoundError("training job not found");
  }

  absl::StatusOr<std::map<std::string, int64_t>> CountByStatus() override {
    return CountGrouped("SELECT status, COUNT(*) FROM jobs GROUP BY status");
  }

  // ---- TaskStore ----
  absl::Status Enqueue(TaskKind kind, const std::string& ref_id, int max_attempts,
                       Millis now) override {
    const std::string id = ids_->Next();
    return db_->Run([&](SqlConnection& c) {
      return InsertTask(c, id, kind, ref_id, max_attempts, now);
    });
  }

  absl::StatusOr<std::optional<TaskRecord>> Claim(const std::string& owner,
                                                  const std::vector<TaskKind>& kinds,
                                                  Millis lease_ms, Millis now) override {
    if (kinds.empty()) return std::optional<TaskRecord>();
    std::vector<SqlValue> params = {owner, now + lease_ms, now};
    std::vector<std::string> marks;
    for (TaskKind k : kinds) {
      params.push_back(std::string(TaskKindName(k)));
      marks.push_back("?");
    }
    const std::string sql = common::StrCat(
        "UPDATE tasks SET state = 'leased', lease_owner = ?, lease_expires_at = ?, "
        "attempts = attempts + 1, updated_at = ? WHERE id = (SELECT id FROM tasks WHERE "
        "state = 'queued' AND kind IN (",
        common::StrJoin(marks, ", "), ") ORDER BY created_at, id LIMIT 1", db_->SkipLocked(),
        ") AND state = 'queued' RETURNING ", kTaskColumns);
    std::optional<TaskRecord> claimed;
    RETURN_IF_ERROR(db_->Transaction([&](SqlConnection& c) -> absl::Status {
      ASSIGN_OR_RETURN(SqlRows rows, c.Query(sql, params));
      if (!rows.empty()) claimed = RowToTask(rows.front());
      return absl::OkStatus();
    }));
    return claimed;
  }

  absl::StatusOr<TaskRecord> Heartbeat(const std::string& task_id, const std::string& owner,
                                       Millis lease_ms, Millis now) override {
    SqlRows rows;
    RETURN_IF_ERROR(db_->Run([&](SqlConnection& c) -> absl::Status {
      ASSIGN_OR_RETURN(
          rows, c.Query(common::StrCat("UPDATE tasks SET lease_expires_at = ?, updated_at = ? "
                                     "WHERE id = ? AND lease_owner = ? AND state = 'leased' "
                                     "RETURNING ",
                                     kTaskColumns),
                        {now + lease_ms, now, task_id, owner}));
      return absl::OkStatus();
    }));
    if (rows.empty()) return absl::NotFoundError("lease lost");
    return RowToTask(rows.front());
  }

  absl::Status Finish(const std::string& task_id, const std::string& owner, bool succeeded,
                      Millis now) override {
    return db_->Run([&](SqlConnection& c) {
      return c
          .Query("UPDATE tasks SET state = ?, lease_owner = NULL, lease_expires_at = NULL, "
                 "updated_at = ? WHERE id = ? AND lease_owner = ? AND state = 'leased'",
                 {std::string(succeeded ? "done" : "failed"), now, task_id, owner})
          .status();
    });
  }

  absl::Status Release(const std::string& owner, Millis now) override {
    return db_->Transaction([&](SqlConnection& c) -> absl::Status {
      ASSIGN_OR_RETURN(SqlRows rows,
                       c.Query(common::StrCat("SELECT ", kTaskColumns,
                                            " FROM tasks WHERE lease_owner = ? AND "
                                            "state = 'leased'",
                                            db_->ForUpdate()),
                               {owner}));
      for (const auto& row : rows) {
        const TaskRecord t = RowToTask(row);
        RETURN_IF_ERROR(RequeueRecord(c, t.kind, t.ref_id, now));
        RETURN_IF_ERROR(
            c.Query("UPDATE tasks SET state = CASE WHEN cancel_requested = 1 THEN 'cancelled' "
                    "ELSE 'queued' END, lease_owner = NULL, lease_expires_at = NULL, "
                    "attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, "
                    "updated_at = ? WHERE id = ?",
                    {now, t.id})
                .status());
      }
      return absl::OkStatus();
    });
  }

  absl::StatusOr<std::vector<RecoveredTask>> RecoverExpired(Millis now) override {
    std::vector<RecoveredTask> out;
    RETURN_IF_ERROR(db_->Transaction([&](SqlConnection& c) -> absl::Status {
      out.clear();
      ASSIGN_OR_RETURN(SqlRows rows,
                       c.Query(common::StrCat("SELECT ", kTaskColumns,
                                            " FROM tasks WHERE state = 'leased' AND "
                                            "lease_expires_at < ? ORDER BY lease_expires_at "
                                            "LIMIT 100",
                                            db_->SkipLocked()),
                               {now}));
      for (const auto& row : rows) {
        RecoveredTask rec{RowToTask(row), false};
        if (rec.task.cancel_requested) {
          RETURN_IF_ERROR(SetTaskState(c, rec.task.id, "cancelled", now));
          continue;
        }
        rec.requeued = rec.task.attempts < rec.task.max_attempts;
        if (rec.requeued) {
          RETURN_IF_ERROR(SetTaskState(c, rec.task.id, "queued", now));
          RETURN_IF_ERROR(RequeueRecord(c, rec.task.kind, rec.task.ref_id, now));
        } else {
          RETURN_IF_ERROR(SetTaskState(c, rec.task.id, "failed", now));
          const std::string reason = common::StrCat(
              "the worker running this ", TaskKindName(rec.task.kind),
              " task stopped responding (", rec.task.attempts, " of ", rec.task.max_attempts,
              " attempts used); giving up");
          RETURN_IF_ERROR(FailRecord(c, rec.task.kind, rec.task.ref_id, reason, now));
        }
        out.push_back(std::move(rec));
      }
      return absl::OkStatus();
    }));
    return out;
  }

  absl::StatusOr<std::map<std::string, int64_t>> QueueDepth() override {
    return CountGrouped("SELECT kind, COUNT(*) FROM tasks WHERE state = 'queued' GROUP BY kind");
  }

  // ---- DeploymentStore ----
  absl::Status CreateDeployment(const DeploymentRecord& d) override {
    return db_->Run([&](SqlConnection& c) {
      return c
          .Query(common::StrCat("INSERT INTO deployments (", kDeploymentColumns,
                              ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
                 DeploymentParams(d))
          .status();
    });
  }

  absl::StatusOr<DeploymentRecord> GetDeployment(const std::string& id) override {
    ASSIGN_OR_RETURN(SqlRows rows,
                     Select(common::StrCat("SELECT ", kDeploymentColumns,
                                         " FROM deployments WHERE id = ?"),
                            {id}));
    if (rows.empty()) return absl::NotFoundError("deployment not found");
    return RowToDeployment(rows.front());
  }

  absl::Status UpdateDeployment(const DeploymentRecord& d) override {
    std::vector<SqlValue> params = DeploymentParams(d);
    params.push_back(d.id);
    params.erase(params.begin());
    ASSIGN_OR_RETURN(
        bool updated,
        UpdateOne("UPDATE deployments SET training_job_id = ?, deployment_name = ?, "
                  "environment = ?, version = ?, auto_scaling = ?, status = ?, endpoint_url = ?, "
                  "deployed_at = ?, failure_reason = ?, health_metrics = ?, config = ?, "
                  "created_by = ?, created_at = ?, updated_at = ? WHERE id = ? RETURNING id",
                  params));
    return updated ? absl::OkStatus() : absl::NotFoundError("deployment not found");
  }

  absl::StatusOr<bool> UpdateDeploymentIf(const DeploymentRecord& d,
                                          const std::vector<std::string>& expected) override {
    std::vector<SqlValue> params = DeploymentParams(d);
    params.erase(params.begin());
    params.push_back(d.id);
    std::vector<std::string> marks;
    for (const auto& e : expected) {
      params.push_back(e);
      marks.push_back("?");
    }
    return UpdateOne(
        common::StrCat("UPDATE deployments SET training_job_id = ?, deployment_name = ?, "
                       "environment = ?, version = ?, auto_scaling = ?, status = ?, "
                       "endpoint_url = ?, deployed_at = ?, failure_reason = ?, health_metrics = ?, "
                       "config = ?, created_by = ?, created_at = ?, updated_at = ? WHERE id = ? "
                       "AND status IN (",
                       common::StrJoin(marks, ", "), ") RETURNING id"),
        params);
  }

  absl::Status CreateDeploymentForJob(const DeploymentRecord& d, int max_attempts) override {
    const std::string task_id = ids_->Next();
    return db_->Transaction([&](SqlConnection& c) -> absl::Status {
      ASSIGN_OR_RETURN(SqlRows job, c.Query(common::StrCat("SELECT deployment_id FROM jobs WHERE "
                                                           "id = ?",
                                                           db_->ForUpdate()),
                                            {d.training_job_id}));
      if (job.empty()) return absl::NotFoundError("training job not found");
      if (!job.front().IsNull(0)) {
        ASSIGN_OR_RETURN(SqlRows prev, c.Query("SELECT status FROM deployments WHERE id = ?",
                                               {job.front().Str(0)}));
        if (!prev.empty()) {
          const std::string st = prev.front().Str(0);
          if (st == "pending" || st == "deploying" || st == "active") {
            return absl::FailedPreconditionError(common::StrCat(
                "the model of this job is already deployed (deployment ", job.front().Str(0),
                " is ", st, ")"));
          }
        }
      }
      RETURN_IF_ERROR(
          c.Query(common::StrCat("INSERT INTO deployments (", kDeploymentColumns,
                                 ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
                  DeploymentParams(d))
              .status());
      RETURN_IF_ERROR(InsertTask(c, task_id, TaskKind::kDeploy, d.id, max_attempts, d.created_at));
      return c
          .Query("UPDATE jobs SET deployment_id = ?, updated_at = ? WHERE id = ?",
                 {d.id, d.created_at, d.training_job_id})
          .status();
    });
  }

  absl::StatusOr<std::vector<DeploymentRecord>> ListDeployments(
      const std::optional<std::string>& status) override {
    std::string sql = common::StrCat("SELECT ", kDeploymentColumns, " FROM deployments");
    std::vector<SqlValue> params;
    if (status) {
      sql += " WHERE status = ?";
      params.push_back(*status);
    }
    sql += " ORDER BY created_at, id";
    ASSIGN_OR_RETURN(SqlRows rows, Select(sql, params));
    std::vector<DeploymentRecord> out;
    for (const auto& r : rows) out.push_back(RowToDeployment(r));
    return out;
  }

  absl::StatusOr<std::vector<DeploymentRecord>> DeploymentsNamed(
      const std::string& name, const std::string& environment) override {
    ASSIGN_OR_RETURN(SqlRows rows,
                     Select(common::StrCat("SELECT ", kDeploymentColumns,
                                           " FROM deployments WHERE deployment_name = ? AND "
                                           "environment = ? ORDER BY created_at DESC, id DESC"),
                            {name, environment}));
    std::vector<DeploymentRecord> out;
    for (const auto& r : rows) out.push_back(RowToDeployment(r));
    return out;
  }

  // ---- AlertStore ----
  absl::Status AppendAlert(const AlertRecord& a) override {
    const std::string id = a.id.empty() ? ids_->Next() : a.id;
    return db_->Run([&](SqlConnection& c) {
      return c
          .Query("INSERT INTO alerts (id, deployment_id, kind, severity, message, value, "
                 "threshold, raised_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                 {id, a.deployment_id, a.kind, a.severity, a.message, a.value, a.threshold,
                  a.raised_at})
          .status();
    });
  }

  absl::StatusOr<std::vector<AlertRecord>> ListAlerts(const std::string& deployment_id,
                                                      int limit) override {
    ASSIGN_OR_RETURN(SqlRows rows,
                     Select("SELECT id, deployment_id, kind, severity, message, value, threshold, "
                            "raised_at FROM alerts WHERE deployment_id = ? ORDER BY raised_at "
                            "DESC, id DESC LIMIT ?",
                            {deployment_id, int64_t{limit}}));
    std::vector<AlertRecord> out;
    for (const auto& r : rows) {
      out.push_back({r.Str(0), r.Str(1), r.Str(2), r.Str(3), r.Str(4), r.Double(5), r.Double(6),
                     r.Int(7)});
    }
    return out;
  }

  // ---- ArtifactStore ----
  absl::Status CreateArtifact(const ArtifactRecord& a) override {
    return db_->Run([&](SqlConnection& c) {
      return c
          .Query("INSERT INTO artifacts (id, training_job_id, model_type, framework, version, "
                 "file_path, file_size, checksum, metadata, created_at, updated_at) VALUES "
                 "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 {a.id, a.training_job_id, a.model_type, a.framework, a.version, a.file_path,
                  a.file_size, a.checksum, DumpJson(a.metadata), a.created_at, a.updated_at})
          .status();
    });
  }

  absl::StatusOr<ArtifactRecord> GetArtifact(const std::string& id) override {
    ASSIGN_OR_RETURN(
        SqlRows rows,
        Select("SELECT id, training_job_id, model_type, framework, version, file_path, "
               "file_size, checksum, metadata, created_at, updated_at FROM artifacts "
               "WHERE id = ?",
               {id}));
    if (rows.empty()) return absl::NotFoundError("model artifact not found");
    const SqlRow& r = rows.front();
    ArtifactRecord a;
    a.id = r.Str(0);
    a.training_job_id = r.Str(1);
    a.model_type = r.Str(2);
    a.framework = r.Str(3);
    a.version = r.Str(4);
    a.file_path = r.Str(5);
    a.file_size = r.Int(6);
    a.checksum = r.Str(7);
    a.metadata = ParseStored(r, 8, Json::object());
    a.created_at = r.Int(9);
    a.updated_at = r.Int(10);
    return a;
  }

  // ---- ExportStore ----
  absl::Status CreateExport(const ExportRecord& e) override {
    return db_->Run([&](SqlConnection& c) {
      return c
          .Query(common::StrCat("INSERT INTO exports (", kExportColumns,
                              ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
                 ExportParams(e))
          .status();
    });
  }

  absl::StatusOr<ExportRecord> GetExport(const std::string& id) override {
    ASSIGN_OR_RETURN(SqlRows rows,
                     Select(common::StrCat("SELECT ", kExportColumns, " FROM exports WHERE id = ?"),
                            {id}));
    if (rows.empty()) return absl::NotFoundError("export not found");
    return RowToExport(rows.front());
  }

  absl::Status UpdateExport(const ExportRecord& e) override {
    std::vector<SqlValue> params = ExportParams(e);
    params.push_back(e.id);
    params.erase(params.begin());
    ASSIGN_OR_RETURN(
        bool updated,
        UpdateOne("UPDATE exports SET training_job_id = ?, format = ?, include_metadata = ?, "
                  "status = ?, file_path = ?, file_size = ?, checksum = ?, download_url = ?, "
                  "expires_at = ?, failure_reason = ?, report = ?, requested_by = ?, "
                  "created_at = ?, completed_at = ? WHERE id = ? RETURNING id",
                  params));
    return updated ? absl::OkStatus() : absl::NotFoundError("export not found");
  }

  // ---- MetricsStore ----
  absl::Status UpsertPerformance(const PerformanceRecord& r) override {
    const std::string id = r.id.empty() ? ids_->Next() : r.id;
    return db_->Run([&](SqlConnection& c) {
      return c
          .Query("INSERT INTO performance_metrics (id, deployment_id, ts, metrics, sample_size, "
                 "created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (deployment_id, ts) DO "
                 "UPDATE SET metrics = excluded.metrics, sample_size = excluded.sample_size",
                 {id, r.deployment_id, r.timestamp, DumpJson(r.metrics), r.sample_size,
                  r.created_at})
          .status();
    });
  }

  absl::StatusOr<std::vector<PerformanceRecord>> ListPerformance(const std::string& deployment_id,
                                                                 Millis from,
                                                                 Millis to) override {
    ASSIGN_OR_RETURN(
        SqlRows rows,
        Select("SELECT id, deployment_id, ts, metrics, sample_size, created_at FROM "
               "performance_metrics WHERE deployment_id = ? AND ts >= ? AND ts <= ? ORDER BY ts",
               {deployment_id, from, to}));
    std::vector<PerformanceRecord> out;
    for (const auto& r : rows) {
      out.push_back({r.Str(0), r.Str(1), r.Int(2), ParseStored(r, 3, Json::object()), r.Int(4),
                     r.Int(5)});
    }
    return out;
  }

  // ---- AuditStore ----
  absl::Status AppendAudit(const AuditRecord& a) override {
    const std::string id = a.id.empty() ? ids_->Next() : a.id;
    return db_->Run([&](SqlConnection& c) {
      return c
          .Query(common::StrCat("INSERT INTO audit_log (", kAuditColumns,
                              ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
                 {id, a.at, a.user_id, a.action, a.resource_id, int64_t{a.status}, a.outcome,
                  a.request_id, a.remote_address, a.detail})
          .status();
    });
  }

  absl::StatusOr<std::pair<std::vector<AuditRecord>, int64_t>> ListAudit(
      const AuditQuery& q) override {
    std::vector<std::string> where;
    std::vector<SqlValue> params;
    if (q.user_id) {
      where.push_back("user_id = ?");
      params.push_back(*q.user_id);
    }
    if (q.action) {
      where.push_back("action = ?");
      params.push_back(*q.action);
    }
    if (q.from) {
      where.push_back("at >= ?");
      params.push_back(*q.from);
    }
    if (q.to) {
      where.push_back("at <= ?");
      params.push_back(*q.to);
    }
    const std::string where_sql =
        where.empty() ? "" : common::StrCat(" WHERE ", common::StrJoin(where, " AND "));
    std::vector<SqlValue> page_params = params;
    page_params.push_back(int64_t{q.limit});
    page_params.push_back(int64_t{q.offset});
    ASSIGN_OR_RETURN(SqlRows rows,
                     Select(common::StrCat("SELECT ", kAuditColumns, " FROM audit_log", where_sql,
                                         " ORDER BY at DESC, id DESC LIMIT ? OFFSET ?"),
                            page_params));
    ASSIGN_OR_RETURN(SqlRows count,
                     Select(common::StrCat("SELECT COUNT(*) FROM audit_log", where_sql), params));
    std::vector<AuditRecord> out;
    for (const auto& r : rows) out.push_back(RowToAudit(r));
    return std::make_pair(std::move(out), count.empty() ? int64_t{0} : count.front().Int(0));
  }

 private:
  absl::StatusOr<SqlRows> Select(const std::string& sql, const std::vector<SqlValue>& params) {
    SqlRows rows;
    RETURN_IF_ERROR(db_->Run([&](SqlConnection& c) -> absl::Status {
      ASSIGN_OR_RETURN(rows, c.Query(sql, params));
      return absl::OkStatus();
    }));
    return rows;
  }

  // Runs an UPDATE ... RETURNING id; true when it touched a row.
  absl::StatusOr<bool> UpdateOne(const std::string& sql, const std::vector<SqlValue>& params) {
    ASSIGN_OR_RETURN(SqlRows rows, Select(sql, params));
    return !rows.empty();
  }

  absl::StatusOr<std::map<std::string, int64_t>> CountGrouped(const std::string& sql) {
    ASSIGN_OR_RETURN(SqlRows rows, Select(sql, {}));
    std::map<std::string, int64_t> out;
    for (const auto& r : rows) out[r.Str(0)] = r.Int(1);
    return out;
  }

  static absl::Status InsertTask(SqlConnection& c, const std::string& id, TaskKind kind,
                                 const std::string& ref_id, int max_attempts, Millis now) {
    return c
        .Query("INSERT INTO tasks (id, kind, ref_id, state, attempts, max_attempts, "
               "cancel_requested, created_at, updated_at) VALUES (?, ?, ?, 'queued', 0, ?, 0, ?, "
               "?)",
               {id, std::string(TaskKindName(kind)), ref_id, int64_t{max_attempts}, now, now})
        .status();
  }

  static absl::Status SetTaskState(SqlConnection& c, const std::string& id,
                                   const std::string& state, Millis now) {
    return c
        .Query("UPDATE tasks SET state = ?, lease_owner = NULL, lease_expires_at = NULL, "
               "updated_at = ? WHERE id = ?",
               {state, now, id})
        .status();
  }

  static std::vector<SqlValue> DeploymentParams(const DeploymentRecord& d) {
    return {d.id,          d.training_job_id,         d.deployment_name,
            d.environment, d.version,                 DumpJson(d.auto_scaling),
            d.status,      d.endpoint_url,            Opt(d.deployed_at),
            Opt(d.failure_reason), DumpJson(d.health_metrics), DumpJson(d.config),
            d.created_by,  d.created_at,              d.updated_at};
  }

  static std::vector<SqlValue> ExportParams(const ExportRecord& e) {
    return {e.id,
            e.training_job_id,
            e.format,
            int64_t{e.include_metadata ? 1 : 0},
            e.status,
            e.file_path,
            e.file_size,
            e.checksum,
            e.download_url,
            Opt(e.expires_at),
            Opt(e.failure_reason),
            DumpJson(e.report),
            e.requested_by,
            e.created_at,
            Opt(e.completed_at)};
  }

  std::unique_ptr<Database> db_;
  common::IdGenerator* ids_;
};

}  // namespace

std::unique_ptr<Store> MakeSqlStore(std::unique_ptr<Database> db, common::IdGenerator* ids) {
  return std::make_unique<SqlStore>(std::move(db), ids);
}

absl::StatusOr<std::unique_ptr<Store>> OpenStore(std::string_view url, common::IdGenerator* ids,
                                                 const common::Clock& clock,
                                                 const DatabaseOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<Database> db, OpenDatabase(url, options));
  RETURN_IF_ERROR(Migrate(*db, clock.NowMillis()).status());
  return MakeSqlStore(std::move(db), ids);
}

}  // namespace tsml::store
