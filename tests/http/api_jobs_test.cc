// Spec endpoints 1–4 over real HTTP: every validation rule, the check order, success paths.
#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <regex>
#include <set>
#include <thread>

#include "common/json_util.h"
#include "support/test_server.h"

namespace tsml::test {
namespace {

constexpr char kInitiate[] =
    R"({"modelType":"churn_prediction","trainingData":{"source":"user_profiles"}})";

Json Body(const HttpClient::Response& r) {
  auto j = common::ParseJson(r.body);
  EXPECT_TRUE(j.ok()) << r.body;
  return j.ok() ? *j : Json();
}

std::set<std::string> InvalidFields(const HttpClient::Response& r) {
  std::set<std::string> out;
  const Json body = Body(r);
  for (const auto& d : body["error"]["details"]) out.insert(d["field"].get<std::string>());
  return out;
}

bool IsIsoMillis(const Json& v) {
  static const std::regex re(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$)");
  return v.is_string() && std::regex_match(v.get<std::string>(), re);
}

class ApiJobsTest : public ::testing::Test {
 protected:
  HttpClient::Response Initiate(const std::string& body) {
    return server_.Call("POST", "/api/ml/training/initiate", token_, body);
  }
  Json WaitForStatus(const std::string& id, const std::string& status, int timeout_ms = 5000) {
    Json job;
    for (int waited = 0; waited < timeout_ms; waited += 20) {
      job = Body(server_.Call("GET", "/api/ml/training/status/" + id, token_));
      if (job["status"] == status) return job;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << "job " << id << " never reached " << status << ": " << job.dump();
    return job;
  }

  TestServer server_;
  std::string token_ = TestServer::AdminToken();
};

TEST_F(ApiJobsTest, InitiateReturns202WithLocationAndDefaults) {
  server_.trainer().steps = 1000;
  auto r = Initiate(kInitiate);
  ASSERT_EQ(r.status, 202) << r.body;
  Json body = Body(r);
  const std::string id = body["jobId"];
  EXPECT_TRUE(std::regex_match(id, std::regex("^[0-9a-f]{24}$"))) << id;
  EXPECT_EQ(body["status"], "pending");
  EXPECT_TRUE(IsIsoMillis(body["createdAt"])) << body["createdAt"];
  EXPECT_EQ(r.headers["location"], "/api/ml/training/status/" + id);
  EXPECT_EQ(r.headers["content-type"], "application/json");
  EXPECT_FALSE(r.headers["x-request-id"].empty());

  Json job = Body(server_.Call("GET", "/api/ml/training/status/" + id, token_));
  EXPECT_EQ(job["jobId"], id);
  EXPECT_EQ(job["modelType"], "churn_prediction");
  EXPECT_EQ(job["validationStrategy"], "train_test_split");
  EXPECT_EQ(job["computeResources"], Json({{"cpu", 4}, {"memory", 8}, {"gpu", false}}));
  EXPECT_EQ(job["hyperparameters"], Json::object());
  EXPECT_EQ(job["trainingData"]["source"], "user_profiles");
  EXPECT_EQ(job["createdBy"], kAdminUser);
  for (const char* field : {"progress", "stage", "startedAt", "completedAt", "failureReason",
                            "updatedAt", "deploymentId"}) {
    EXPECT_TRUE(job.contains(field)) << field;
  }
  EXPECT_EQ(server_.Call("POST", "/api/ml/training/cancel/" + id, token_).status, 200);
}

TEST_F(ApiJobsTest, InitiateKeepsEveryGivenParameter) {
  server_.trainer().steps = 1000;
  auto r = Initiate(R"({"modelType":"demand_forecast",
      "trainingData":{"source":"bookings","filters":{"channel":"ota"},
                      "dateRange":{"startDate":"2026-01-01","endDate":"2026-03-01T12:00:00+02:00"},
                      "target":"amount","features":["channel","nights"]},
      "hyperparameters":{"horizon":14},"validationStrategy":"time_series_split",
      "computeResources":{"cpu":2,"memory":1.5,"gpu":false}})");
  ASSERT_EQ(r.status, 202) << r.body;
  Json job = Body(server_.Call("GET", "/api/ml/training/status/" + Body(r)["jobId"].get<std::string>(),
                               token_));
  EXPECT_EQ(job["trainingData"]["filters"]["channel"], "ota");
  EXPECT_EQ(job["trainingData"]["dateRange"]["startDate"], "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(job["trainingData"]["dateRange"]["endDate"], "2026-03-01T10:00:00.000Z");
  EXPECT_EQ(job["trainingData"]["target"], "amount");
  EXPECT_EQ(job["hyperparameters"]["horizon"], 14);
  EXPECT_EQ(job["validationStrategy"], "time_series_split");
  EXPECT_EQ(job["computeResources"]["cpu"], 2);
  EXPECT_EQ(job["computeResources"]["memory"], 1.5);
}

TEST_F(ApiJobsTest, InitiateValidatesEveryRuleAndListsAllInvalidFields) {
  struct Case {
    const char* body;
    std::set<std::string> fields;
  };
  const std::vector<Case> cases = {
      {R"({"trainingData":{"source":"trips"}})", {"modelType"}},
      {R"({"modelType":"magic","trainingData":{"source":"trips"}})", {"modelType"}},
      {R"({"modelType":7,"trainingData":{"source":"trips"}})", {"modelType"}},
      {R"({"modelType":"recommendation"})", {"trainingData.source"}},
      {R"({"modelType":"recommendation","trainingData":{}})", {"trainingData.source"}},
      {R"({"modelType":"recommendation","trainingData":"trips"})", {"trainingData"}},
      {R"({"modelType":"recommendation","trainingData":{"source":"tweets"}})",
       {"trainingData.source"}},
      {R"({"modelType":"recommendation","trainingData":{"source":"trips","filters":[1]}})",
       {"trainingData.filters"}},
      {R"({"modelType":"recommendation","trainingData":{"source":"trips","filters":"x=1"}})",
       {"trainingData.filters"}},
      {R"({"modelType":"recommendation","trainingData":{"source":"trips","dateRange":{"startDate":"yesterday"}}})",
       {"trainingData.dateRange.startDate"}},
      {R"({"modelType":"recommendation","trainingData":{"source":"trips","dateRange":{"endDate":"2026-02-30"}}})",
       {"trainingData.dateRange.endDate"}},
      {R"({"modelType":"recommendation","trainingData":{"source":"trips","dateRange":{"startDate":"2026-03-01","endDate":"2026-02-01"}}})",
       {"trainingData.dateRange.endDate"}},
      {R"({"modelType":"recommendation","trainingData":{"source":"trips","dateRange":{"startDate":"2026-03-01","endDate":"2026-03-01"}}})",
       {"trainingData.dateRange.endDate"}},
      {R"({"modelType":"recommendation","trainingData":{"source":"trips"},"hyperparameters":[]})",
       {"hyperparameters"}},
      {R"({"modelType":"recommendation","trainingData":{"source":"trips"},"validationStrategy":"loo"})",
       {"validationStrategy"}},
      {R"({"modelType":"recommendation","trainingData":{"source":"trips"},"computeResources":{"cpu":0}})",
       {"computeResources.cpu"}},
      {R"({"modelType":"recommendation","trainingData":{"source":"trips"},"computeResources":{"cpu":33}})",
       {"computeResources.cpu"}},
      {R"({"modelType":"recommendation","trainingData":{"source":"trips"},"computeResources":{"cpu":2.5}})",
       {"computeResources.cpu"}},
      {R"({"modelType":"recommendation","trainingData":{"source":"trips"},"computeResources":{"cpu":"2"}})",
       {"computeResources.cpu"}},
      {R"({"modelType":"recommendation","trainingData":{"source":"trips"},"computeResources":{"memory":0.5}})",
       {"computeResources.memory"}},
      {R"({"modelType":"recommendation","trainingData":{"source":"trips"},"computeResources":{"memory":129}})",
       {"computeResources.memory"}},
      {R"({"modelType":"recommendation","trainingData":{"source":"trips"},"computeResources":{"memory":true}})",
       {"computeResources.memory"}},
      {R"({"modelType":"recommendation","trainingData":{"source":"trips"},"computeResources":{"gpu":"yes"}})",
       {"computeResources.gpu"}},
      {R"({"modelType":"recommendation","trainingData":{"source":"trips"},"computeResources":7})",
       {"computeResources"}},
      {R"({"modelType":"recommendation","trainingData":{"source":"trips"},"priority":1})",
       {"priority"}},
      {R"({"modelType":"recommendation","trainingData":{"source":"trips","limit":5}})",
       {"trainingData.limit"}},
      // Everything wrong at once: every field is listed.
      {R"({"modelType":"x","trainingData":{"source":"y","filters":1,"dateRange":{"startDate":"z"}},
          "hyperparameters":1,"validationStrategy":"w",
          "computeResources":{"cpu":99,"memory":-1,"gpu":1}})",
       {"modelType", "trainingData.source", "trainingData.filters",
        "trainingData.dateRange.startDate", "hyperparameters", "validationStrategy",
        "computeResources.cpu", "computeResources.memory", "computeResources.gpu"}},
  };
  for (const auto& c : cases) {
    auto r = Initiate(c.body);
    EXPECT_EQ(r.status, 400) << c.body << " -> " << r.body;
    EXPECT_EQ(Body(r)["error"]["code"], "VALIDATION_ERROR") << c.body;
    EXPECT_EQ(InvalidFields(r), c.fields) << c.body << " -> " << r.body;
  }
  // Nothing was created by any of them.
  EXPECT_EQ(Body(server_.Call("GET", "/api/ml/training/jobs", token_))["pagination"]["total"], 0);
}

TEST_F(ApiJobsTest, InitiateChecksTheRequestAgainstTheData) {
  struct Case {
    const char* body;
    std::string field;
  };
  const std::vector<Case> cases = {
      {R"({"modelType":"churn_prediction","trainingData":{"source":"user_profiles","target":"no_such_column"}})",
       "trainingData.target"},
      {R"({"modelType":"churn_prediction","trainingData":{"source":"user_profiles","features":["age","shoe_size"]}})",
       "trainingData.features[1]"},
      {R"({"modelType":"churn_prediction","trainingData":{"source":"user_profiles","filters":{"planet":"Mars"}}})",
       "trainingData.filters.planet"},
      {R"({"modelType":"churn_prediction","trainingData":{"source":"user_profiles","filters":{"age":{"gte":"old"}}}})",
       "trainingData.filters.age.gte"},
      {R"({"modelType":"churn_prediction","trainingData":{"source":"user_profiles","filters":{"age":{"between":[1,2]}}}})",
       "trainingData.filters.age.between"},
      {R"({"modelType":"nlp_sentiment","trainingData":{"source":"user_profiles"}})",
       "trainingData.source"},
  };
  for (const auto& c : cases) {
    auto r = Initiate(c.body);
    EXPECT_EQ(r.status, 400) << c.body << " -> " << r.body;
    EXPECT_EQ(InvalidFields(r).count(c.field), 1u) << c.body << " -> " << r.body;
  }
  auto ok = Initiate(R"({"modelType":"churn_prediction","trainingData":{"source":"user_profiles",
      "filters":{"country":{"in":["FR","DE"]},"age":{"gte":30}},"features":["age","country"]}})");
  EXPECT_EQ(ok.status, 202) << ok.body;
}

