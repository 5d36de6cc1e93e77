// The store conformance suite: written once, run against SQLite and PostgreSQL.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "common/object_id.h"
#include "store/migrations.h"
#include "store/sql_stores.h"
#include "support/test_db.h"
#include "support/test_server.h"

namespace tsml::store {
namespace {

using common::FakeClock;
using common::Millis;

constexpr Millis kT0 = 1'780'000'000'000;  // 2026-05-28

class StoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto db = test::ScopedTestDatabase::Create(GetParam(), dir_.path());
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::make_unique<test::ScopedTestDatabase>(*std::move(db));
    auto store = OpenStore(db_->url(), &ids_, clock_, {8, 5000});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }
  void TearDown() override {
    store_.reset();
    db_.reset();
  }

  JobRecord NewJob(const std::string& owner = "aaaaaaaaaaaaaaaaaaaaaaaa",
                   const std::string& type = "churn_prediction", Millis at = 0) {
    JobRecord j;
    j.id = ids_.Next();
    j.model_type = type;
    j.training_data = {{"source", "user_profiles"}, {"filters", {{"country", "FR"}}}};
    j.hyperparameters = {{"maxDepth", 6}};
    j.compute_resources = {{"cpu", 4}, {"memory", 8}, {"gpu", false}};
    j.created_by = owner;
    j.created_at = j.updated_at = at ? at : clock_.NowMillis();
    return j;
  }

  test::TempDir dir_;
  FakeClock clock_{kT0};
  common::IdGenerator ids_{&clock_};
  std::unique_ptr<test::ScopedTestDatabase> db_;
  std::unique_ptr<Store> store_;
};

TEST_P(StoreTest, MigrationsAreIdempotent) {
  auto db = OpenDatabase(db_->url());
  ASSERT_TRUE(db.ok());
  auto v = Migrate(**db, kT0);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(*v, LatestSchemaVersion());
  EXPECT_TRUE(store_->Ping().ok());
}

TEST_P(StoreTest, JobRoundTripsEveryField) {
  JobRecord j = NewJob();
  ASSERT_TRUE(store_->CreateJob(j, 3).ok());
  auto got = store_->GetJob(j.id);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->model_type, "churn_prediction");
  EXPECT_EQ(got->training_data, j.training_data);
  EXPECT_EQ(got->hyperparameters, j.hyperparameters);
  EXPECT_EQ(got->compute_resources, j.compute_resources);
  EXPECT_EQ(got->status, "pending");
  EXPECT_EQ(got->created_at, j.created_at);
  EXPECT_FALSE(got->started_at.has_value());
  EXPECT_TRUE(got->evaluation_results.is_null());
  EXPECT_TRUE(absl::IsNotFound(store_->GetJob(ids_.Next()).status()));
  EXPECT_TRUE(absl::IsAlreadyExists(store_->CreateJob(j, 3)));
  // The job's task was queued in the same transaction.
  auto depth = store_->QueueDepth();
  ASSERT_TRUE(depth.ok());
  EXPECT_EQ((*depth)["train"], 1);
}

TEST_P(StoreTest, ListFiltersSortsPaginatesAndCounts) {
  std::vector<std::string> ids;
  for (int i = 0; i < 30; ++i) {
    JobRecord j = NewJob(i % 3 ? "aaaaaaaaaaaaaaaaaaaaaaaa" : "bbbbbbbbbbbbbbbbbbbbbbbb",
                         i % 2 ? "recommendation" : "churn_prediction", kT0 + i * 1000);
    ASSERT_TRUE(store_->CreateJob(j, 3).ok());
    ids.push_back(j.id);
  }
  JobQuery q;
  q.limit = 5;
  auto page = store_->ListJobs(q);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->total, 30);
  ASSERT_EQ(page->jobs.size(), 5u);
  EXPECT_EQ(page->jobs[0].id, ids[29]);
  q.descending = false;
  q.offset = 10;
  page = store_->ListJobs(q);
  EXPECT_EQ(page->jobs[0].id, ids[10]);

  JobQuery by_user;
  by_user.created_by = "bbbbbbbbbbbbbbbbbbbbbbbb";
  by_user.model_type = "churn_prediction";
  by_user.limit = 50;
  page = store_->ListJobs(by_user);
  EXPECT_EQ(page->total, 5);  // i in {0, 6, 12, 18, 24}
  for (const auto& j : page->jobs) EXPECT_EQ(j.created_by, "bbbbbbbbbbbbbbbbbbbbbbbb");

  JobQuery range;
  range.created_from = kT0 + 5000;
  range.created_to = kT0 + 9000;
  EXPECT_EQ(store_->ListJobs(range)->total, 5);

  // startedAt sorting puts never-started jobs last in both directions.
  ASSERT_TRUE(*store_->MarkRunning(ids[3], kT0 + 100000));
  ASSERT_TRUE(*store_->MarkRunning(ids[4], kT0 + 200000));
  for (bool desc : {true, false}) {
    JobQuery s;
    s.sort_by = SortField::kStartedAt;
    s.descending = desc;
    s.limit = 50;
    page = store_->ListJobs(s);
    ASSERT_EQ(page->jobs.size(), 30u);
    EXPECT_EQ(page->jobs[0].id, desc ? ids[4] : ids[3]);
    EXPECT_EQ(page->jobs[1].id, desc ? ids[3] : ids[4]);
    EXPECT_FALSE(page->jobs[2].started_at.has_value());
  }
  JobQuery running;
  running.status = "running";
  EXPECT_EQ(store_->ListJobs(running)->total, 2);
  auto counts = store_->CountByStatus();
  EXPECT_EQ((*counts)["running"], 2);
  EXPECT_EQ((*counts)["pending"], 28);
}

