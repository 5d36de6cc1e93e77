// Spec endpoints 6–9, predict, feedback and alerts over real HTTP with the real trainers:
// every error code, the served model matching the trained one, monitoring, alerts, retrain,
// and a restart that keeps active deployments serving.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "common/json_util.h"
#include "common/time_util.h"
#include "support/test_server.h"

namespace tsml::test {
namespace {

Json Body(const HttpClient::Response& r) {
  auto j = common::ParseJson(r.body);
  return j.ok() ? *j : Json();
}

std::set<std::string> Fields(const HttpClient::Response& r) {
  std::set<std::string> out;
  const Json b = Body(r);
  if (b.contains("error") && b["error"].contains("details")) {
    for (const auto& d : b["error"]["details"]) out.insert(d["field"].get<std::string>());
  }
  return out;
}

std::string NowIso() {
  return common::FormatIso8601(common::SystemClock::Default()->NowMillis());
}

class ServeE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    TestServerOptions o;
    o.real_models = true;
    o.demo_events = 40000;
    o.dir = dir_->path();
    o.serving.sync_ms = 200;
    server_ = new TestServer(o);
  }
  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
  }

  HttpClient::Response Call(const std::string& method, const std::string& target,
                            const std::string& body = "", const std::string& token = "") {
    return server_->Call(method, target, token.empty() ? token_ : token, body);
  }
  Json WaitJob(const std::string& id) {
    Json job;
    for (int i = 0; i < 2400; ++i) {
      job = Body(Call("GET", "/api/ml/training/status/" + id));
      const std::string s = job.value("status", "");
      if (s == "completed" || s == "failed" || s == "cancelled") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return job;
  }
  Json WaitDeployment(const std::string& id, const std::string& status) {
    Json d;
    for (int i = 0; i < 400; ++i) {
      d = Body(Call("GET", "/api/ml/deployment/status/" + id));
      if (d.value("status", "") == status) return d;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    ADD_FAILURE() << "deployment never became " << status << ": " << d.dump();
    return d;
  }
  std::string TrainChurn() {
    auto r = Call("POST", "/api/ml/training/initiate",
                  R"({"modelType":"churn_prediction","trainingData":{"source":"user_profiles"}})");
    EXPECT_EQ(r.status, 202) << r.body;
    const std::string id = Body(r)["jobId"];
    EXPECT_EQ(WaitJob(id)["status"], "completed");
    return id;
  }
  std::string Deploy(const std::string& job, const std::string& name, const std::string& extra = "") {
    auto r = Call("POST", "/api/ml/training/deploy/" + job,
                  R"({"deploymentName":")" + name + R"(","environment":"staging")" + extra + "}");
    EXPECT_EQ(r.status, 202) << r.body;
    const std::string id = Body(r)["deploymentId"];
    WaitDeployment(id, "active");
    return id;
  }

  static inline TempDir* dir_ = nullptr;
  static inline TestServer* server_ = nullptr;
  std::string token_ = TestServer::AdminToken(kAdminUser, false);
};

TEST_F(ServeE2eTest, DeployValidatesInTheSpecsOrder) {
  const std::string job = TrainChurn();
  const std::string other = TestServer::AdminToken(kOtherUser);
  const std::string ok_body = R"({"deploymentName":"churn","environment":"staging"})";
  EXPECT_EQ(Call("POST", "/api/ml/training/deploy/" + job, ok_body, TestServer::Token(kAdminUser, "admin", {"ml:train"})).status, 403);
  EXPECT_EQ(Call("POST", "/api/ml/training/deploy/nope", ok_body).status, 400);
  EXPECT_EQ(Call("POST", "/api/ml/training/deploy/0123456789abcdef01234567", ok_body).status, 404);
  EXPECT_EQ(Call("POST", "/api/ml/training/deploy/" + job, ok_body, other).status, 403);
  // A job that is not completed: 409 before the body is validated.
  auto pending = Call("POST", "/api/ml/training/initiate",
                      R"({"modelType":"churn_prediction","trainingData":{"source":"user_profiles"},"hyperparameters":{"nEstimators":5000,"earlyStoppingRounds":0,"learningRate":0.001}})");
  const std::string busy = Body(pending)["jobId"];
  EXPECT_EQ(Call("POST", "/api/ml/training/deploy/" + busy, "{}").status, 409);
  EXPECT_EQ(Call("POST", "/api/ml/training/cancel/" + busy).status, 200);

  struct Case {
    const char* body;
    std::set<std::string> fields;
  };
  const std::vector<Case> cases = {
      {R"({"environment":"staging"})", {"deploymentName"}},
      {R"({"deploymentName":"","environment":"staging"})", {"deploymentName"}},
      {R"({"deploymentName":"x","environment":"qa"})", {"environment"}},
      {R"({"deploymentName":"x"})", {"environment"}},
      {R"({"deploymentName":"x","environment":"staging","version":"123456789012345678901"})", {"version"}},
      {R"({"deploymentName":"x","environment":"staging","autoScaling":{"minInstances":0}})", {"autoScaling.minInstances"}},
      {R"({"deploymentName":"x","environment":"staging","autoScaling":{"minInstances":11}})", {"autoScaling.minInstances"}},
      {R"({"deploymentName":"x","environment":"staging","autoScaling":{"maxInstances":51}})", {"autoScaling.maxInstances"}},
      {R"({"deploymentName":"x","environment":"staging","autoScaling":{"minInstances":4,"maxInstances":2}})", {"autoScaling.maxInstances"}},
      {R"({"deploymentName":"x","environment":"staging","autoScaling":{"targetCPU":95}})", {"autoScaling.targetCPU"}},
      {R"({"deploymentName":"x","environment":"staging","autoScaling":{"targetCPU":5}})", {"autoScaling.targetCPU"}},
      {R"({"deploymentName":"x","environment":"staging","replicas":3})", {"replicas"}},
  };
  for (const auto& c : cases) {
    auto r = Call("POST", "/api/ml/training/deploy/" + job, c.body);
    EXPECT_EQ(r.status, 400) << c.body << " " << r.body;
    EXPECT_EQ(Fields(r), c.fields) << c.body << " " << r.body;
  }
  std::string long_name(101, 'n');
  EXPECT_EQ(Call("POST", "/api/ml/training/deploy/" + job,
                 R"({"deploymentName":")" + long_name + R"(","environment":"staging"})").status, 400);

  auto r = Call("POST", "/api/ml/training/deploy/" + job, ok_body);
  ASSERT_EQ(r.status, 202) << r.body;
  Json d = Body(r);
  EXPECT_EQ(d["status"], "pending");
  EXPECT_EQ(d["endpointUrl"], "/api/ml/predict/" + d["deploymentId"].get<std::string>());
  EXPECT_EQ(d["autoScaling"], Json({{"minInstances", 1}, {"maxInstances", 5}, {"targetCPU", 70}}));
  // Already deployed: 409.
  EXPECT_EQ(Call("POST", "/api/ml/training/deploy/" + job, ok_body).status, 409);
  EXPECT_EQ(Body(Call("GET", "/api/ml/training/status/" + job))["deploymentId"], d["deploymentId"]);
  Json active = WaitDeployment(d["deploymentId"], "active");
  EXPECT_TRUE(active["deployedAt"].is_string());
  EXPECT_EQ(active["healthMetrics"]["currentInstances"], 1);
}

TEST_F(ServeE2eTest, PredictServesTheTrainedModelAndRecordsTraffic) {
  const std::string job = TrainChurn();
  const std::string dep = Deploy(job, "churn-serve");
  const std::string predict = "/api/ml/predict/" + dep;
  const std::string service = TestServer::Token("dddddddddddddddddddddddd", "service", {"ml:predict"});
  auto r = Call("POST", predict,
                R"({"instances":[{"days_since_last_login":300,"support_tickets":6,"total_spend":50,"sessions_last_30d":0},
                                 {"days_since_last_login":0,"support_tickets":0,"total_spend":9000,"sessions_last_30d":30}]})",
                service);
  ASSERT_EQ(r.status, 200) << r.body;
  Json out = Body(r);
  ASSERT_EQ(out["predictions"].size(), 2u);
  EXPECT_EQ(out["deploymentId"], dep);
  EXPECT_EQ(out["modelVersion"], job);
  const double risky = out["predictions"][0]["probability"], loyal = out["predictions"][1]["probability"];
  EXPECT_GT(risky, loyal);  // the planted churn signal, served
  EXPECT_EQ(out["predictions"][0]["predictionId"].get<std::string>().size(), 24u);

  // Errors: bad bodies, wrong types, unknown and inactive deployments, auth.
  EXPECT_EQ(Call("POST", predict, R"({"rows":[]})").status, 400);
  EXPECT_EQ(Call("POST", predict, R"({"instances":[]})").status, 400);
  auto wrong = Call("POST", predict, R"({"instances":[{"age":"old"}]})");
  EXPECT_EQ(wrong.status, 400);
  EXPECT_NE(wrong.body.find("instances[0].age"), std::string::npos) << wrong.body;
  EXPECT_EQ(Call("POST", "/api/ml/predict/0123456789abcdef01234567", R"({"instances":[{}]})").status, 404);
  EXPECT_EQ(Call("POST", "/api/ml/predict/xyz", R"({"instances":[{}]})").status, 400);
  EXPECT_EQ(Call("POST", predict, R"({"instances":[{}]})", TestServer::Token(kAdminUser, "admin", {"ml:train"})).status, 403);
  EXPECT_EQ(server_->Call("POST", predict, "", R"({"instances":[{}]})").status, 401);

  // Live health metrics reflect the traffic.
  Json status = Body(Call("GET", "/api/ml/deployment/status/" + dep));
  EXPECT_GE(status["healthMetrics"]["requests"].get<int>(), 4);
  EXPECT_GE(status["healthMetrics"]["errors"].get<int>(), 2);
  EXPECT_TRUE(status["healthMetrics"]["lastPredictionAt"].is_string());
  EXPECT_GT(status["healthMetrics"]["latencyMs"]["p99"].get<double>(), 0);
  // /metrics carries per-deployment series.
  auto metrics = server_->Call("GET", "/metrics", "");
  EXPECT_NE(metrics.body.find("tsml_predictions_total{deployment=\"" + dep), std::string::npos);

  // Stop: inactive, then 409 on predict.
  auto stop = Call("POST", "/api/ml/deployment/stop/" + dep);
  ASSERT_EQ(stop.status, 200) << stop.body;
  EXPECT_EQ(Body(stop)["status"], "inactive");
  EXPECT_EQ(Call("POST", predict, R"({"instances":[{}]})").status, 409);
  EXPECT_EQ(Call("POST", "/api/ml/deployment/stop/" + dep).status, 409);
}