TEST_F(ApiJobsTest, DataSourcesAreListed) {
  auto r = server_.Call("GET", "/api/ml/data/sources", token_);
  ASSERT_EQ(r.status, 200) << r.body;
  Json body = Body(r);
  ASSERT_EQ(body["sources"].size(), 6u);
  for (const auto& s : body["sources"]) {
    EXPECT_EQ(s["exists"], true) << s.dump();
    EXPECT_GT(s["rowCount"].get<int64_t>(), 0) << s.dump();
  }
  EXPECT_EQ(server_.Call("GET", "/api/ml/data/sources", "").status, 401);
  EXPECT_EQ(server_.Call("GET", "/api/ml/data/sources",
                         TestServer::Token(kAdminUser, "admin", {"ml:deploy"})).status, 403);
}

TEST_F(ApiJobsTest, MalformedBodiesAre4xx) {
  EXPECT_EQ(Initiate("").status, 400);
  EXPECT_EQ(Initiate("{").status, 400);
  EXPECT_EQ(Initiate("[]").status, 400);
  EXPECT_EQ(Initiate("\"text\"").status, 400);
  EXPECT_EQ(Initiate("{\"modelType\": \"churn_prediction\"} trailing").status, 400);
  EXPECT_EQ(Initiate(std::string(100, '[') + std::string(100, ']')).status, 400);
  EXPECT_EQ(Initiate("{\"modelType\": \"\xff\xfe\"}").status, 400);
  auto r = server_.Call("POST", "/api/ml/training/initiate", token_, kInitiate,
                        {{"Content-Type", "text/plain"}});
  EXPECT_EQ(r.status, 415);
  EXPECT_EQ(Body(r)["error"]["code"], "UNSUPPORTED_MEDIA_TYPE");
  r = server_.Call("POST", "/api/ml/training/initiate", token_,
                   std::string("{\"hyperparameters\":{\"pad\":\"") + std::string(1100000, 'x') +
                       "\"}}");
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(Body(r)["error"]["code"], "PAYLOAD_TOO_LARGE");
  // charset parameter is fine
  r = server_.Call("POST", "/api/ml/training/initiate", token_, kInitiate,
                   {{"Content-Type", "application/json; charset=utf-8"}});
  EXPECT_EQ(r.status, 202) << r.body;
}

