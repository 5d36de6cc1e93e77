// Service configuration (CONTRACT §2): environment variables, optionally a --config file.
#ifndef TSML_COMMON_CONFIG_H_
#define TSML_COMMON_CONFIG_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"

namespace tsml::common {

struct Config {
  std::string listen = "127.0.0.1:8080";
  std::string database_url = "sqlite://var/tsml.db";
  std::string data_url = "sqlite://var/travelsense.db";
  std::string artifact_dir = "var/artifacts";
  int workers = 1;
  std::string jwt_secret;             // never logged
  std::string jwt_public_key_file;
  std::string jwt_issuer;
  std::string jwt_audience;
  std::string log_level = "info";
  int http_threads = 0;               // 0: one per core
  int lease_seconds = 30;             // a claimed job's lease; renewed by heartbeat
  int max_attempts = 3;               // a job whose worker died is retried this many times
  int db_pool_size = 8;
  int export_link_ttl_seconds = 86400;  // signed download links
  std::string export_link_secret;       // default: derived from the JWT secret
  std::string python;                   // export converters; default .venv/bin/python

  std::string ListenHost() const;
  int ListenPort() const;             // -1 when `listen` has no valid port
};

// Reads `file` (when non-empty: lines KEY=VALUE with the TSML_* names, '#' comments,
// optional quotes) and then the environment, which wins. InvalidArgument names the bad key.
absl::StatusOr<Config> LoadConfig(const std::string& file);

// Same, from explicit maps (tests).
absl::StatusOr<Config> ConfigFromMap(const std::map<std::string, std::string>& values);

}  // namespace tsml::common

#endif  // TSML_COMMON_CONFIG_H_
