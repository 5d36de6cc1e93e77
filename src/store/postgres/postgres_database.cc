#include "store/postgres/postgres_database.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <random>
#include <thread>
#include <utility>

#include <pqxx/pqxx>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace tsml::store {
namespace {

// Transaction attempts when PostgreSQL reports a serialization failure or a deadlock.
constexpr int kMaxTransactionAttempts = 5;

// PostgreSQL type oids whose text form is converted to a number.
constexpr pqxx::oid kBoolOid = 16;
constexpr pqxx::oid kInt8Oid = 20;
constexpr pqxx::oid kInt2Oid = 21;
constexpr pqxx::oid kInt4Oid = 23;
constexpr pqxx::oid kFloat4Oid = 700;
constexpr pqxx::oid kFloat8Oid = 701;

// ---- URL → libpq connection string -----------------------------------------------------------

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

absl::StatusOr<std::string> PercentDecode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    const int hi = i + 2 < in.size() ? HexDigit(in[i + 1]) : -1;
    const int lo = i + 2 < in.size() ? HexDigit(in[i + 2]) : -1;
    if (hi < 0 || lo < 0) return absl::InvalidArgumentError("bad percent-encoding in database URL");
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

// Quotes a value for a libpq keyword/value connection string.
std::string ConnValue(std::string_view v) {
  std::string out = "'";
  for (char c : v) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  out += '\'';
  return out;
}

struct PgTarget {
  std::string conninfo;  // holds the password: never put into a message
  std::string where;     // "user@host:port/db", for messages
};

absl::StatusOr<PgTarget> ParsePostgresUrl(std::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    return absl::InvalidArgumentError("database URL must be postgresql://USER[:PW]@HOST[:PORT]/DB");
  }
  std::string_view rest = url.substr(scheme_end + 3);
  std::string_view query;
  if (size_t q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  std::string_view authority = rest;
  std::string_view path;
  if (size_t slash = rest.find('/'); slash != std::string_view::npos) {
    authority = rest.substr(0, slash);
    path = rest.substr(slash + 1);
  }
  std::string_view userinfo;
  std::string_view hostport = authority;
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    userinfo = authority.substr(0, at);
    hostport = authority.substr(at + 1);
  }

  PgTarget target;
  std::string user;
  std::string password;
  if (!userinfo.empty()) {
    const size_t colon = userinfo.find(':');
    auto u = PercentDecode(userinfo.substr(0, colon));
    if (!u.ok()) return u.status();
    user = *std::move(u);
    if (colon != std::string_view::npos) {
      auto p = PercentDecode(userinfo.substr(colon + 1));
      if (!p.ok()) return p.status();
      password = *std::move(p);
    }
  }

  std::string host;
  std::string port;
  if (!hostport.empty() && hostport.front() == '[') {  // [IPv6]:port
    const size_t close = hostport.find(']');
    if (close == std::string_view::npos) {
      return absl::InvalidArgumentError("bad IPv6 host in database URL");
    }
    host = std::string(hostport.substr(1, close - 1));
    std::string_view after = hostport.substr(close + 1);
    if (after.starts_with(':')) port = std::string(after.substr(1));
  } else {
    const size_t colon = hostport.rfind(':');
    host = std::string(hostport.substr(0, colon));
    if (colon != std::string_view::npos) port = std::string(hostport.substr(colon + 1));
  }
  if (!port.empty()) {
    int port_number = 0;
    if (!absl::SimpleAtoi(port, &port_number) || port_number <= 0 || port_number > 65535) {
      return absl::InvalidArgumentError("bad port in database URL");
    }
  }
  auto db = PercentDecode(path);
  if (!db.ok()) return db.status();