TEST_F(ApiJobsTest, StatusChecksIdThenExistence) {
  auto r = server_.Call("GET", "/api/ml/training/status/xyz", token_);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Body(r)["error"]["code"], "INVALID_ID");
  EXPECT_EQ(server_.Call("GET", "/api/ml/training/status/0123456789abcdef0123456g", token_).status,
            400);
  r = server_.Call("GET", "/api/ml/training/status/0123456789abcdef01234567", token_);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Body(r)["error"]["code"], "NOT_FOUND");
}

TEST_F(ApiJobsTest, JobRunsToCompletionWithProgressAndArtifact) {
  server_.trainer().steps = 5;
  auto r = Initiate(kInitiate);
  const std::string id = Body(r)["jobId"];
  Json job = WaitForStatus(id, "completed");
  EXPECT_EQ(job["progress"], 100.0);
  EXPECT_TRUE(IsIsoMillis(job["startedAt"]));
  EXPECT_TRUE(IsIsoMillis(job["completedAt"]));
  EXPECT_TRUE(job["modelArtifactId"].is_string());
  EXPECT_EQ(job["failureReason"], nullptr);
  // A completed job cannot be cancelled.
  auto c = server_.Call("POST", "/api/ml/training/cancel/" + id, token_);
  EXPECT_EQ(c.status, 409);
  EXPECT_EQ(Body(c)["error"]["code"], "CONFLICT");
}

