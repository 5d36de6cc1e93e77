#include "common/config.h"

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/strings.h"
#include "common/status_macros.h"

extern char** environ;

namespace tsml::common {
namespace {

absl::Status ParseInt(const std::string& key, const std::string& text, int lo, int hi,
                      int* out) {
  int v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || v < lo || v > hi) {
    return absl::InvalidArgumentError(
        common::StrCat(key, " must be an integer from ", lo, " to ", hi));
  }
  *out = v;
  return absl::OkStatus();
}

}  // namespace

std::string Config::ListenHost() const {
  const auto colon = listen.rfind(':');
  std::string host = colon == std::string::npos ? listen : listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return host.empty() ? "0.0.0.0" : host;
}

int Config::ListenPort() const {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) return -1;
  int port = -1;
  const std::string p = listen.substr(colon + 1);
  auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
  if (ec != std::errc() || ptr != p.data() + p.size() || port < 0 || port > 65535) return -1;
  return port;
}

absl::StatusOr<Config> ConfigFromMap(const std::map<std::string, std::string>& values) {
  Config c;
  for (const auto& [key, value] : values) {
    if (key == "TSML_LISTEN") {
      c.listen = value;
    } else if (key == "TSML_DATABASE_URL") {
      c.database_url = value;
    } else if (key == "TSML_DATA_URL") {
      c.data_url = value;
    } else if (key == "TSML_ARTIFACT_DIR") {
      c.artifact_dir = value;
    } else if (key == "TSML_WORKERS") {
      RETURN_IF_ERROR(ParseInt(key, value, 0, 64, &c.workers));
    } else if (key == "TSML_JWT_SECRET") {
      c.jwt_secret = value;
    } else if (key == "TSML_JWT_SECRET_FILE") {
      std::ifstream in(value);
      if (!in) return absl::InvalidArgumentError("TSML_JWT_SECRET_FILE cannot be read");
      std::stringstream ss;
      ss << in.rdbuf();
      c.jwt_secret = std::string(common::StripWhitespace(ss.str()));
    } else if (key == "TSML_JWT_PUBLIC_KEY_FILE") {
      c.jwt_public_key_file = value;
    } else if (key == "TSML_JWT_ISSUER") {
      c.jwt_issuer = value;
    } else if (key == "TSML_JWT_AUDIENCE") {
      c.jwt_audience = value;
    } else if (key == "TSML_LOG_LEVEL") {
      c.log_level = value;
    } else if (key == "TSML_HTTP_THREADS") {
      RETURN_IF_ERROR(ParseInt(key, value, 0, 256, &c.http_threads));
    } else if (key == "TSML_LEASE_SECONDS") {
      RETURN_IF_ERROR(ParseInt(key, value, 2, 3600, &c.lease_seconds));
    } else if (key == "TSML_MAX_ATTEMPTS") {
      RETURN_IF_ERROR(ParseInt(key, value, 1, 100, &c.max_attempts));
    } else if (key == "TSML_EXPORT_LINK_TTL_SECONDS") {
      RETURN_IF_ERROR(ParseInt(key, value, 60, 30 * 86400, &c.export_link_ttl_seconds));
    } else if (key == "TSML_EXPORT_LINK_SECRET") {
      c.export_link_secret = value;
    } else if (key == "TSML_PYTHON") {
      c.python = value;
    } else if (key == "TSML_DB_POOL_SIZE") {
      RETURN_IF_ERROR(ParseInt(key, value, 1, 256, &c.db_pool_size));
    }
  }
  if (c.ListenPort() < 0) return absl::InvalidArgumentError("TSML_LISTEN must be HOST:PORT");
  return c;
}

absl::StatusOr<Config> LoadConfig(const std::string& file) {
  std::map<std::string, std::string> values;
  if (!file.empty()) {
    std::ifstream in(file);
    if (!in) return absl::InvalidArgumentError("config file cannot be read: " + file);
    std::string line;
    int lineno = 0;
    while (std::getline(in, line)) {
      ++lineno;
      std::string_view s = common::StripWhitespace(line);
      if (s.empty() || s.front() == '#') continue;
      if (s.substr(0, 7) == "export ") s = common::StripWhitespace(s.substr(7));
      const auto eq = s.find('=');
      if (eq == std::string_view::npos) {
        return absl::InvalidArgumentError(
            common::StrCat(file, ":", lineno, ": expected KEY=VALUE"));
      }
      std::string key(common::StripWhitespace(s.substr(0, eq)));
      std::string value(common::StripWhitespace(s.substr(eq + 1)));
      if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
          value.back() == value.front()) {
        value = value.substr(1, value.size() - 2);
      }
      values[key] = value;
    }
  }
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    if (kv.substr(0, 5) != "TSML_") continue;
    const auto eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    values[std::string(kv.substr(0, eq))] = std::string(kv.substr(eq + 1));
  }
  return ConfigFromMap(values);
}

}  // namespace tsml::common