  std::string& ci = target.conninfo;
  if (!host.empty()) absl::StrAppend(&ci, "host=", ConnValue(host), " ");
  if (!port.empty()) absl::StrAppend(&ci, "port=", port, " ");
  if (!user.empty()) absl::StrAppend(&ci, "user=", ConnValue(user), " ");
  if (!password.empty()) absl::StrAppend(&ci, "password=", ConnValue(password), " ");
  if (!db->empty()) absl::StrAppend(&ci, "dbname=", ConnValue(*db), " ");
  bool has_timeout = false;
  bool has_options = false;
  bool has_application_name = false;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view kv = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (kv.empty()) continue;
    const size_t eq = kv.find('=');
    if (eq == std::string_view::npos) {
      return absl::InvalidArgumentError("database URL parameters must be key=value");
    }
    auto key = PercentDecode(kv.substr(0, eq));
    auto value = PercentDecode(kv.substr(eq + 1));
    if (!key.ok()) return key.status();
    if (!value.ok()) return value.status();
    if (key->empty() || !std::all_of(key->begin(), key->end(), [](char c) {
          return absl::ascii_isalnum(c) || c == '_';
        })) {
      return absl::InvalidArgumentError("bad parameter name in database URL");
    }
    has_timeout |= *key == "connect_timeout";
    has_options |= *key == "options";
    has_application_name |= *key == "application_name";
    absl::StrAppend(&ci, *key, "=", ConnValue(*value), " ");
  }
  // A server that does not answer must not hang the caller for minutes.
  if (!has_timeout) absl::StrAppend(&ci, "connect_timeout=10 ");
  // NOTICEs (e.g. "table does not exist, skipping") would otherwise go to stderr.
  if (!has_options) absl::StrAppend(&ci, "options='-c client_min_messages=warning' ");
  if (!has_application_name) absl::StrAppend(&ci, "application_name=tsml ");

  target.where = absl::StrCat(user.empty() ? "" : user + "@", host.empty() ? "localhost" : host,
                              port.empty() ? "" : ":" + port, "/", *db);
  return target;
}

// ---- errors -----------------------------------------------------------------------------------

std::string_view StripSpace(std::string_view s) {
  while (!s.empty() && absl::ascii_isspace(static_cast<unsigned char>(s.front()))) {
    s.remove_prefix(1);
  }
  while (!s.empty() && absl::ascii_isspace(static_cast<unsigned char>(s.back()))) {
    s.remove_suffix(1);
  }
  return s;
}

// The first line of a libpq/server message, without "ERROR:  ": the DETAIL lines that follow can
// quote row values.
std::string CleanMessage(std::string_view what) {
  std::string_view msg = StripSpace(what);
  if (msg.starts_with("ERROR:") || msg.starts_with("FATAL:")) msg = StripSpace(msg.substr(6));
  if (size_t nl = msg.find('\n'); nl != std::string_view::npos) msg = msg.substr(0, nl);
  return std::string(msg);
}

// What went wrong in a statement, as seen by the pool and the retry loop.
struct Failure {
  bool broken = false;     // the connection is unusable: discard it
  bool retryable = false;  // serialization failure or deadlock: the transaction may be retried
};

absl::Status StatusForSqlState(const std::string& state, const std::string& msg, Failure* f) {
  if (state == "23505") return absl::AlreadyExistsError(msg);
  if (state == "40001" || state == "40P01") {
    f->retryable = true;
    return absl::AbortedError(msg);
  }
  if (state.starts_with("22") || state.starts_with("23")) {
    return absl::InvalidArgumentError(msg);
  }
  if ((state.starts_with("08") && state != "08P01") || state.starts_with("57P") ||
      state == "53300") {
    f->broken = state.starts_with("08") || state.starts_with("57P");
    return absl::UnavailableError(msg);
  }
  return absl::InternalError(msg);
}