TEST_F(ApiJobsTest, EvaluationIs409UntilCompletedThenServedWithCharts) {
  server_.trainer().steps = 100000;
  const std::string running = Body(Initiate(kInitiate))["jobId"];
  WaitForStatus(running, "running");
  auto r = server_.Call("GET", "/api/ml/training/evaluation/" + running, token_);
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(Body(r)["error"]["code"], "CONFLICT");
  ASSERT_EQ(server_.Call("POST", "/api/ml/training/cancel/" + running, token_).status, 200);
  EXPECT_EQ(server_.Call("GET", "/api/ml/training/evaluation/" + running, token_).status, 409);

  server_.trainer().steps = 2;
  const std::string id = Body(Initiate(kInitiate))["jobId"];
  WaitForStatus(id, "completed");
  r = server_.Call("GET", "/api/ml/training/evaluation/" + id, token_);
  ASSERT_EQ(r.status, 200) << r.body;
  Json e = Body(r);
  EXPECT_EQ(e["jobId"], id);
  EXPECT_EQ(e["task"], "binary_classification");
  EXPECT_EQ(e["metrics"]["accuracy"], 0.9);
  EXPECT_EQ(e["baseline"]["name"], "class_prior");
  ASSERT_EQ(e["visualizations"].size(), 1u);
  const std::string url = e["visualizations"][0]["url"];
  EXPECT_EQ(url, "/api/ml/training/evaluation/" + id + "/charts/roc");
  EXPECT_EQ(e["visualizations"][0].count("file"), 0u);  // no server paths leak
  auto chart = server_.Call("GET", url, token_);
  EXPECT_EQ(chart.status, 200);
  EXPECT_EQ(chart.headers["content-type"], "image/svg+xml");
  EXPECT_NE(chart.body.find("<svg"), std::string::npos);
  EXPECT_EQ(server_.Call("GET", url, "").status, 401);
  EXPECT_EQ(server_.Call("GET", "/api/ml/training/evaluation/" + id + "/charts/..%2F..%2Fetc", token_).status, 404);
  EXPECT_EQ(server_.Call("GET", "/api/ml/training/evaluation/" + id,
                         TestServer::AdminToken(kOtherUser)).status, 403);
  EXPECT_EQ(server_.Call("GET", "/api/ml/training/evaluation/zzz", token_).status, 400);
  EXPECT_EQ(server_.Call("GET", "/api/ml/training/evaluation/0123456789abcdef01234567", token_).status, 404);
  EXPECT_EQ(server_.Call("GET", "/api/ml/training/evaluation/" + id,
                         TestServer::Token(kAdminUser, "admin", {"ml:deploy"})).status, 403);
}

