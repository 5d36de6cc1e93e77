// Spec endpoint 10 and the export lifecycle over real HTTP: every format of a churn model,
// verified in its home runtime, downloaded through a signed link; every error code.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>
#include <vector>

#include "common/file_util.h"
#include "common/json_util.h"
#include "support/test_server.h"

namespace tsml::test {
namespace {

Json Body(const HttpClient::Response& r) {
  auto j = common::ParseJson(r.body);
  return j.ok() ? *j : Json();
}

class ExportE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    TestServerOptions o;
    o.real_models = true;
    o.demo_events = 30000;
    server_ = new TestServer(o);
    const std::string token = TestServer::AdminToken();
    auto r = server_->Call(
        "POST", "/api/ml/training/initiate", token,
        R"({"modelType":"churn_prediction","trainingData":{"source":"user_profiles"},"hyperparameters":{"nEstimators":40}})");
    job_ = new std::string(Body(r)["jobId"].get<std::string>());
    for (int i = 0; i < 600; ++i) {
      if (Body(server_->Call("GET", "/api/ml/training/status/" + *job_, token))["status"] ==
          "completed")
        break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  // Submits a training job and waits until it has finished (its final status is returned).
  static std::string TrainAndWait(const std::string& body, std::string* job_id) {
    const std::string token = TestServer::AdminToken();
    auto r = server_->Call("POST", "/api/ml/training/initiate", token, body);
    *job_id = Body(r)["jobId"].is_string() ? Body(r)["jobId"].get<std::string>() : "";
    std::string status = r.body;
    for (int i = 0; i < 1200 && !job_id->empty(); ++i) {
      status = Body(server_->Call("GET", "/api/ml/training/status/" + *job_id, token))["status"];
      if (status == "completed" || status == "failed") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return status;
  }
  static void TearDownTestSuite() {
    delete server_;
    delete job_;
  }
  HttpClient::Response Call(const std::string& m, const std::string& t, const std::string& b = "",
                            const std::string& token = "") {
    return server_->Call(m, t, token.empty() ? token_ : token, b);
  }
  Json WaitExport(const std::string& id) {
    Json e;
    for (int i = 0; i < 3000; ++i) {  // up to 5 minutes: TensorFlow and torch load slowly
      e = Body(Call("GET", "/api/ml/exports/" + id));
      if (e["status"] == "completed" || e["status"] == "failed") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return e;
  }

  static inline TestServer* server_ = nullptr;
  static inline std::string* job_ = nullptr;
  std::string token_ = TestServer::AdminToken();
};

TEST_F(ExportE2eTest, EveryFormatExportsVerifiesAndDownloads) {
  for (const char* format : {"onnx", "pmml", "sklearn", "pytorch", "tensorflow"}) {
    auto r = Call("POST", "/api/ml/training/export/" + *job_,
                  std::string(R"({"format":")") + format + "\"}");
    ASSERT_EQ(r.status, 200) << format << " " << r.body;
    Json created = Body(r);
    EXPECT_EQ(created["format"], format);
    EXPECT_TRUE(created["status"] == "pending" || created["status"] == "processing");
    Json e = WaitExport(created["exportId"]);
    ASSERT_EQ(e["status"], "completed") << format << " " << e.dump();
    EXPECT_TRUE(e["parity"]["passed"].get<bool>()) << e.dump();
    EXPECT_LE(e["parity"]["maxAbsDiff"].get<double>(), 1e-4) << e.dump();
    EXPECT_GT(e["fileSize"].get<int64_t>(), 0);
    EXPECT_TRUE(e["expiresAt"].is_string());
    // The signed link works without a token and returns the file whose checksum was given.
    const std::string url = e["downloadUrl"];
    auto d = server_->Call("GET", url, "");
    ASSERT_EQ(d.status, 200) << url;
    EXPECT_EQ(d.headers["content-type"], "application/zip");
    EXPECT_EQ(common::Sha256Hex(d.body), e["checksum"]);
    EXPECT_EQ(d.body.substr(0, 2), "PK");
    // Tampered links are refused.
    std::string tampered = url;
    tampered.back() = tampered.back() == '0' ? '1' : '0';
    EXPECT_EQ(server_->Call("GET", tampered, "").status, 403);
    // A link signed for one export does not open another (flip the id's last digit).
    std::string other_id = created["exportId"];
    other_id.back() = other_id.back() == '0' ? '1' : '0';
    EXPECT_EQ(
        server_->Call("GET", "/api/ml/exports/" + other_id + url.substr(url.find("/download")), "")
            .status,
        403);
  }
}

TEST_F(ExportE2eTest, SentimentAndForecastModelsExportOverHttp) {
  struct Case {
    const char* train;
    std::vector<const char*> formats;
    const char* refused;  // a format the type does not support
  };
  const std::vector<Case> cases = {
      {R"({"modelType":"nlp_sentiment","trainingData":{"source":"reviews"},"hyperparameters":{"algorithm":"tfidf_logreg"}})",
       {"onnx", "sklearn"},
       "pmml"},
      {R"({"modelType":"demand_forecast","trainingData":{"source":"bookings"},"hyperparameters":{"algorithm":"xgboost","groupBy":"channel"}})",
       {"onnx", "pytorch"},
       "pmml"},
  };
  for (const Case& c : cases) {
    std::string job;
    ASSERT_EQ(TrainAndWait(c.train, &job), "completed") << c.train;
    for (const char* format : c.formats) {
      auto r = Call("POST", "/api/ml/training/export/" + job,
                    std::string(R"({"format":")") + format + "\"}");
      ASSERT_EQ(r.status, 200) << format << " " << r.body;
      const Json e = WaitExport(Body(r)["exportId"]);
      ASSERT_EQ(e["status"], "completed") << c.train << " " << format << " " << e.dump();
      EXPECT_TRUE(e["parity"]["passed"].get<bool>()) << e.dump();
      auto d = server_->Call("GET", e["downloadUrl"].get<std::string>(), "");
      ASSERT_EQ(d.status, 200);
      EXPECT_EQ(common::Sha256Hex(d.body), e["checksum"]);
    }
    auto refused = Call("POST", "/api/ml/training/export/" + job,
                        std::string(R"({"format":")") + c.refused + "\"}");
    EXPECT_EQ(refused.status, 400) << refused.body;
    EXPECT_NE(refused.body.find("supported: onnx"), std::string::npos) << refused.body;
  }
  // The trained algorithm narrows the type's formats, refused at once with the way out: a
  // fastText model exports to onnx and pytorch, a Holt-Winters forecaster too.
  std::string fasttext;
  ASSERT_EQ(
      TrainAndWait(
          R"({"modelType":"nlp_sentiment","trainingData":{"source":"reviews"},"hyperparameters":{"algorithm":"fasttext"}})",
          &fasttext),
      "completed");
  auto r = Call("POST", "/api/ml/training/export/" + fasttext, R"({"format":"sklearn"})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(Body(r)["error"]["details"][0]["field"], "format") << r.body;
  EXPECT_NE(r.body.find("tfidf_logreg"), std::string::npos) << r.body;
  auto ft_onnx = Call("POST", "/api/ml/training/export/" + fasttext, R"({"format":"onnx"})");
  ASSERT_EQ(ft_onnx.status, 200) << ft_onnx.body;
  const Json ft_export = WaitExport(Body(ft_onnx)["exportId"]);
  EXPECT_EQ(ft_export["status"], "completed") << ft_export.dump();
  EXPECT_TRUE(ft_export["parity"]["passed"].get<bool>()) << ft_export.dump();
  std::string hw;
  ASSERT_EQ(
      TrainAndWait(
          R"({"modelType":"demand_forecast","trainingData":{"source":"bookings"},"hyperparameters":{"algorithm":"holt_winters"}})",
          &hw),
      "completed");
  auto sk = Call("POST", "/api/ml/training/export/" + hw, R"({"format":"sklearn"})");
  EXPECT_EQ(sk.status, 400) << sk.body;
  EXPECT_NE(sk.body.find("supported: onnx, pytorch"), std::string::npos) << sk.body;
  auto onnx = Call("POST", "/api/ml/training/export/" + hw, R"({"format":"onnx"})");
  ASSERT_EQ(onnx.status, 200) << onnx.body;
  const Json e = WaitExport(Body(onnx)["exportId"]);
  EXPECT_EQ(e["status"], "completed") << e.dump();
}

TEST_F(ExportE2eTest, ExpiredLinksAreRefused) {
  auto r = Call("POST", "/api/ml/training/export/" + *job_,
                R"({"format":"onnx","includeMetadata":false})");
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string id = Body(r)["exportId"];
  const Json e = WaitExport(id);
  ASSERT_EQ(e["status"], "completed") << e.dump();
  const std::string expired = server_->app().exports().SignedUrl(id, 1000);  // 1970
  auto d = server_->Call("GET", expired, "");
  EXPECT_EQ(d.status, 403);
  EXPECT_NE(d.body.find("expired"), std::string::npos) << d.body;
  EXPECT_EQ(server_->Call("GET", "/api/ml/exports/" + id + "/download", "").status, 403);
}

TEST_F(ExportE2eTest, ValidationAndAccessErrors) {
  const std::string url = "/api/ml/training/export/" + *job_;
  struct Case {
    const char* body;
    const char* field;
  };
  for (const Case& c :
       std::vector<Case>{{"{}", "format"},
                         {R"({"format":"caffe"})", "format"},
                         {R"({"format":7})", "format"},
                         {R"({"format":"onnx","includeMetadata":"yes"})", "includeMetadata"},
                         {R"({"format":"onnx","compress":true})", "compress"}}) {
    auto r = Call("POST", url, c.body);
    EXPECT_EQ(r.status, 400) << c.body << " " << r.body;
    std::set<std::string> fields;
    const Json body = Body(r);
    for (const auto& d : body["error"]["details"]) fields.insert(d["field"].get<std::string>());
    EXPECT_TRUE(fields.count(c.field)) << c.body << " " << r.body;
  }
  EXPECT_EQ(Call("POST", url, R"({"format":"onnx"})",
                 TestServer::Token(kAdminUser, "admin", {"ml:train"}))
                .status,
            403);
  EXPECT_EQ(Call("POST", url, R"({"format":"onnx"})", TestServer::AdminToken(kOtherUser)).status,
            403);
  EXPECT_EQ(Call("POST", "/api/ml/training/export/zz", R"({"format":"onnx"})").status, 400);
  EXPECT_EQ(Call("POST", "/api/ml/training/export/0123456789abcdef01234567", R"({"format":"onnx"})")
                .status,
            404);
  EXPECT_EQ(server_->Call("POST", url, "", R"({"format":"onnx"})").status, 401);
  // A job that has not completed: 409.
  auto busy = Call(
      "POST", "/api/ml/training/initiate",
      R"({"modelType":"churn_prediction","trainingData":{"source":"user_profiles"},"hyperparameters":{"nEstimators":5000,"earlyStoppingRounds":0,"learningRate":0.001}})");
  const std::string busy_id = Body(busy)["jobId"];
  EXPECT_EQ(Call("POST", "/api/ml/training/export/" + busy_id, R"({"format":"onnx"})").status, 409);
  Call("POST", "/api/ml/training/cancel/" + busy_id);
  // Status of an export: 400 / 404 / 403.
  EXPECT_EQ(Call("GET", "/api/ml/exports/nope").status, 400);
  EXPECT_EQ(Call("GET", "/api/ml/exports/0123456789abcdef01234567").status, 404);
  auto r = Call("POST", url, R"({"format":"onnx"})");
  const std::string id = Body(r)["exportId"];
  EXPECT_EQ(Call("GET", "/api/ml/exports/" + id, "", TestServer::AdminToken(kOtherUser)).status,
            403);
  WaitExport(id);
}

}  // namespace
}  // namespace tsml::test