// Maps the exception being handled; call only inside a catch block.
absl::Status CurrentExceptionToStatus(const std::string& context, Failure* f) {
  try {
    throw;
  } catch (const pqxx::broken_connection& e) {
    f->broken = true;
    return absl::UnavailableError(
        absl::StrCat(context, ": connection lost: ", CleanMessage(e.what())));
  } catch (const pqxx::sql_error& e) {
    return StatusForSqlState(e.sqlstate(), absl::StrCat(context, ": ", CleanMessage(e.what())), f);
  } catch (const pqxx::transaction_rollback& e) {  // serialization failure, deadlock
    f->retryable = true;
    return absl::AbortedError(absl::StrCat(context, ": ", CleanMessage(e.what())));
  } catch (const pqxx::in_doubt_error& e) {
    f->broken = true;
    return absl::UnavailableError(
        absl::StrCat(context, ": commit outcome unknown: ", CleanMessage(e.what())));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat(context, ": ", CleanMessage(e.what())));
  } catch (...) {
    return absl::InternalError(absl::StrCat(context, ": unknown error"));
  }
}

// ---- statements -------------------------------------------------------------------------------

// Rewrites `?` to $1..$n outside quoted strings, quoted identifiers and comments.
std::string RewritePlaceholders(std::string_view sql, size_t* count) {
  std::string out;
  out.reserve(sql.size() + 16);
  size_t n = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (c == '\'' || c == '"') {  // '' and "" inside are handled by closing and reopening
      const size_t end = sql.find(c, i + 1);
      const size_t stop = end == std::string_view::npos ? sql.size() : end + 1;
      out.append(sql.substr(i, stop - i));
      i = stop - 1;
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      const size_t end = sql.find('\n', i);
      const size_t stop = end == std::string_view::npos ? sql.size() : end + 1;
      out.append(sql.substr(i, stop - i));
      i = stop - 1;
    } else if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
      const size_t end = sql.find("*/", i + 2);
      const size_t stop = end == std::string_view::npos ? sql.size() : end + 2;
      out.append(sql.substr(i, stop - i));
      i = stop - 1;
    } else if (c == '?') {
      absl::StrAppend(&out, "$", ++n);
    } else {
      out += c;
    }
  }
  *count = n;
  return out;
}

SqlValue ConvertCell(const pqxx::field& field, pqxx::oid type) {
  if (field.is_null()) return std::monostate{};
  const char* begin = field.c_str();
  const char* end = begin + field.size();
  switch (type) {
    case kInt8Oid:
    case kInt2Oid:
    case kInt4Oid: {
      int64_t v = 0;
      auto [ptr, ec] = std::from_chars(begin, end, v);
      if (ec == std::errc() && ptr == end) return v;
      break;
    }
    case kFloat4Oid:
    case kFloat8Oid: {
      double v = 0;
      auto [ptr, ec] = std::from_chars(begin, end, v);
      if (ec == std::errc() && ptr == end) return v;
      break;  // NaN, Infinity: SqlRow::Double parses the text
    }
    case kBoolOid:
      return int64_t{field.size() > 0 && begin[0] == 't' ? 1 : 0};
    default:
      break;
  }
  return std::string(begin, field.size());
}

// A pooled connection seen through the current pqxx transaction (a `work` inside
// Database::Transaction, a `nontransaction` inside Database::Run).
class PgSqlConnection final : public SqlConnection {
 public:
  explicit PgSqlConnection(pqxx::transaction_base& txn) : txn_(txn) {}