TEST_F(ServeE2eTest, EveryModelTypeDeploysAndPredicts) {
  struct Case {
    const char* train;
    const char* instances;
    const char* expect_key;
  };
  const std::vector<Case> cases = {
      {R"({"modelType":"recommendation","trainingData":{"source":"user_events"}})",
       R"({"instances":[{"userId":"u100001"},{"userId":"nobody-new"}],"k":5})", "items"},
      {R"({"modelType":"nlp_sentiment","trainingData":{"source":"reviews"}})",
       R"({"instances":[{"text":"Wonderful stay, the staff were amazing"},{"text":"not good at all, dirty room"}]})", "label"},
      {R"({"modelType":"demand_forecast","trainingData":{"source":"bookings"}})",
       R"({"instances":[{}]})", "forecast"},
      {R"({"modelType":"predictive_analytics","trainingData":{"source":"bookings","target":"amount"}})",
       R"({"instances":[{"nights":4,"price_per_night":150.0}]})", "value"},
  };
  int n = 0;
  for (const auto& c : cases) {
    auto r = Call("POST", "/api/ml/training/initiate", c.train);
    ASSERT_EQ(r.status, 202) << r.body;
    const std::string job = Body(r)["jobId"];
    ASSERT_EQ(WaitJob(job)["status"], "completed") << c.train;
    const std::string dep = Deploy(job, "every-type-" + std::to_string(n++));
    auto p = Call("POST", "/api/ml/predict/" + dep, c.instances);
    ASSERT_EQ(p.status, 200) << c.train << " " << p.body;
    const Json preds = Body(p)["predictions"];
    ASSERT_FALSE(preds.empty());
    for (const auto& pr : preds) EXPECT_TRUE(pr.contains(c.expect_key)) << pr.dump();
  }
}