TEST_F(ApiJobsTest, FailingTrainerFailsTheJobWithAReason) {
  server_.trainer().fail = true;
  const std::string id = Body(Initiate(kInitiate))["jobId"];
  Json job = WaitForStatus(id, "failed");
  EXPECT_EQ(job["failureReason"], "the fake trainer was told to fail");
  EXPECT_EQ(server_.Call("POST", "/api/ml/training/cancel/" + id, token_).status, 409);
}

TEST_F(ApiJobsTest, CancelRunningJobStopsItWithinTwoSeconds) {
  server_.trainer().steps = 100000;
  server_.trainer().step_ms = 20;
  const std::string id = Body(Initiate(kInitiate))["jobId"];
  WaitForStatus(id, "running");
  const int64_t t0 = SteadyNowMs();
  auto r = server_.Call("POST", "/api/ml/training/cancel/" + id, token_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["status"], "cancelled");
  EXPECT_EQ(Body(r)["jobId"], id);
  for (int i = 0; i < 200 && server_.trainer().cancelled == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(server_.trainer().cancelled, 1);
  EXPECT_LT(server_.trainer().cancel_seen_at_ms - t0, 2000);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  Json job = Body(server_.Call("GET", "/api/ml/training/status/" + id, token_));
  EXPECT_EQ(job["status"], "cancelled");
  EXPECT_EQ(job["modelArtifactId"], nullptr);
  EXPECT_EQ(server_.Call("POST", "/api/ml/training/cancel/" + id, token_).status, 409);
}

TEST_F(ApiJobsTest, CancelPendingJobAndErrors) {
  // No idle worker: the first job occupies the only one.
  server_.trainer().steps = 100000;
  const std::string running = Body(Initiate(kInitiate))["jobId"];
  WaitForStatus(running, "running");
  const std::string pending = Body(Initiate(kInitiate))["jobId"];
  auto r = server_.Call("POST", "/api/ml/training/cancel/" + pending, token_);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Body(r)["status"], "cancelled");
  EXPECT_EQ(server_.Call("POST", "/api/ml/training/cancel/nope", token_).status, 400);
  EXPECT_EQ(server_.Call("POST", "/api/ml/training/cancel/0123456789abcdef01234567", token_).status,
            404);
  EXPECT_EQ(server_.Call("POST", "/api/ml/training/cancel/" + running, token_).status, 200);
}

