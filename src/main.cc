// tsml: the TravelSense ML training service. One binary, several subcommands (CONTRACT §1).
// This is the only place where the concrete parts are chosen and wired together.
#include <signal.h>
#include <unistd.h>

#include <cstdlib>

#include <iostream>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "common/strings.h"
#include "data/csv_import.h"
#include "data/demo_data.h"
#include "api/app.h"
#include "auth/jwt.h"
#include "common/config.h"
#include "common/logging.h"
#include "common/object_id.h"
#include "jobs/worker_pool.h"
#include "store/migrations.h"
#include "store/sql_stores.h"
#include "train/registry.h"
#include "train/trainer.h"

namespace {

using tsml::common::Config;

// Trainers and predictors of every model type in this build.
struct Models {
  tsml::train::TrainerRegistry trainers;
  tsml::train::PredictorRegistry predictors;
};
std::unique_ptr<Models> MakeModels() {
  auto m = std::make_unique<Models>();
  tsml::train::RegisterAllModels(m->trainers, m->predictors);
  return m;
}

// Blocks SIGINT/SIGTERM in every thread started after this call.
sigset_t BlockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

int WaitForStopSignal(const sigset_t& set) {
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

int Fail(const std::string& what, const absl::Status& s) {
  tsml::common::LogError(what, {{"error", std::string(s.message())}});
  std::cerr << "tsml: " << what << ": " << s.message() << "\n";
  return 1;
}

absl::StatusOr<Config> LoadConfigOrFail(const std::string& file) {
  auto config = tsml::common::LoadConfig(file);
  if (config.ok()) tsml::common::InitLogging(config->log_level);
  return config;
}

int RunServe(const std::string& config_file) {
  auto config = LoadConfigOrFail(config_file);
  if (!config.ok()) return Fail("invalid configuration", config.status());
  const sigset_t signals = BlockStopSignals();
  auto models = MakeModels();
  tsml::api::AppOptions options;
  options.config = *config;
  options.trainers = &models->trainers;
  options.predictors = &models->predictors;
  auto app = tsml::api::App::Create(options);
  if (!app.ok()) return Fail("cannot start", app.status());
  if (auto s = (*app)->Start(); !s.ok()) return Fail("cannot start", s);
  tsml::common::LogInfo("serving", {{"listen", config->listen},
                                    {"port", (*app)->port()},
                                    {"workers", config->workers}});
  const int sig = WaitForStopSignal(signals);
  tsml::common::LogInfo("stopping", {{"signal", sig}});
  (*app)->Stop();
  tsml::common::LogInfo("stopped");
  return 0;
}

int RunWorker(const std::string& config_file, int workers) {
  auto config = LoadConfigOrFail(config_file);
  if (!config.ok()) return Fail("invalid configuration", config.status());
  const sigset_t signals = BlockStopSignals();
  tsml::common::IdGenerator ids(tsml::common::SystemClock::Default());
  auto store = tsml::store::OpenStore(config->database_url, &ids,
                                      *tsml::common::SystemClock::Default(),
                                      {config->db_pool_size, 5000});
  if (!store.ok()) return Fail("cannot open the database", store.status());
  auto data_db = tsml::store::OpenDatabase(config->data_url, {config->db_pool_size, 5000});
  if (!data_db.ok()) return Fail("cannot open the data database", data_db.status());
  auto models = MakeModels();
  tsml::jobs::WorkerPoolOptions wo;
  wo.workers = workers > 0 ? workers : std::max(1, config->workers);
  wo.lease_ms = config->lease_seconds * 1000LL;
  wo.artifact_dir = config->artifact_dir;
  wo.data_url = config->data_url;
  wo.data_db = data_db->get();
  tsml::jobs::WorkerPool pool(wo, store->get(), &models->trainers,
                              tsml::common::SystemClock::Default(), &ids);
  pool.Start();
  tsml::common::LogInfo("worker started", {{"workers", wo.workers}});
  WaitForStopSignal(signals);
  pool.Stop();
  tsml::common::LogInfo("worker stopped");
  return 0;
}

int RunMigrate(const std::string& config_file) {
  auto config = LoadConfigOrFail(config_file);
  if (!config.ok()) return Fail("invalid configuration", config.status());
  auto db = tsml::store::OpenDatabase(config->database_url);
  if (!db.ok()) return Fail("cannot open the database", db.status());
  auto version = tsml::store::Migrate(**db, tsml::common::SystemClock::Default()->NowMillis());
  if (!version.ok()) return Fail("migration failed", version.status());
  std::cout << "schema at version " << *version << "\n";
  return 0;
}

int RunToken(const std::string& config_file, const std::string& sub, const std::string& role,
             const std::string& perms, int64_t ttl) {
  auto config = LoadConfigOrFail(config_file);
  if (!config.ok()) return Fail("invalid configuration", config.status());
  if (config->jwt_secret.empty()) {
    return Fail("cannot mint a token",
                absl::InvalidArgumentError("TSML_JWT_SECRET (or TSML_JWT_SECRET_FILE) is not set"));
  }
  if (!tsml::common::IsValidObjectId(sub)) {
    return Fail("cannot mint a token",
                absl::InvalidArgumentError("--sub must be a 24-hex user id"));
  }
  tsml::auth::JwtClaims claims;
  claims.sub = sub;
  claims.role = role;
  claims.iss = config->jwt_issuer;
  for (const auto& p : tsml::common::Split(perms, ',')) {
    claims.permissions.emplace_back(p);
  }
  std::cout << tsml::auth::MintHs256(config->jwt_secret, claims, ttl,
                                     *tsml::common::SystemClock::Default(),
                                     config->jwt_audience)
            << "\n";
  return 0;
}

int RunImport(const std::string& config_file, const std::string& source,
              const std::string& file, bool replace, const std::string& delimiter) {
  auto config = LoadConfigOrFail(config_file);
  if (!config.ok()) return Fail("invalid configuration", config.status());
  auto db = tsml::store::OpenDatabase(config->data_url);
  if (!db.ok()) return Fail("cannot open the data database", db.status());
  tsml::data::ImportOptions options;
  options.replace = replace;
  if (delimiter == "tab" || delimiter == "\\t") {
    options.delimiter = '\t';
  } else if (delimiter.size() == 1) {
    options.delimiter = delimiter[0];
  } else {
    return Fail("cannot import", absl::InvalidArgumentError("--delimiter must be one character"));
  }
  auto report = tsml::data::ImportCsv(**db, source, file, options);
  if (!report.ok()) return Fail("import refused", report.status());
  std::cout << report->ToJson().dump() << "\n";
  return 0;
}

int RunSeedDemo(const std::string& config_file, int64_t rows, uint64_t seed) {
  auto config = LoadConfigOrFail(config_file);
  if (!config.ok()) return Fail("invalid configuration", config.status());
  auto db = tsml::store::OpenDatabase(config->data_url);
  if (!db.ok()) return Fail("cannot open the data database", db.status());
  tsml::data::DemoOptions options;
  options.events = rows;
  options.seed = seed;
  auto report = tsml::data::SeedDemo(**db, options);
  if (!report.ok()) return Fail("seeding failed", report.status());
  std::cout << report->ToJson().dump() << "\n";
  return 0;
}

}  // namespace

// OpenMP threads (XGBoost) spin while waiting by default; with the HTTP and worker threads
// sharing the cores that spinning slows training and serving by orders of magnitude. libgomp
// reads the policy when it loads, before main, so the process re-executes itself once with it.
void EnsurePassiveOpenMp(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr) return;
  setenv("OMP_WAIT_POLICY", "passive", 1);
  execv("/proc/self/exe", argv);  // on failure, carry on with the default policy
}