TEST_F(ServeE2eTest, StatusErrorsAndVersionHistory) {
  const std::string job1 = TrainChurn();
  const std::string dep1 = Deploy(job1, "churn-versions");
  const std::string job2 = TrainChurn();
  const std::string dep2 = Deploy(job2, "churn-versions");
  WaitDeployment(dep1, "inactive");  // the new version replaced it
  Json s = Body(Call("GET", "/api/ml/deployment/status/" + dep2));
  EXPECT_EQ(s["versionHistory"].size(), 2u);
  EXPECT_EQ(Call("GET", "/api/ml/deployment/status/bad").status, 400);
  EXPECT_EQ(Call("GET", "/api/ml/deployment/status/0123456789abcdef01234567").status, 404);
  EXPECT_EQ(Call("GET", "/api/ml/deployment/status/" + dep2, "", TestServer::AdminToken(kOtherUser)).status, 403);
  EXPECT_EQ(Call("GET", "/api/ml/deployment/status/" + dep2, "", TestServer::Token(kAdminUser, "admin", {"ml:monitor"})).status, 403);
  EXPECT_EQ(Call("GET", "/api/ml/deployment/status/" + dep2, "", TestServer::AdminToken(kOtherUser, true)).status, 200);
}

TEST_F(ServeE2eTest, FeedbackChangesMonitoredAccuracyAndAlertsFire) {
  const std::string job = TrainChurn();
  const std::string dep = Deploy(job, "churn-monitor",
                                 R"(,"alertThresholds":{"p95LatencyMs":0.01,"errorRatePercent":1,"minRequests":1})");
  std::vector<std::string> ids, labels;
  for (int i = 0; i < 10; ++i) {
    auto r = Call("POST", "/api/ml/predict/" + dep,
                  i % 3 ? R"({"instances":[{"days_since_last_login":300,"support_tickets":6,"sessions_last_30d":0}]})"
                        : R"({"instances":[{"days_since_last_login":0,"support_tickets":0,"total_spend":9000,"sessions_last_30d":30}]})");
    ids.push_back(Body(r)["predictions"][0]["predictionId"]);
    labels.push_back(Body(r)["predictions"][0]["label"]);
  }
  Call("POST", "/api/ml/predict/" + dep, R"({"instances":[{"age":[1]}]})");  // an error
  // Ground truth: alternating 0/1; the expected monitored metrics follow from the labels.
  Json fb = Json::array();
  double tp = 0, fp = 0, fn = 0, correct = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    const int actual = static_cast<int>(i % 2);
    fb.push_back({{"predictionId", ids[i]}, {"actual", actual}});
    const bool pred = labels[i] == "1";
    correct += pred == (actual == 1);
    tp += pred && actual == 1;
    fp += pred && actual == 0;
    fn += !pred && actual == 1;
  }
  ASSERT_GT(tp + fp, 0) << "the model predicted no churn at all";
  fb.push_back({{"predictionId", "ffffffffffffffffffffffff"}, {"actual", 1}});
  auto r = Call("POST", "/api/ml/monitoring/feedback/" + dep, fb.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["accepted"], 10);
  EXPECT_EQ(Body(r)["unmatched"].size(), 1u);
  EXPECT_EQ(Call("POST", "/api/ml/monitoring/feedback/" + dep, R"({"feedback":[{"predictionId":"x"}]})").status, 400);
  EXPECT_EQ(Call("POST", "/api/ml/monitoring/feedback/" + dep, "[]").status, 400);
  EXPECT_EQ(Call("POST", "/api/ml/monitoring/feedback/" + dep, fb.dump(), TestServer::Token(kAdminUser, "admin", {"ml:deploy"})).status, 403);

  const std::string q = "/api/ml/monitoring/performance/" + dep + "?startDate=2026-01-01&endDate=" + NowIso();
  auto perf = Call("GET", q + "&granularity=hourly&metrics=accuracy,precision,recall,f1Score,latency,errorRate");
  ASSERT_EQ(perf.status, 200) << perf.body;
  Json p = Body(perf);
  ASSERT_TRUE(p["summary"]["accuracy"].is_number()) << p["summary"].dump();
  ASSERT_TRUE(p["summary"]["precision"].is_number()) << p["summary"].dump();
  EXPECT_DOUBLE_EQ(p["summary"]["accuracy"].get<double>(), correct / 10);
  EXPECT_DOUBLE_EQ(p["summary"]["precision"].get<double>(), tp / (tp + fp));
  EXPECT_DOUBLE_EQ(p["summary"]["recall"].get<double>(), tp / (tp + fn));
  EXPECT_EQ(p["summary"]["totalRequests"], 11);
  EXPECT_GT(p["summary"]["errorRate"].get<double>(), 0);
  EXPECT_EQ(p["granularity"], "hourly");
  EXPECT_FALSE(p["series"].empty());
  EXPECT_FALSE(p["series"].back()["metrics"].contains("throughput"));  // filtered
  // Daily and weekly buckets aggregate the same traffic.
  for (const char* g : {"daily", "weekly"}) {
    Json pg = Body(Call("GET", q + "&granularity=" + g));
    EXPECT_EQ(pg["summary"]["totalRequests"], 11) << g;
  }

  // Every validation rule of endpoint 8.
  const std::string base = "/api/ml/monitoring/performance/" + dep;
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"?endDate=" + NowIso(), "startDate"},
      {"?startDate=2026-01-01", "endDate"},
      {"?startDate=yesterday&endDate=" + NowIso(), "startDate"},
      {"?startDate=2026-01-01&endDate=2099-01-01", "endDate"},
      {"?startDate=2099-01-01&endDate=2099-01-02", "startDate"},
      {"?startDate=2026-03-01&endDate=2026-02-01", "endDate"},
      {"?startDate=2026-01-01&endDate=" + NowIso() + "&granularity=minutely", "granularity"},
      {"?startDate=2026-01-01&endDate=" + NowIso() + "&metrics=latency,happiness", "metrics"},
  };
  for (const auto& [query, field] : bad) {
    auto br = Call("GET", base + query);
    EXPECT_EQ(br.status, 400) << query << " " << br.body;
    EXPECT_EQ(Fields(br).count(field), 1u) << query << " " << br.body;
  }
  EXPECT_EQ(Call("GET", "/api/ml/monitoring/performance/0123456789abcdef01234567?startDate=2026-01-01&endDate=2026-01-02").status, 404);
  EXPECT_EQ(Call("GET", base + "?startDate=2026-01-01&endDate=2026-01-02", "", TestServer::AdminToken(kOtherUser)).status, 403);

  // Alerts: latency (threshold 0.01 ms) and errors (1 %) fire at the flush.
  server_->app().model_server().FlushOnce(true);
  Json alerts = Body(Call("GET", "/api/ml/monitoring/alerts/" + dep));
  std::set<std::string> kinds;
  for (const auto& a : alerts["alerts"]) kinds.insert(a["kind"].get<std::string>());
  EXPECT_TRUE(kinds.count("latency")) << alerts.dump();
  EXPECT_TRUE(kinds.count("error_rate")) << alerts.dump();
  EXPECT_EQ(Call("GET", "/api/ml/monitoring/alerts/" + dep, "", TestServer::AdminToken(kOtherUser)).status, 403);
}