  absl::StatusOr<SqlRows> Query(std::string_view sql,
                                const std::vector<SqlValue>& params) override {
    size_t placeholders = 0;
    const std::string text = RewritePlaceholders(sql, &placeholders);
    if (placeholders != params.size()) {
      return Record(absl::InvalidArgumentError(absl::StrCat(
          "statement has ", placeholders, " placeholders but ", params.size(), " parameters")));
    }
    std::vector<std::string> storage;
    storage.reserve(params.size());
    std::vector<const char*> values(params.size(), nullptr);  // nullptr binds NULL
    for (size_t i = 0; i < params.size(); ++i) {
      const SqlValue& p = params[i];
      if (const auto* v = std::get_if<int64_t>(&p)) {
        storage.push_back(std::to_string(*v));
      } else if (const auto* v = std::get_if<double>(&p)) {
        char buf[64];
        auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), *v);  // shortest exact form
        storage.emplace_back(buf, ec == std::errc() ? ptr : buf);
        if (storage.back() == "inf") storage.back() = "Infinity";
        if (storage.back() == "-inf") storage.back() = "-Infinity";
        if (storage.back() == "nan" || storage.back() == "-nan") storage.back() = "NaN";
      } else if (const auto* v = std::get_if<std::string>(&p)) {
        if (v->find('\0') != std::string::npos) {
          return Record(absl::InvalidArgumentError(
              absl::StrCat("parameter ", i + 1, " contains a NUL character")));
        }
        storage.push_back(*v);
      } else {
        continue;
      }
      values[i] = storage.back().c_str();
    }
    // `values` points into `storage`, which must not reallocate: reserved above.
    try {
      const pqxx::result r =
          txn_.exec_params(text, pqxx::prepare::make_dynamic_params(values));
      SqlRows rows;
      const auto columns = r.columns();
      if (columns == 0) return rows;
      std::vector<pqxx::oid> types(columns);
      for (pqxx::row::size_type c = 0; c < columns; ++c) types[c] = r.column_type(c);
      rows.reserve(r.size());
      for (const pqxx::row& row : r) {
        std::vector<SqlValue> cells;
        cells.reserve(columns);
        for (pqxx::row::size_type c = 0; c < columns; ++c) {
          cells.push_back(ConvertCell(row[c], types[c]));
        }
        rows.emplace_back(std::move(cells));
      }
      return rows;
    } catch (...) {
      return Record(CurrentExceptionToStatus("query failed", &failure_));
    }
  }

  absl::Status ExecScript(std::string_view sql) override {
    try {
      txn_.exec(std::string(sql));
      return absl::OkStatus();
    } catch (...) {
      return Record(CurrentExceptionToStatus("script failed", &failure_));
    }
  }

  const Failure& failure() const { return failure_; }
  // The first error of this use, OK when none.
  const absl::Status& first_error() const { return first_error_; }

 private:
  absl::Status Record(absl::Status status) {
    if (first_error_.ok()) first_error_ = status;
    return status;
  }

  pqxx::transaction_base& txn_;
  Failure failure_;
  absl::Status first_error_;
};

// Opens one connection. The message names the server but not the password, which libpq never
// echoes; it reaches libpq only inside `conninfo`.
absl::StatusOr<std::unique_ptr<pqxx::connection>> Connect(const PgTarget& target) {
  const std::string context = absl::StrCat("cannot connect to PostgreSQL at ", target.where);
  try {
    return std::make_unique<pqxx::connection>(target.conninfo);
  } catch (const std::exception& e) {
    // Every connection failure is "database unreachable" to the caller (bad password too).
    return absl::UnavailableError(absl::StrCat(context, ": ", CleanMessage(e.what())));
  } catch (...) {
    return absl::UnavailableError(context);
  }
}

// ---- the pool ---------------------------------------------------------------------------------

class PostgresDatabase final : public Database {
 public:
  PostgresDatabase(PgTarget target, int pool_size, std::unique_ptr<pqxx::connection> first)
      : target_(std::move(target)) {
    idle_.push_back(std::move(first));
    for (int i = 1; i < pool_size; ++i) idle_.push_front(nullptr);  // connected on first use
  }

  SqlBackend backend() const override { return SqlBackend::kPostgres; }

  absl::Status Run(const std::function<absl::Status(SqlConnection&)>& fn) override {
    auto conn = Acquire();
    if (!conn.ok()) return conn.status();
    Failure failure;
    absl::Status status;
    try {
      pqxx::nontransaction txn(**conn);
      PgSqlConnection sql(txn);
      status = CallFn(fn, sql);
      failure = sql.failure();
      if (!failure.broken) txn.commit();  // a no-op for nontransaction; ends it cleanly
    } catch (...) {
      status = CurrentExceptionToStatus("run", &failure);
    }
    Release(std::move(*conn), failure.broken);
    return status;
  }