TEST_P(StoreTest, JobLifecycleTransitionsAreGuarded) {
  JobRecord j = NewJob();
  ASSERT_TRUE(store_->CreateJob(j, 3).ok());
  EXPECT_FALSE(*store_->UpdateProgress(j.id, 10, "training", std::nullopt, kT0));  // not running
  EXPECT_TRUE(*store_->MarkRunning(j.id, kT0 + 1));
  EXPECT_TRUE(*store_->UpdateProgress(j.id, 40, "training", kT0 + 60000, kT0 + 2));
  auto got = store_->GetJob(j.id);
  EXPECT_EQ(got->progress, 40);
  EXPECT_EQ(got->stage, "training");
  EXPECT_EQ(got->eta_at, kT0 + 60000);
  EXPECT_EQ(got->attempts, 1);
  Json eval = {{"task", "regression"}, {"metrics", {{"rmse", 1.5}}}};
  EXPECT_TRUE(*store_->CompleteJob(j.id, eval, std::string("art1"), kT0 + 3));
  got = store_->GetJob(j.id);
  EXPECT_EQ(got->status, "completed");
  EXPECT_EQ(got->progress, 100);
  EXPECT_EQ(got->evaluation_results, eval);
  EXPECT_EQ(got->model_artifact_id, "art1");
  EXPECT_EQ(got->completed_at, kT0 + 3);
  // Finished jobs do not move again.
  EXPECT_FALSE(*store_->FailJob(j.id, "late", kT0 + 4));
  EXPECT_FALSE(*store_->MarkRunning(j.id, kT0 + 4));
  auto cancel = store_->CancelJob(j.id, kT0 + 5);
  EXPECT_TRUE(absl::IsFailedPrecondition(cancel.status())) << cancel.status();
  EXPECT_TRUE(absl::IsNotFound(store_->CancelJob(ids_.Next(), kT0).status()));
  ASSERT_TRUE(store_->SetDeployment(j.id, std::string("dep1"), kT0 + 6).ok());
  EXPECT_EQ(store_->GetJob(j.id)->deployment_id, "dep1");
}

TEST_P(StoreTest, CancelPendingJobRemovesItFromTheQueue) {
  JobRecord j = NewJob();
  ASSERT_TRUE(store_->CreateJob(j, 3).ok());
  auto cancelled = store_->CancelJob(j.id, kT0 + 10);
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(cancelled->status, "cancelled");
  EXPECT_EQ(cancelled->completed_at, kT0 + 10);
  auto claimed = store_->Claim("w", {TaskKind::kTrain}, 1000, kT0 + 20);
  ASSERT_TRUE(claimed.ok());
  EXPECT_FALSE(claimed->has_value());
}

TEST_P(StoreTest, CancelRunningJobFlagsItsTaskForTheHeartbeat) {
  JobRecord j = NewJob();
  ASSERT_TRUE(store_->CreateJob(j, 3).ok());
  auto task = store_->Claim("w1", {TaskKind::kTrain}, 30000, kT0);
  ASSERT_TRUE(task.ok() && task->has_value());
  ASSERT_TRUE(*store_->MarkRunning(j.id, kT0));
  auto hb = store_->Heartbeat((*task)->id, "w1", 30000, kT0 + 1);
  ASSERT_TRUE(hb.ok());
  EXPECT_FALSE(hb->cancel_requested);
  ASSERT_TRUE(store_->CancelJob(j.id, kT0 + 2).ok());
  hb = store_->Heartbeat((*task)->id, "w1", 30000, kT0 + 3);
  ASSERT_TRUE(hb.ok());
  EXPECT_TRUE(hb->cancel_requested);
  EXPECT_FALSE(*store_->CompleteJob(j.id, Json::object(), std::nullopt, kT0 + 4));
  EXPECT_EQ(store_->GetJob(j.id)->status, "cancelled");
}