int main(int argc, char** argv) {
  EnsurePassiveOpenMp(argv);
  CLI::App cli{"tsml: the TravelSense ML training service"};
  cli.require_subcommand(1);
  std::string config_file;
  cli.add_option("--config", config_file, "file of TSML_* KEY=VALUE lines (env wins)");

  auto* serve = cli.add_subcommand("serve", "serve the HTTP API with in-process workers");
  int worker_count = 0;
  auto* worker = cli.add_subcommand("worker", "run training workers only (shared database)");
  worker->add_option("--workers", worker_count, "worker threads (default TSML_WORKERS or 1)");
  auto* migrate = cli.add_subcommand("migrate", "create or upgrade the database schema");
  std::string sub, role = "admin", perms = "ml:train,ml:deploy,ml:monitor,ml:export";
  int64_t ttl = 3600;
  auto* token = cli.add_subcommand("token", "mint an HS256 JWT with the configured secret");
  token->add_option("--sub", sub, "user id (24 hex)")->required();
  token->add_option("--role", role, "role claim")->capture_default_str();
  token->add_option("--perm", perms, "comma-separated privileges")->capture_default_str();
  token->add_option("--ttl", ttl, "lifetime in seconds")->capture_default_str()->check(
      CLI::Range(int64_t{1}, int64_t{31536000}));
  auto* seed = cli.add_subcommand("seed-demo", "write the synthetic TravelSense data set");
  int64_t rows = 100000;
  uint64_t seed_value = 42;
  seed->add_option("--rows", rows, "user_events rows; other sources scale with it")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1000}, int64_t{50000000}));
  seed->add_option("--seed", seed_value, "random seed (same seed, same data)")
      ->capture_default_str();
  auto* import = cli.add_subcommand("import", "load a CSV file (header row) into a data source");
  std::string source, file, delimiter = ",";
  bool replace = false;
  import->add_option("--source", source, "user_events, trips, bookings, reviews, "
                                         "user_profiles or provider_data")->required();
  import->add_option("--file", file, "the CSV file")->required();
  import->add_flag("--replace", replace, "replace the source's rows instead of appending");
  import->add_option("--delimiter", delimiter, "field separator (one character, or 'tab')")
      ->capture_default_str();
  for (auto* sc : {serve, worker, migrate, token, seed, import}) {
    sc->add_option("--config", config_file);
  }

  CLI11_PARSE(cli, argc, argv);
  if (serve->parsed()) return RunServe(config_file);
  if (worker->parsed()) return RunWorker(config_file, worker_count);
  if (migrate->parsed()) return RunMigrate(config_file);
  if (token->parsed()) return RunToken(config_file, sub, role, perms, ttl);
  if (seed->parsed()) return RunSeedDemo(config_file, rows, seed_value);
  if (import->parsed()) return RunImport(config_file, source, file, replace, delimiter);
  return 2;
}