TEST_F(ServeE2eTest, DriftIsMeasuredAgainstTrainingAndAlerts) {
  const std::string job = TrainChurn();
  const std::string dep = Deploy(job, "churn-drift", R"(,"alertThresholds":{"driftPsi":0.2})");
  // 600 rows of users far older and staler than any seen in training.
  std::string body = R"({"instances":[)";
  for (int i = 0; i < 600; ++i) {
    body += std::string(i ? "," : "") + R"({"age":79,"days_since_last_login":360,"country":"JP","total_spend":5.0})";
  }
  body += "]}";
  ASSERT_EQ(Call("POST", "/api/ml/predict/" + dep, body).status, 200);
  Json perf = Body(Call("GET", "/api/ml/monitoring/performance/" + dep + "?startDate=2026-01-01&endDate=" + NowIso()));
  ASSERT_TRUE(perf["drift"].is_object()) << perf.dump();
  EXPECT_EQ(perf["drift"]["rows"], 600);
  std::map<std::string, double> psi;
  for (const auto& f : perf["drift"]["features"]) psi[f["column"]] = f["psi"];
  EXPECT_GT(psi["age"], 0.2);
  EXPECT_GT(psi["days_since_last_login"], 0.2);
  EXPECT_EQ(perf["drift"]["features"][0]["status"], "significant");
  server_->app().model_server().FlushOnce(true);
  Json alerts = Body(Call("GET", "/api/ml/monitoring/alerts/" + dep));
  bool drift_alert = false;
  for (const auto& a : alerts["alerts"]) drift_alert |= a["kind"] == "drift";
  EXPECT_TRUE(drift_alert) << alerts.dump();
}