TEST_P(StoreTest, LeaseExpiryRequeuesThenFailsAfterMaxAttempts) {
  JobRecord j = NewJob();
  ASSERT_TRUE(store_->CreateJob(j, 2).ok());
  // Attempt 1: a worker claims it and dies.
  auto t1 = store_->Claim("dead-1", {TaskKind::kTrain}, 1000, kT0);
  ASSERT_TRUE(t1.ok() && t1->has_value());
  ASSERT_TRUE(*store_->MarkRunning(j.id, kT0));
  EXPECT_TRUE(store_->RecoverExpired(kT0 + 999)->empty());  // lease still valid
  auto rec = store_->RecoverExpired(kT0 + 1001);
  ASSERT_TRUE(rec.ok());
  ASSERT_EQ(rec->size(), 1u);
  EXPECT_TRUE((*rec)[0].requeued);
  EXPECT_EQ(store_->GetJob(j.id)->status, "pending");
  // The dead worker's heartbeat now fails: it no longer holds the lease.
  EXPECT_TRUE(absl::IsNotFound(store_->Heartbeat((*t1)->id, "dead-1", 1000, kT0 + 1002).status()));
  // Attempt 2: claimed again, dies again → failed with a reason.
  auto t2 = store_->Claim("dead-2", {TaskKind::kTrain}, 1000, kT0 + 2000);
  ASSERT_TRUE(t2.ok() && t2->has_value());
  EXPECT_EQ((*t2)->attempts, 2);
  ASSERT_TRUE(*store_->MarkRunning(j.id, kT0 + 2000));
  rec = store_->RecoverExpired(kT0 + 5000);
  ASSERT_EQ(rec->size(), 1u);
  EXPECT_FALSE((*rec)[0].requeued);
  auto job = store_->GetJob(j.id);
  EXPECT_EQ(job->status, "failed");
  ASSERT_TRUE(job->failure_reason.has_value());
  EXPECT_NE(job->failure_reason->find("stopped responding"), std::string::npos);
  EXPECT_FALSE(store_->Claim("w", {TaskKind::kTrain}, 1000, kT0 + 6000)->has_value());
}

TEST_P(StoreTest, ReleaseHandsLeasesBackWithoutCountingAnAttempt) {
  JobRecord j = NewJob();
  ASSERT_TRUE(store_->CreateJob(j, 1).ok());
  auto t = store_->Claim("stopping", {TaskKind::kTrain}, 30000, kT0);
  ASSERT_TRUE(t.ok() && t->has_value());
  ASSERT_TRUE(*store_->MarkRunning(j.id, kT0));
  ASSERT_TRUE(store_->Release("stopping", kT0 + 1).ok());
  EXPECT_EQ(store_->GetJob(j.id)->status, "pending");
  auto again = store_->Claim("next", {TaskKind::kTrain}, 30000, kT0 + 2);
  ASSERT_TRUE(again.ok() && again->has_value());
  EXPECT_EQ((*again)->attempts, 1);  // max_attempts is 1 and it may still run
}

