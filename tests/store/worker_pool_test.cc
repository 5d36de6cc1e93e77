// Workers over the durable queue, on SQLite and PostgreSQL: completion, recovery of a dead
// worker's job after a restart, cancellation from another server, graceful stop, scale-out.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include "common/file_util.h"
#include "jobs/worker_pool.h"
#include "store/sql_stores.h"
#include "support/fake_trainer.h"
#include "support/test_db.h"
#include "support/test_server.h"

namespace tsml::jobs {
namespace {

using common::Millis;
constexpr Millis kT0 = 1'780'000'000'000;

class WorkerPoolTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto db = test::ScopedTestDatabase::Create(GetParam(), dir_.path());
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::make_unique<test::ScopedTestDatabase>(*std::move(db));
    store_ = OpenStoreOrDie();
    test::RegisterFakeTrainer(registry_, control_);
  }
  void TearDown() override {
    pools_.clear();
    store_.reset();
    db_.reset();
  }

  std::unique_ptr<store::Store> OpenStoreOrDie() {
    auto s = store::OpenStore(db_->url(), &ids_, clock_, {8, 5000});
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *std::move(s) : nullptr;
  }

  WorkerPool& StartPool(int workers, store::Store* store = nullptr) {
    WorkerPoolOptions o;
    o.workers = workers;
    o.lease_ms = 10000;
    o.heartbeat_ms = 100;
    o.poll_ms = 20;
    o.recover_every_ms = 0;
    o.artifact_dir = dir_.path() + "/artifacts";
    pools_.push_back(std::make_unique<WorkerPool>(o, store ? store : store_.get(), &registry_,
                                                  &clock_, &ids_));
    pools_.back()->Start();
    return *pools_.back();
  }

  std::string Submit() {
    store::JobRecord j;
    j.id = ids_.Next();
    j.model_type = "churn_prediction";
    j.training_data = {{"source", "user_profiles"}};
    j.compute_resources = {{"cpu", 1}, {"memory", 1}, {"gpu", false}};
    j.created_by = "aaaaaaaaaaaaaaaaaaaaaaaa";
    j.created_at = j.updated_at = clock_.NowMillis();
    EXPECT_TRUE(store_->CreateJob(j, 3).ok());
    return j.id;
  }

