// Job submission and job list latency over HTTP keep-alive with 100k jobs stored, on SQLite
// and PostgreSQL (CONTRACT §9). Usage: api_bench [--jobs N] [--requests N] [--pg URL]
//   [--out bench/results.json]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

#include "api/app.h"
#include "bench_util.h"
#include "common/logging.h"
#include "common/strings.h"
#include "store/sql.h"
#include "support/http_client.h"
#include "support/test_db.h"
#include "support/test_server.h"

namespace tsml::bench {
namespace {

constexpr char kBody[] =
    R"({"modelType":"churn_prediction","trainingData":{"source":"user_profiles","filters":{"country":"FR"}},"hyperparameters":{"maxDepth":6},"computeResources":{"cpu":2}})";

// Fills the jobs table with `n` jobs in one statement (fast on both backends).
absl::Status SeedJobs(const std::string& url, int n) {
  auto db = store::OpenDatabase(url);
  if (!db.ok()) return db.status();
  const bool pg = (*db)->backend() == store::SqlBackend::kPostgres;
  const std::string gen =
      pg ? common::StrCat("SELECT x FROM generate_series(1, ", n, ") AS g(x)")
         : common::StrCat("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ",
                          n, ") SELECT x FROM c");
  const std::string id = pg ? "lpad(to_hex(x), 24, '0')" : "printf('%024x', x)";
  const std::string owner = pg ? "lpad(to_hex(x % 50), 24, 'a')" : "printf('%024x', x % 50)";
  const std::string types =
      "CASE x % 6 WHEN 0 THEN 'recommendation' WHEN 1 THEN 'predictive_analytics' WHEN 2 THEN "
      "'nlp_sentiment' WHEN 3 THEN 'user_behavior' WHEN 4 THEN 'demand_forecast' ELSE "
      "'churn_prediction' END";
  const std::string status =
      "CASE x % 5 WHEN 0 THEN 'running' WHEN 1 THEN 'failed' WHEN 2 THEN 'cancelled' ELSE "
      "'completed' END";
  const std::string sql = common::StrCat(
      "INSERT INTO jobs (id, model_type, source, training_data, hyperparameters, "
      "validation_strategy, compute_resources, status, progress, stage, started_at, "
      "completed_at, created_by, created_at, updated_at, attempts) SELECT ",
      id, ", ", types, ", 'user_profiles', '{\"source\":\"user_profiles\"}', '{}', "
      "'train_test_split', '{\"cpu\":4,\"memory\":8,\"gpu\":false}', ", status,
      ", 100, 'completed', 1700000000000 + x * 1000, 1700000000000 + x * 1000 + 500, ", owner,
      ", 1700000000000 + x * 1000, 1700000000000 + x * 1000, 1 FROM (", gen, ") AS s");
  // A long-lived database has statistics (autovacuum/ANALYZE); measure that steady state.
  return (*db)->Run([&](store::SqlConnection& c) -> absl::Status {
    if (auto s = c.Query(sql).status(); !s.ok()) return s;
    return c.ExecScript(pg ? "VACUUM ANALYZE jobs" : "ANALYZE");
  });
}

Json RunBackend(const std::string& name, const std::string& url, int jobs, int requests) {
  test::TempDir dir;
  api::AppOptions o;
  o.config.listen = "127.0.0.1:0";
  o.config.database_url = url.empty() ? "sqlite://" + dir.path() + "/bench.db" : url;
  o.config.artifact_dir = dir.path() + "/artifacts";
  o.config.workers = 0;  // jobs stay queued: this measures the API and the store
  o.config.jwt_secret = test::kTestSecret;
  train::TrainerRegistry none;
  o.trainers = &none;
  common::InitLogging("warn");
  auto app = api::App::Create(o);
  if (!app.ok()) {
    std::cerr << name << ": " << app.status() << "\n";
    return {{"error", std::string(app.status().message())}};
  }
  auto t0 = std::chrono::steady_clock::now();
  if (auto s = SeedJobs(o.config.database_url, jobs); !s.ok()) {
    std::cerr << name << " seeding: " << s << "\n";
    return {{"error", std::string(s.message())}};
  }
  const double seed_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!(*app)->Start().ok()) return {{"error", "cannot start"}};
  test::HttpClient client("127.0.0.1", (*app)->port());
  const std::string admin = test::TestServer::AdminToken(test::kAdminUser, true);
  const std::string user = test::TestServer::AdminToken("000000000000000000000007", false);
  const std::vector<std::pair<std::string, std::string>> auth = {{"Authorization", "Bearer " + admin}};
  const std::vector<std::pair<std::string, std::string>> user_auth = {
      {"Authorization", "Bearer " + user}};