  absl::Status Transaction(const std::function<absl::Status(SqlConnection&)>& fn) override {
    absl::Status status;
    bool reconnected = false;
    for (int attempt = 0; attempt < kMaxTransactionAttempts; ++attempt) {
      if (attempt > 0) Backoff(attempt);
      auto conn = Acquire();
      if (!conn.ok()) return conn.status();
      Failure failure;
      bool committing = false;
      try {
        pqxx::work txn(**conn);
        PgSqlConnection sql(txn);
        status = CallFn(fn, sql);
        failure = sql.failure();
        if (status.ok() && !sql.first_error().ok()) {
          // PostgreSQL aborted the transaction at the failed statement: COMMIT would roll back.
          status = sql.first_error();
        }
        if (status.ok()) {
          committing = true;
          txn.commit();
        } else if (!failure.broken) {
          txn.abort();
        }
      } catch (...) {
        status = CurrentExceptionToStatus(committing ? "commit" : "transaction", &failure);
      }
      Release(std::move(*conn), failure.broken);
      if (status.ok()) return status;
      if (failure.retryable || status.code() == absl::StatusCode::kAborted) continue;
      // A connection that died before COMMIT was sent (e.g. the server restarted while it sat
      // in the pool) rolled the transaction back: one more try on a fresh connection is safe.
      if (failure.broken && !committing && !reconnected) {
        reconnected = true;
        continue;
      }
      return status;
    }
    return status;
  }

 private:
  static absl::Status CallFn(const std::function<absl::Status(SqlConnection&)>& fn,
                             PgSqlConnection& sql) {
    try {
      return fn(sql);
    } catch (const std::exception& e) {
      return absl::InternalError(absl::StrCat("exception in database callback: ", e.what()));
    } catch (...) {
      return absl::InternalError("exception in database callback");
    }
  }

  static void Backoff(int attempt) {
    std::minstd_rand rng(static_cast<unsigned>(
        std::hash<std::thread::id>()(std::this_thread::get_id()) + attempt));
    const int base_ms = 2 << attempt;  // 4, 8, 16, 32 ms
    std::this_thread::sleep_for(std::chrono::milliseconds(base_ms + rng() % base_ms));
  }

  // Waits for a pooled connection and connects it if needed.
  absl::StatusOr<std::unique_ptr<pqxx::connection>> Acquire() {
    std::unique_ptr<pqxx::connection> conn;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return !idle_.empty(); });
      conn = std::move(idle_.back());  // connected ones sit at the back
      idle_.pop_back();
    }
    if (conn != nullptr && conn->is_open()) return conn;
    auto fresh = Connect(target_);
    if (!fresh.ok()) {
      Release(nullptr, true);
      return fresh.status();
    }
    return fresh;
  }

  void Release(std::unique_ptr<pqxx::connection> conn, bool broken) {
    {
      std::lock_guard lock(mu_);
      if (broken || conn == nullptr) {
        idle_.push_front(nullptr);  // `conn` (if any) is closed when it goes out of scope
      } else {
        idle_.push_back(std::move(conn));
      }
    }
    cv_.notify_one();
  }

 private:
  const PgTarget target_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<pqxx::connection>> idle_;  // nullptr: not connected yet
};

}  // namespace

absl::StatusOr<std::unique_ptr<Database>> OpenPostgresDatabase(const std::string& url,
                                                              const DatabaseOptions& options) {
  auto target = ParsePostgresUrl(url);
  if (!target.ok()) return target.status();
  auto first = Connect(*target);
  if (!first.ok()) return first.status();
  return std::make_unique<PostgresDatabase>(*std::move(target), std::max(1, options.pool_size),
                                            *std::move(first));
}

}  // namespace tsml::store