TEST_F(ServeE2eTest, RetrainValidatesAndIncrementalStartsFromTheDeployedModel) {
  const std::string job = TrainChurn();
  const std::string dep = Deploy(job, "churn-retrain");
  const std::string url = "/api/ml/training/retrain/" + dep;
  EXPECT_EQ(Fields(Call("POST", url, R"({"incremental":true})")), std::set<std::string>{"trainingData.source"});
  EXPECT_EQ(Fields(Call("POST", url, R"({"trainingData":{"source":"x"}})")), std::set<std::string>{"trainingData.source"});
  EXPECT_EQ(Fields(Call("POST", url, R"({"trainingData":{"source":"user_profiles"},"incremental":"yes"})")), std::set<std::string>{"incremental"});
  EXPECT_EQ(Fields(Call("POST", url, R"({"trainingData":{"source":"user_profiles"},"hyperparameters":[]})")), std::set<std::string>{"hyperparameters"});
  EXPECT_EQ(Fields(Call("POST", url, R"({"trainingData":{"source":"user_profiles","dateRange":{"startDate":"2026-02-01","endDate":"2026-01-01"}}})")),
            std::set<std::string>{"trainingData.dateRange.endDate"});
  EXPECT_EQ(Call("POST", "/api/ml/training/retrain/0123456789abcdef01234567", R"({"trainingData":{"source":"user_profiles"}})").status, 404);
  EXPECT_EQ(Call("POST", "/api/ml/training/retrain/bad", R"({"trainingData":{"source":"user_profiles"}})").status, 400);
  EXPECT_EQ(Call("POST", url, R"({"trainingData":{"source":"user_profiles"}})", TestServer::AdminToken(kOtherUser)).status, 403);

  auto r = Call("POST", url, R"({"trainingData":{"source":"user_profiles"},"incremental":true,"hyperparameters":{"nEstimators":20}})");
  ASSERT_EQ(r.status, 202) << r.body;
  Json created = Body(r);
  EXPECT_EQ(created["status"], "pending");
  EXPECT_EQ(created["parentJobId"], job);
  EXPECT_EQ(created["hyperparameters"]["nEstimators"], 20);
  EXPECT_EQ(created["hyperparameters"]["maxDepth"], 6);  // merged with the original
  Json done = WaitJob(created["jobId"]);
  ASSERT_EQ(done["status"], "completed") << done.dump();
  EXPECT_EQ(done["trainingMode"]["mode"], "incremental") << done.dump();
  EXPECT_GT(done["trainingMode"]["baseRounds"].get<int>(), 0);
}