  auto measure = [&](const std::string& method, const std::string& target,
                     const std::string& body, const auto& headers, int expect) {
    std::vector<double> ms;
    for (int i = 0; i < requests; ++i) {
      auto start = std::chrono::steady_clock::now();
      auto r = client.Send(method, target, body, headers);
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                             start)
                       .count());
      if (!r.ok() || r->status != expect) {
        std::cerr << name << " " << target << ": unexpected "
                  << (r.ok() ? std::to_string(r->status) + " " + r->body : r.status().ToString())
                  << "\n";
        break;
      }
    }
    return LatencySummary(ms);
  };
  // Warm up connections and caches.
  for (int i = 0; i < 50; ++i) (void)client.Send("GET", "/api/ml/training/jobs", "", auth);
  Json out = {{"backend", name}, {"jobsStored", jobs}, {"seedSeconds", seed_s}};
  out["submit"] = measure("POST", "/api/ml/training/initiate", kBody, auth, 202);
  out["listAdmin"] = measure("GET", "/api/ml/training/jobs", "", auth, 200);
  out["listFiltered"] = measure(
      "GET", "/api/ml/training/jobs?modelType=recommendation&status=completed&limit=50", "",
      auth, 200);
  out["listOwnJobs"] = measure("GET", "/api/ml/training/jobs", "", user_auth, 200);
  out["listSortedByCompletedAt"] =
      measure("GET", "/api/ml/training/jobs?sortBy=completedAt&sortOrder=asc&offset=1000", "",
              auth, 200);
  (*app)->Stop();
  return out;
}

}  // namespace
}  // namespace tsml::bench

int main(int argc, char** argv) {
  int jobs = 100000, requests = 2000;
  std::string pg = std::getenv("TSML_TEST_PG_URL") ? std::getenv("TSML_TEST_PG_URL") : "";
  std::string out = "bench/results.json";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--jobs")) jobs = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--requests")) requests = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--pg")) pg = argv[i + 1];
    if (!std::strcmp(argv[i], "--out")) out = argv[i + 1];
  }
  tsml::Json result = tsml::Json::object();
  result["sqlite"] = tsml::bench::RunBackend("sqlite", "", jobs, requests);
  if (!pg.empty()) {
    // A fresh schema so the 100k jobs do not mix with earlier runs.
    tsml::test::TempDir dir;
    auto db = tsml::test::ScopedTestDatabase::Create("postgres", dir.path());
    if (db.ok()) result["postgresql"] = tsml::bench::RunBackend("postgresql", db->url(), jobs, requests);
  }
  tsml::bench::MergeResult(out, "jobApi", result);
  std::printf("%-12s %-26s %9s %9s %9s\n", "backend", "operation", "p50 ms", "p99 ms", "target");
  for (const auto& [backend, r] : result.items()) {
    if (!r.contains("submit")) continue;
    for (const char* op : {"submit", "listAdmin", "listFiltered", "listOwnJobs",
                           "listSortedByCompletedAt"}) {
      std::printf("%-12s %-26s %9.3f %9.3f %9s\n", backend.c_str(), op,
                  r[op]["p50Ms"].get<double>(), r[op]["p99Ms"].get<double>(),
                  std::string(op) == "submit" ? "p99<5" : "p99<20");
    }
  }
  return 0;
}
