#include "support/test_server.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <random>

#include "auth/jwt.h"
#include "common/strings.h"
#include "data/demo_data.h"
#include "train/registry.h"

namespace tsml::test {

TempDir::TempDir() {
  static std::atomic<int> counter{0};
  std::random_device rd;
  path_ = common::StrCat(std::filesystem::temp_directory_path().string(), "/tsml-test-",
                         ::getpid(), "-", counter++, "-", rd());
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

TestServer::TestServer(TestServerOptions options)
    : control_(std::make_shared<FakeTrainerControl>()),
      registry_(std::make_unique<train::TrainerRegistry>()),
      predictors_(std::make_unique<train::PredictorRegistry>()) {
  if (options.real_models) {
    train::RegisterAllModels(*registry_, *predictors_);
  } else {
    RegisterFakeTrainer(*registry_, control_);
  }
  const std::string base = options.dir.empty() ? dir_.path() : options.dir;
  api::AppOptions o;
  o.config.listen = "127.0.0.1:0";
  o.config.database_url = options.database_url.empty()
                              ? "sqlite://" + base + "/tsml.db"
                              : options.database_url;
  o.config.data_url = "sqlite://" + base + "/data.db";
  o.config.artifact_dir = base + "/artifacts";
  o.config.workers = options.workers;
  o.config.jwt_secret = kTestSecret;
  o.config.python = TSML_SOURCE_DIR "/.venv/bin/python";
  o.config.http_threads = 2;
  o.trainers = registry_.get();
  o.predictors = predictors_.get();
  o.serving = options.serving;
  o.worker_overrides.heartbeat_ms = 200;
  o.worker_overrides.poll_ms = 50;
  auto app = api::App::Create(std::move(o));
  if (!app.ok()) {
    ADD_FAILURE() << "cannot create app: " << app.status();
    std::abort();
  }
  app_ = *std::move(app);
  if (options.seed) {
  data::DemoOptions demo;
  demo.events = options.demo_events;
  auto seeded = data::SeedDemo(app_->data_db(), demo);
  if (!seeded.ok()) {
    ADD_FAILURE() << "cannot seed demo data: " << seeded.status();
    std::abort();
  }
  }
  auto started = app_->Start();
  if (!started.ok()) {
    ADD_FAILURE() << "cannot start app: " << started;
    std::abort();
  }
  client_ = std::make_unique<HttpClient>("127.0.0.1", app_->port());
}

TestServer::~TestServer() {
  client_.reset();
  app_->Stop();
}

std::string TestServer::Token(const std::string& sub, const std::string& role,
                              const std::vector<std::string>& permissions, int64_t ttl) {
  auth::JwtClaims claims;
  claims.sub = sub;
  claims.role = role;
  claims.permissions = permissions;
  return auth::MintHs256(kTestSecret, claims, ttl, *common::SystemClock::Default());
}

std::string TestServer::AdminToken(const std::string& sub, bool with_admin) {
  std::vector<std::string> perms = {"ml:train", "ml:deploy", "ml:monitor", "ml:export"};
  if (with_admin) perms.push_back("ml:admin");
  return Token(sub, "admin", perms);
}

HttpClient::Response TestServer::Call(const std::string& method, const std::string& target,
                                      const std::string& token, const std::string& body,
                                      std::vector<std::pair<std::string, std::string>> headers) {
  if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
  auto r = client_->Send(method, target, body, headers);
  if (!r.ok()) {
    ADD_FAILURE() << method << " " << target << ": " << r.status();
    return {};
  }
  return *std::move(r);
}

}  // namespace tsml::test