TEST_F(ApiJobsTest, ListFiltersSortsAndPaginates) {
  server_.trainer().steps = 1;
  std::vector<std::string> ids;
  for (int i = 0; i < 7; ++i) {
    auto r = Initiate(i % 2 ? R"({"modelType":"recommendation","trainingData":{"source":"user_events"}})"
                            : kInitiate);
    ASSERT_EQ(r.status, 202) << r.body;
    ids.push_back(Body(r)["jobId"]);
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
  }
  for (const auto& id : ids) WaitForStatus(id, "completed");

  Json all = Body(server_.Call("GET", "/api/ml/training/jobs", token_));
  EXPECT_EQ(all["pagination"]["total"], 7);
  EXPECT_EQ(all["pagination"]["limit"], 20);
  EXPECT_EQ(all["pagination"]["offset"], 0);
  EXPECT_EQ(all["pagination"]["hasMore"], false);
  EXPECT_EQ(all["jobs"][0]["jobId"], ids.back());  // createdAt desc by default

  Json page = Body(server_.Call("GET", "/api/ml/training/jobs?limit=3&offset=3&sortOrder=asc", token_));
  ASSERT_EQ(page["jobs"].size(), 3u);
  EXPECT_EQ(page["jobs"][0]["jobId"], ids[3]);
  EXPECT_EQ(page["pagination"]["hasMore"], true);

  Json recs = Body(server_.Call("GET", "/api/ml/training/jobs?modelType=recommendation", token_));
  EXPECT_EQ(recs["pagination"]["total"], 3);
  for (const auto& j : recs["jobs"]) EXPECT_EQ(j["modelType"], "recommendation");

  EXPECT_EQ(Body(server_.Call("GET", "/api/ml/training/jobs?status=completed", token_))
                ["pagination"]["total"], 7);
  EXPECT_EQ(Body(server_.Call("GET", "/api/ml/training/jobs?status=failed", token_))
                ["pagination"]["total"], 0);
  Json by_completed = Body(server_.Call("GET", "/api/ml/training/jobs?sortBy=completedAt&sortOrder=desc", token_));
  EXPECT_EQ(by_completed["jobs"].size(), 7u);
  EXPECT_EQ(Body(server_.Call("GET", "/api/ml/training/jobs?startDate=2000-01-01&endDate=2000-01-02", token_))
                ["pagination"]["total"], 0);
  EXPECT_EQ(Body(server_.Call("GET", "/api/ml/training/jobs?startDate=2000-01-01", token_))
                ["pagination"]["total"], 7);
  EXPECT_EQ(Body(server_.Call("GET", "/api/ml/training/jobs?endDate=2000-01-01T00:00:00Z", token_))
                ["pagination"]["total"], 0);
}

TEST_F(ApiJobsTest, ListRejectsEveryInvalidParameter) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"modelType=magic", "modelType"},     {"status=done", "status"},
      {"startDate=soon", "startDate"},      {"endDate=2026-13-01", "endDate"},
      {"startDate=2026-02-01&endDate=2026-01-01", "endDate"},
      {"limit=0", "limit"},                 {"limit=51", "limit"},
      {"limit=abc", "limit"},               {"limit=1.5", "limit"},
      {"limit=-1", "limit"},                {"offset=-1", "offset"},
      {"offset=x", "offset"},               {"sortBy=name", "sortBy"},
      {"sortOrder=up", "sortOrder"},        {"colour=red", "colour"},
      {"limit=5&limit=6", "limit"},
  };
  for (const auto& [query, field] : cases) {
    auto r = server_.Call("GET", "/api/ml/training/jobs?" + query, token_);
    EXPECT_EQ(r.status, 400) << query;
    EXPECT_EQ(InvalidFields(r), std::set<std::string>{field}) << query << " " << r.body;
  }
  auto r = server_.Call("GET", "/api/ml/training/jobs?limit=0&sortBy=x&status=y", token_);
  EXPECT_EQ(InvalidFields(r), (std::set<std::string>{"limit", "sortBy", "status"}));
  EXPECT_EQ(server_.Call("GET", "/api/ml/training/jobs?limit=50&offset=0&sortBy=startedAt", token_)
                .status, 200);
}

TEST_F(ApiJobsTest, UnknownPathsAndMethods) {
  auto r = server_.Call("GET", "/api/ml/nothing-here", token_);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Body(r)["error"]["code"], "NOT_FOUND");
  r = server_.Call("GET", "/api/ml/training/initiate", token_);
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(Body(r)["error"]["code"], "METHOD_NOT_ALLOWED");
  EXPECT_EQ(r.headers["allow"], "POST");
  EXPECT_EQ(server_.Call("DELETE", "/api/ml/training/status/0123456789abcdef01234567", token_).status,
            405);
}