TEST_F(ServeE2eTest, IncrementalRecommenderRetrainStartsFromTheDeployedFactors) {
  auto r = Call("POST", "/api/ml/training/initiate",
                R"({"modelType":"recommendation","trainingData":{"source":"user_events"}})");
  const std::string job = Body(r)["jobId"];
  ASSERT_EQ(WaitJob(job)["status"], "completed");
  const std::string dep = Deploy(job, "recs-retrain");
  auto rt = Call("POST", "/api/ml/training/retrain/" + dep,
                 R"({"trainingData":{"source":"user_events"},"incremental":true})");
  ASSERT_EQ(rt.status, 202) << rt.body;
  Json done = WaitJob(Body(rt)["jobId"]);
  ASSERT_EQ(done["status"], "completed") << done.dump();
  EXPECT_EQ(done["trainingMode"]["mode"], "incremental") << done.dump();
  // A forecast cannot warm-start: the job says so and trains from scratch.
  auto f = Call("POST", "/api/ml/training/initiate",
                R"({"modelType":"demand_forecast","trainingData":{"source":"bookings"}})");
  const std::string fjob = Body(f)["jobId"];
  ASSERT_EQ(WaitJob(fjob)["status"], "completed");
  const std::string fdep = Deploy(fjob, "forecast-retrain");
  auto ft = Call("POST", "/api/ml/training/retrain/" + fdep,
                 R"({"trainingData":{"source":"bookings"},"incremental":true})");
  Json fdone = WaitJob(Body(ft)["jobId"]);
  ASSERT_EQ(fdone["status"], "completed") << fdone.dump();
  EXPECT_EQ(fdone["trainingMode"]["mode"], "full");
  EXPECT_EQ(fdone["trainingMode"]["incrementalRequested"], true);
}

TEST_F(ServeE2eTest, ActiveDeploymentsServeAgainAfterARestart) {
  const std::string job = TrainChurn();
  const std::string dep = Deploy(job, "churn-restart");
  const std::string body = R"({"instances":[{"days_since_last_login":120}]})";
  const Json before = Body(Call("POST", "/api/ml/predict/" + dep, body))["predictions"][0];
  delete server_;
  TestServerOptions o;
  o.real_models = true;
  o.dir = dir_->path();
  o.seed = false;  // the same data and state: a restart
  server_ = new TestServer(o);
  auto r = Call("POST", "/api/ml/predict/" + dep, body);
  ASSERT_EQ(r.status, 200) << r.body;
  const Json after = Body(r)["predictions"][0];
  EXPECT_EQ(after["probability"], before["probability"]);
  EXPECT_EQ(Body(Call("GET", "/api/ml/deployment/status/" + dep))["status"], "active");
}

}  // namespace
}  // namespace tsml::test
