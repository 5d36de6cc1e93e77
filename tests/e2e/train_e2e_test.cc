// End to end over HTTP with the real trainers on demo data: submit, watch progress, read
// the evaluation, and get 400s for requests that cannot be trained.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>

#include "common/json_util.h"
#include "support/test_server.h"

namespace tsml::test {
namespace {

Json Body(const HttpClient::Response& r) {
  auto j = common::ParseJson(r.body);
  return j.ok() ? *j : Json();
}

class TrainE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    TestServerOptions o;
    o.real_models = true;
    o.demo_events = 40000;
    server_ = new TestServer(o);
  }
  static void TearDownTestSuite() { delete server_; }

  Json Submit(const std::string& body, int expect = 202) {
    auto r = server_->Call("POST", "/api/ml/training/initiate", token_, body);
    EXPECT_EQ(r.status, expect) << body << " -> " << r.body;
    return Body(r);
  }
  Json WaitDone(const std::string& id, int timeout_s = 120) {
    Json job;
    for (int i = 0; i < timeout_s * 20; ++i) {
      job = Body(server_->Call("GET", "/api/ml/training/status/" + id, token_));
      const std::string s = job.value("status", "");
      if (s == "completed" || s == "failed" || s == "cancelled") return job;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "job did not finish: " << job.dump();
    return job;
  }

  static inline TestServer* server_ = nullptr;
  std::string token_ = TestServer::AdminToken();
};

TEST_F(TrainE2eTest, TabularModelTypesTrainFromDefaultRequestsAndBeatTheirBaselines) {
  const std::vector<std::string> bodies = {
      R"({"modelType":"churn_prediction","trainingData":{"source":"user_profiles"}})",
      R"({"modelType":"user_behavior","trainingData":{"source":"user_profiles"}})",
      R"({"modelType":"predictive_analytics","trainingData":{"source":"bookings"}})",
  };
  for (const auto& body : bodies) {
    const std::string id = Submit(body)["jobId"];
    Json job = WaitDone(id);
    ASSERT_EQ(job["status"], "completed") << job.dump();
    EXPECT_EQ(job["progress"], 100.0);
    Json e = Body(server_->Call("GET", "/api/ml/training/evaluation/" + id, token_));
    EXPECT_EQ(e["task"], "binary_classification") << body;
    EXPECT_GT(e["metrics"]["rocAuc"].get<double>(), 0.7) << body << e["metrics"].dump();
    EXPECT_LT(e["metrics"]["logLoss"].get<double>(), e["baseline"]["metrics"]["logLoss"].get<double>())
        << body;
    for (const auto& v : e["visualizations"]) {
      auto chart = server_->Call("GET", v["url"].get<std::string>(), token_);
      EXPECT_EQ(chart.status, 200) << v.dump();
    }
  }
}

TEST_F(TrainE2eTest, RecommendationForecastAndSentimentTrainFromDefaultRequests) {
  struct Case {
    const char* body;
    const char* metric;
    bool lower_is_better;
  };
  const std::vector<Case> cases = {
      {R"({"modelType":"recommendation","trainingData":{"source":"user_events"}})", "ndcgAtK", false},
      {R"({"modelType":"demand_forecast","trainingData":{"source":"bookings"}})", "mase", true},
      {R"({"modelType":"nlp_sentiment","trainingData":{"source":"reviews"}})", "f1Score", false},
  };
  for (const auto& c : cases) {
    const std::string id = Submit(c.body)["jobId"];
    Json job = WaitDone(id);
    ASSERT_EQ(job["status"], "completed") << job.dump();
    Json e = Body(server_->Call("GET", "/api/ml/training/evaluation/" + id, token_));
    const double model = e["metrics"][c.metric], base = e["baseline"]["metrics"][c.metric];
    if (c.lower_is_better) {
      EXPECT_LT(model, base) << c.body << " " << e["metrics"].dump();
    } else {
      EXPECT_GT(model, base) << c.body << " " << e["metrics"].dump();
    }
  }
  // k_fold cannot be honoured by a forecast: refused at submission, saying why.
  Json r = Submit(R"({"modelType":"demand_forecast","trainingData":{"source":"bookings"},"validationStrategy":"k_fold"})", 400);
  EXPECT_EQ(r["error"]["details"][0]["field"], "validationStrategy") << r.dump();
}

TEST_F(TrainE2eTest, BadHyperparametersAndStrategiesAre400) {
  Json r = Submit(R"({"modelType":"churn_prediction","trainingData":{"source":"user_profiles"},
                      "hyperparameters":{"maxDepth":99,"learningRate":"fast","magic":1}})",
                  400);
  std::set<std::string> fields;
  for (const auto& d : r["error"]["details"]) fields.insert(d["field"].get<std::string>());
  EXPECT_EQ(fields, (std::set<std::string>{"hyperparameters.maxDepth", "hyperparameters.learningRate",
                                          "hyperparameters.magic"}));
  // Defaults are filled in and shown.
  const std::string id = Submit(R"({"modelType":"churn_prediction","trainingData":{"source":"user_profiles"},
                                    "hyperparameters":{"maxDepth":3}})")["jobId"];
  Json job = Body(server_->Call("GET", "/api/ml/training/status/" + id, token_));
  EXPECT_EQ(job["hyperparameters"]["maxDepth"], 3);
  EXPECT_EQ(job["hyperparameters"]["nEstimators"], 300);
  WaitDone(id);
}

TEST_F(TrainE2eTest, GpuRequestFailsWithAReasonOnThisMachine) {
  const std::string id = Submit(R"({"modelType":"churn_prediction","trainingData":{"source":"user_profiles"},
                                    "computeResources":{"gpu":true}})")["jobId"];
  Json job = WaitDone(id);
  EXPECT_EQ(job["status"], "failed");
  EXPECT_NE(job["failureReason"].get<std::string>().find("GPU"), std::string::npos) << job.dump();
}

}  // namespace
}  // namespace tsml::test
