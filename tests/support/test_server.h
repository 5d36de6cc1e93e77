// An in-process tsml server on a free loopback port, with a fake trainer, for HTTP tests.
#ifndef TSML_TESTS_SUPPORT_TEST_SERVER_H_
#define TSML_TESTS_SUPPORT_TEST_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include "api/app.h"
#include "support/fake_trainer.h"
#include "support/http_client.h"

namespace tsml::test {

inline constexpr char kTestSecret[] = "test-secret-0123456789abcdef0123456789abcdef";
inline constexpr char kAdminUser[] = "aaaaaaaaaaaaaaaaaaaaaaaa";
inline constexpr char kOtherUser[] = "bbbbbbbbbbbbbbbbbbbbbbbb";

// A fresh temporary folder, removed with the object.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct TestServerOptions {
  std::string database_url;  // default: sqlite in the temp dir
  int workers = 1;
  bool real_models = false;  // register every real trainer instead of the fake one
  int64_t demo_events = 5000;
  serve::ModelServerOptions serving;
  std::string dir;  // reuse this folder (a restart); default: a fresh temporary one
  bool seed = true;  // seed the demo data
};

class TestServer {
 public:
  explicit TestServer(TestServerOptions options = {});
  ~TestServer();

  uint16_t port() const { return app_->port(); }
  api::App& app() { return *app_; }
  FakeTrainerControl& trainer() { return *control_; }
  const std::string& dir() const { return dir_.path(); }

  // HS256 token signed with the server's secret.
  static std::string Token(const std::string& sub, const std::string& role,
                           const std::vector<std::string>& permissions, int64_t ttl = 3600);
  // Admin with every privilege (including ml:admin unless `with_admin` is false).
  static std::string AdminToken(const std::string& sub = kAdminUser, bool with_admin = false);

  // A request with `Authorization: Bearer token` (omitted when token is empty).
  HttpClient::Response Call(const std::string& method, const std::string& target,
                            const std::string& token, const std::string& body = "",
                            std::vector<std::pair<std::string, std::string>> headers = {});

 private:
  TempDir dir_;
  std::shared_ptr<FakeTrainerControl> control_;
  std::unique_ptr<train::TrainerRegistry> registry_;
  std::unique_ptr<train::PredictorRegistry> predictors_;
  std::unique_ptr<api::App> app_;
  std::unique_ptr<HttpClient> client_;
};

}  // namespace tsml::test

#endif  // TSML_TESTS_SUPPORT_TEST_SERVER_H_