  store::JobRecord WaitFor(const std::string& id, const std::string& status,
                           int timeout_ms = 10000) {
    store::JobRecord job;
    for (int waited = 0; waited < timeout_ms; waited += 10) {
      auto j = store_->GetJob(id);
      if (j.ok()) job = *j;
      if (job.status == status) return job;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ADD_FAILURE() << id << " never became " << status << " (is " << job.status << ")";
    return job;
  }

  test::TempDir dir_;
  common::FakeClock clock_{kT0};
  common::IdGenerator ids_{&clock_};
  std::unique_ptr<test::ScopedTestDatabase> db_;
  std::unique_ptr<store::Store> store_;
  train::TrainerRegistry registry_;
  std::shared_ptr<test::FakeTrainerControl> control_ = std::make_shared<test::FakeTrainerControl>();
  std::vector<std::unique_ptr<WorkerPool>> pools_;
};

TEST_P(WorkerPoolTest, CompletesAJobAndRecordsAVerifiableArtifact) {
  StartPool(1);
  const std::string id = Submit();
  store::JobRecord job = WaitFor(id, "completed");
  ASSERT_TRUE(job.model_artifact_id.has_value());
  auto artifact = store_->GetArtifact(*job.model_artifact_id);
  ASSERT_TRUE(artifact.ok());
  EXPECT_EQ(artifact->training_job_id, id);
  EXPECT_EQ(*common::Sha256File(artifact->file_path), artifact->checksum);
  EXPECT_EQ(artifact->file_size,
            static_cast<int64_t>(std::filesystem::file_size(artifact->file_path)));
}

TEST_P(WorkerPoolTest, RestartRecoversTheJobOfADeadWorkerAndRunsPendingOnes) {
  // Before the "restart": one job was running on a worker that died, one was pending.
  const std::string orphan = Submit();
  auto t = store_->Claim("dead-worker", {store::TaskKind::kTrain}, 10000, clock_.NowMillis());
  ASSERT_TRUE(t.ok() && t->has_value());
  ASSERT_TRUE(*store_->MarkRunning(orphan, clock_.NowMillis()));
  const std::string pending = Submit();
  store_.reset();  // the server is gone

  clock_.Advance(10001);  // the dead worker's lease has run out
  store_ = OpenStoreOrDie();
  StartPool(1);
  WaitFor(pending, "completed");
  store::JobRecord job = WaitFor(orphan, "completed");
  EXPECT_EQ(job.attempts, 2);
  EXPECT_EQ(control_->started, 2);
}

TEST_P(WorkerPoolTest, CancelMadeThroughAnotherServerStopsTheJobWithinTwoSeconds) {
  control_->steps = 100000;
  control_->step_ms = 10;
  StartPool(1);
  const std::string id = Submit();
  WaitFor(id, "running");
  auto other_server = OpenStoreOrDie();  // its own connections, as another process would
  const int64_t t0 = test::SteadyNowMs();
  ASSERT_TRUE(other_server->CancelJob(id, clock_.NowMillis()).ok());
  for (int i = 0; i < 300 && control_->cancelled == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(control_->cancelled, 1);
  EXPECT_LT(control_->cancel_seen_at_ms - t0, 2000);
  store::JobRecord job = WaitFor(id, "cancelled");
  EXPECT_FALSE(job.model_artifact_id.has_value());
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/artifacts/models/" + id));
}

TEST_P(WorkerPoolTest, GracefulStopReleasesTheLeaseForTheNextWorker) {
  control_->steps = 100000;
  control_->step_ms = 10;
  WorkerPool& first = StartPool(1);
  const std::string id = Submit();
  WaitFor(id, "running");
  first.Stop();
  EXPECT_EQ(store_->GetJob(id)->status, "pending");
  control_->steps = 2;
  StartPool(1);
  store::JobRecord job = WaitFor(id, "completed");
  EXPECT_EQ(control_->started, 2);
}

TEST_P(WorkerPoolTest, HandlerTasksKeepTheirLeaseAndHandItBackOnStop) {
  std::atomic<int> calls{0};
  std::atomic<bool> saw_shutdown{false};
  WorkerPoolOptions o;
  o.lease_ms = 10000;
  o.heartbeat_ms = 50;
  o.poll_ms = 20;
  o.artifact_dir = dir_.path() + "/artifacts";
  o.handlers[store::TaskKind::kExport] = [&](const store::TaskRecord&,
                                             const common::CancellationToken& cancel) {
    ++calls;
    for (int i = 0; i < 1000 && !cancel.cancelled(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    saw_shutdown = cancel.reason() == common::CancelReason::kShutdown;
    return absl::CancelledError("interrupted");
  };
  WorkerPool pool(o, store_.get(), &registry_, &clock_, &ids_);
  pool.Start();
  ASSERT_TRUE(store_->Enqueue(store::TaskKind::kExport, "export-1", 3, clock_.NowMillis()).ok());
  for (int i = 0; i < 500 && calls == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(calls, 1);
  // A long export outlives its first lease: the heartbeat renews it, so nothing is recovered.
  clock_.Advance(5000);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  clock_.Advance(6000);
  auto recovered = store_->RecoverExpired(clock_.NowMillis());
  ASSERT_TRUE(recovered.ok()) << recovered.status();
  EXPECT_TRUE(recovered->empty());
  // Stop: the handler sees the shutdown, the task goes back to the queue for the next worker.
  pool.Stop();
  EXPECT_TRUE(saw_shutdown);
  auto next = store_->Claim("next-worker", {store::TaskKind::kExport}, 10000, clock_.NowMillis());
  ASSERT_TRUE(next.ok()) << next.status();
  ASSERT_TRUE(next->has_value());
  EXPECT_EQ((*next)->ref_id, "export-1");
  EXPECT_EQ(calls, 1);
}

TEST_P(WorkerPoolTest, UnknownModelTypeFailsWithAClearReason) {
  train::TrainerRegistry empty;
  WorkerPoolOptions o;
  o.poll_ms = 20;
  o.artifact_dir = dir_.path() + "/artifacts";
  WorkerPool pool(o, store_.get(), &empty, &clock_, &ids_);
  pool.Start();
  const std::string id = Submit();
  store::JobRecord job = WaitFor(id, "failed");
  EXPECT_EQ(*job.failure_reason,
            "no trainer for model type 'churn_prediction' is available in this build");
  pool.Stop();
}

TEST_P(WorkerPoolTest, TwoWorkerProcessesShareOneQueueWithoutDoubleExecution) {
  control_->steps = 1;
  control_->step_ms = 1;
  auto second_store = OpenStoreOrDie();  // a second process with its own connection pool
  StartPool(3);
  StartPool(3, second_store.get());
  std::vector<std::string> ids;
  for (int i = 0; i < 60; ++i) ids.push_back(Submit());
  for (const auto& id : ids) WaitFor(id, "completed");
  EXPECT_EQ(control_->started, 60);
  pools_.clear();
}

INSTANTIATE_TEST_SUITE_P(Backends, WorkerPoolTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tsml::jobs