TEST_F(ApiJobsTest, OperabilityEndpoints) {
  EXPECT_EQ(Body(server_.Call("GET", "/healthz", ""))["status"], "ok");
  EXPECT_EQ(Body(server_.Call("GET", "/readyz", ""))["status"], "ready");
  ASSERT_EQ(Initiate(kInitiate).status, 202);
  auto m = server_.Call("GET", "/metrics", "");
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.headers["content-type"].find("text/plain"), std::string::npos);
  EXPECT_NE(m.body.find("tsml_http_requests_total{route=\"/api/ml/training/initiate\",method=\"POST\",status=\"202\"} 1"),
            std::string::npos) << m.body;
  EXPECT_NE(m.body.find("tsml_http_request_duration_seconds_bucket"), std::string::npos);
  EXPECT_NE(m.body.find("tsml_queue_depth{kind=\"train\"}"), std::string::npos);
  EXPECT_NE(m.body.find("tsml_jobs{status=\"pending\"}"), std::string::npos);
  Json doc = Body(server_.Call("GET", "/api/ml/openapi.json", ""));
  EXPECT_EQ(doc["openapi"], "3.1.0");
  for (const char* path : {"/api/ml/training/initiate", "/api/ml/training/status/{jobId}",
                           "/api/ml/training/jobs", "/api/ml/training/cancel/{jobId}"}) {
    EXPECT_TRUE(doc["paths"].contains(path)) << path;
  }
}

// Random and hostile JSON bodies: never a 5xx, never a crash.
TEST_F(ApiJobsTest, FuzzInitiateBodyNeverFails5xx) {
  std::mt19937 rng(1234);
  const std::vector<Json> atoms = {nullptr, true, false, 0, -1, 1, 2.5, 1e308, -1e308,
                                   "", "churn_prediction", "user_profiles", "k_fold",
                                   "2026-01-01", "\u0000", std::string(300, 'a'),
                                   Json::array(), Json::object(), 9223372036854775807LL,
                                   18446744073709551615ULL};
  const std::vector<std::string> keys = {"modelType", "trainingData", "source", "filters",
                                         "dateRange", "startDate", "endDate", "hyperparameters",
                                         "validationStrategy", "computeResources", "cpu",
                                         "memory", "gpu", "target", "features", "x", ""};
  std::function<Json(int)> gen = [&](int depth) -> Json {
    const int kind = static_cast<int>(rng() % (depth > 3 ? 1 : 3));
    if (kind == 0) return atoms[rng() % atoms.size()];
    if (kind == 1) {
      Json a = Json::array();
      for (int i = rng() % 4; i > 0; --i) a.push_back(gen(depth + 1));
      return a;
    }
    Json o = Json::object();
    for (int i = rng() % 5; i > 0; --i) o[keys[rng() % keys.size()]] = gen(depth + 1);
    return o;
  };
  int accepted = 0;
  for (int i = 0; i < 400; ++i) {
    Json body = gen(0);
    if (i % 3 == 0) {  // start from a valid body and break one thing
      body = Body(HttpClient::Response{200, kInitiate, {}});
      body[keys[rng() % keys.size()]] = gen(1);
    }
    auto r = Initiate(body.dump());
    ASSERT_LT(r.status, 500) << body.dump() << " -> " << r.body;
    ASSERT_TRUE(r.status == 202 || r.status == 400) << body.dump() << " -> " << r.status;
    accepted += r.status == 202;
  }
  // Raw junk too.
  for (int i = 0; i < 200; ++i) {
    std::string junk(rng() % 200, '\0');
    for (char& c : junk) c = static_cast<char>(rng() % 256);
    auto r = Initiate(junk);
    ASSERT_LT(r.status, 500) << r.body;
  }
  EXPECT_GT(accepted, 0);
  EXPECT_EQ(Body(server_.Call("GET", "/healthz", ""))["status"], "ok");
}

}  // namespace
}  // namespace tsml::test