TEST_P(StoreTest, ConcurrentWorkersClaimEveryTaskExactlyOnce) {
  constexpr int kTasks = 1000;
  constexpr int kWorkers = 8;
  for (int i = 0; i < kTasks; ++i) {
    ASSERT_TRUE(store_->Enqueue(TaskKind::kTrain, "job" + std::to_string(i), 3, kT0 + i).ok());
  }
  std::mutex mu;
  std::multiset<std::string> claimed;
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWorkers; ++w) {
    threads.emplace_back([&, w] {
      const std::string owner = "worker-" + std::to_string(w);
      while (true) {
        auto t = store_->Claim(owner, {TaskKind::kTrain}, 60000, kT0 + kTasks);
        if (!t.ok()) {
          ++errors;
          continue;
        }
        if (!t->has_value()) return;
        {
          std::lock_guard<std::mutex> lock(mu);
          claimed.insert((*t)->ref_id);
        }
        if (!store_->Finish((*t)->id, owner, true, kT0 + kTasks).ok()) ++errors;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors, 0);
  EXPECT_EQ(claimed.size(), static_cast<size_t>(kTasks));
  EXPECT_EQ(std::set<std::string>(claimed.begin(), claimed.end()).size(),
            static_cast<size_t>(kTasks));
  EXPECT_EQ((*store_->QueueDepth())["train"], 0);
}

TEST_P(StoreTest, DeploymentsArtifactsExportsMetricsAudit) {
  DeploymentRecord d;
  d.id = ids_.Next();
  d.training_job_id = "job";
  d.deployment_name = "recs";
  d.environment = "staging";
  d.auto_scaling = {{"minInstances", 1}, {"maxInstances", 5}, {"targetCPU", 70}};
  d.created_by = "aaaaaaaaaaaaaaaaaaaaaaaa";
  d.created_at = d.updated_at = kT0;
  ASSERT_TRUE(store_->CreateDeployment(d).ok());
  d.status = "active";
  d.deployed_at = kT0 + 5;
  ASSERT_TRUE(store_->UpdateDeployment(d).ok());
  auto gd = store_->GetDeployment(d.id);
  ASSERT_TRUE(gd.ok());
  EXPECT_EQ(gd->status, "active");
  EXPECT_EQ(gd->auto_scaling["targetCPU"], 70);
  EXPECT_EQ(gd->deployed_at, kT0 + 5);
  EXPECT_EQ(store_->ListDeployments(std::string("active"))->size(), 1u);
  EXPECT_TRUE(absl::IsNotFound(store_->GetDeployment(ids_.Next()).status()));

  ArtifactRecord a;
  a.id = ids_.Next();
  a.training_job_id = "job";
  a.model_type = "churn_prediction";
  a.framework = "xgboost";
  a.version = "1.7.4";
  a.file_path = "/x/model.ubj";
  a.file_size = 1234;
  a.checksum = std::string(64, 'a');
  a.metadata = {{"features", {"a", "b"}}};
  ASSERT_TRUE(store_->CreateArtifact(a).ok());
  auto ga = store_->GetArtifact(a.id);
  ASSERT_TRUE(ga.ok());
  EXPECT_EQ(ga->file_size, 1234);
  EXPECT_EQ(ga->metadata, a.metadata);

  ExportRecord e;
  e.id = ids_.Next();
  e.training_job_id = "job";
  e.format = "onnx";
  e.requested_by = "aaaaaaaaaaaaaaaaaaaaaaaa";
  e.created_at = kT0;
  ASSERT_TRUE(store_->CreateExport(e).ok());
  e.status = "completed";
  e.completed_at = kT0 + 9;
  e.report = {{"parity", {{"maxAbsDiff", 1e-6}}}};
  ASSERT_TRUE(store_->UpdateExport(e).ok());
  auto ge = store_->GetExport(e.id);
  EXPECT_EQ(ge->status, "completed");
  EXPECT_EQ(ge->completed_at, kT0 + 9);
  EXPECT_TRUE(ge->include_metadata);

  PerformanceRecord p{"", d.id, kT0, {{"latency", 3.5}}, 10, kT0};
  ASSERT_TRUE(store_->UpsertPerformance(p).ok());
  p.metrics["latency"] = 4.5;
  p.sample_size = 20;
  ASSERT_TRUE(store_->UpsertPerformance(p).ok());  // same bucket: replaced
  auto perf = store_->ListPerformance(d.id, kT0 - 1, kT0 + 1);
  ASSERT_EQ(perf->size(), 1u);
  EXPECT_EQ((*perf)[0].metrics["latency"], 4.5);
  EXPECT_EQ((*perf)[0].sample_size, 20);

  for (int i = 0; i < 5; ++i) {
    AuditRecord r;
    r.at = kT0 + i;
    r.user_id = i % 2 ? "u1" : "u2";
    r.action = i < 3 ? "training.initiate" : "training.cancel";
    r.status = 202;
    r.outcome = "success";
    ASSERT_TRUE(store_->AppendAudit(r).ok());
  }
  AuditQuery aq;
  aq.user_id = "u2";
  auto audit = store_->ListAudit(aq);
  EXPECT_EQ(audit->second, 3);
  EXPECT_EQ(audit->first[0].at, kT0 + 4);  // newest first
  aq = {};
  aq.action = "training.cancel";
  aq.from = kT0 + 4;
  EXPECT_EQ(store_->ListAudit(aq)->second, 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tsml::store
