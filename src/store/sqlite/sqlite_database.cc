#include "store/sqlite/sqlite_database.h"

#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace tsml::store {
namespace {

// BEGIN IMMEDIATE attempts; each already waits up to the busy timeout.
constexpr int kBeginAttempts = 3;
// Statements kept prepared per connection; beyond this (ad-hoc SQL) the cache starts over.
constexpr size_t kMaxCachedStatements = 256;

absl::Status StatusFromSqlite(sqlite3* db, int rc, const char* context) {
  const int extended = db != nullptr ? sqlite3_extended_errcode(db) : rc;
  std::string msg = absl::StrCat(context, ": ", db != nullptr ? sqlite3_errmsg(db)
                                                              : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::UnavailableError(msg);
    case SQLITE_CONSTRAINT:
      if (extended == SQLITE_CONSTRAINT_UNIQUE || extended == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return absl::AlreadyExistsError(msg);
      }
      return absl::InvalidArgumentError(msg);
    case SQLITE_MISMATCH:
    case SQLITE_TOOBIG:
    case SQLITE_RANGE:
      return absl::InvalidArgumentError(msg);
    default:
      return absl::InternalError(msg);
  }
}

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};

// One sqlite3 handle with its prepared statements. Used by one thread at a time.
class SqliteConnection final : public SqlConnection {
 public:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  ~SqliteConnection() override {
    ClearCache();
    sqlite3_close_v2(db_);
  }
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  absl::StatusOr<SqlRows> Query(std::string_view sql,
                                const std::vector<SqlValue>& params) override {
    absl::StatusOr<SqlRows> rows = QueryImpl(sql, params);
    if (!rows.ok() && first_error_.ok()) first_error_ = rows.status();
    return rows;
  }

  absl::Status ExecScript(std::string_view sql) override {
    char* err = nullptr;
    const int rc = sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, &err);
    sqlite3_free(err);  // sqlite3_errmsg still holds the message
    if (rc == SQLITE_OK) return absl::OkStatus();
    absl::Status status = StatusFromSqlite(db_, rc, "script failed");
    if (first_error_.ok()) first_error_ = status;
    return status;
  }

  // Runs a statement without parameters or rows (BEGIN, COMMIT, ...), returning the raw code.
  int ExecControl(std::string_view sql) {
    auto stmt = Prepare(sql);
    if (!stmt.ok()) return SQLITE_ERROR;
    const int rc = sqlite3_step(*stmt);
    sqlite3_reset(*stmt);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
  }

  sqlite3* db() const { return db_; }
  void ResetErrors() { first_error_ = absl::OkStatus(); }
  const absl::Status& first_error() const { return first_error_; }

 private:
  absl::StatusOr<sqlite3_stmt*> Prepare(std::string_view sql) {
    if (auto it = cache_.find(sql); it != cache_.end()) return it->second;
    if (cache_.size() >= kMaxCachedStatements) ClearCache();
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &stmt, &tail);
    if (rc != SQLITE_OK) return StatusFromSqlite(db_, rc, "prepare failed");
    if (stmt == nullptr) return absl::InvalidArgumentError("empty statement");
    for (const char* p = tail; p != nullptr && p < sql.data() + sql.size(); ++p) {
      if (!std::isspace(static_cast<unsigned char>(*p)) && *p != ';') {
        sqlite3_finalize(stmt);
        return absl::InvalidArgumentError("Query runs one statement; use ExecScript for more");
      }
    }
    cache_.emplace(std::string(sql), stmt);
    return stmt;
  }

  void ClearCache() {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    cache_.clear();
  }

  absl::StatusOr<SqlRows> QueryImpl(std::string_view sql, const std::vector<SqlValue>& params) {
    auto prepared = Prepare(sql);
    if (!prepared.ok()) return prepared.status();
    sqlite3_stmt* stmt = *prepared;
    // Leaves the statement reusable whatever happens below.
    struct Resetter {
      sqlite3_stmt* stmt;
      ~Resetter() {
        sqlite3_reset(stmt);
        sqlite3_clear_bindings(stmt);
      }
    } resetter{stmt};

    if (static_cast<size_t>(sqlite3_bind_parameter_count(stmt)) != params.size()) {
      return absl::InvalidArgumentError(absl::StrCat("statement has ",
                                                     sqlite3_bind_parameter_count(stmt),
                                                     " placeholders but ", params.size(),
                                                     " parameters"));
    }
    for (size_t i = 0; i < params.size(); ++i) {
      const int index = static_cast<int>(i) + 1;
      const SqlValue& p = params[i];
      int rc = SQLITE_OK;
      // SQLITE_STATIC: `params` outlives the statement's use, and bindings are cleared after.
      if (const auto* v = std::get_if<int64_t>(&p)) {
        rc = sqlite3_bind_int64(stmt, index, *v);
      } else if (const auto* v = std::get_if<double>(&p)) {
        rc = sqlite3_bind_double(stmt, index, *v);
      } else if (const auto* v = std::get_if<std::string>(&p)) {
        rc = sqlite3_bind_text64(stmt, index, v->data(), v->size(), SQLITE_STATIC, SQLITE_UTF8);
      } else {
        rc = sqlite3_bind_null(stmt, index);
      }
      if (rc != SQLITE_OK) return StatusFromSqlite(db_, rc, "bind failed");
    }

    SqlRows rows;
    const int columns = sqlite3_column_count(stmt);
    while (true) {
      const int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return StatusFromSqlite(db_, rc, "query failed");
      std::vector<SqlValue> cells;
      cells.reserve(columns);
      for (int c = 0; c < columns; ++c) {
        switch (sqlite3_column_type(stmt, c)) {
          case SQLITE_INTEGER:
            cells.emplace_back(static_cast<int64_t>(sqlite3_column_int64(stmt, c)));
            break;
          case SQLITE_FLOAT:
            cells.emplace_back(sqlite3_column_double(stmt, c));
            break;
          case SQLITE_TEXT:
          case SQLITE_BLOB: {
            const void* data = sqlite3_column_blob(stmt, c);  // no conversion for TEXT either
            const int size = sqlite3_column_bytes(stmt, c);
            cells.emplace_back(std::string(static_cast<const char*>(data), size));
            break;
          }
          default:
            cells.emplace_back(std::monostate{});
        }
      }
      rows.emplace_back(std::move(cells));
    }
    return rows;
  }

  sqlite3* const db_;
  std::unordered_map<std::string, sqlite3_stmt*, StringHash, std::equal_to<>> cache_;
  absl::Status first_error_;  // since the last ResetErrors()
};

absl::StatusOr<std::unique_ptr<SqliteConnection>> OpenConnection(const std::string& path,
                                                                 const DatabaseOptions& options) {
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  if (path.starts_with("file:")) flags |= SQLITE_OPEN_URI;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return absl::UnavailableError(absl::StrCat("cannot open SQLite database ", path, ": ", msg));
  }
  auto conn = std::make_unique<SqliteConnection>(db);
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, options.busy_timeout_ms);  // before WAL, which needs a lock
  absl::Status s = conn->ExecScript(
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
      "PRAGMA wal_autocheckpoint=0;");  // checkpoints run on a background thread
  if (!s.ok()) {
    return absl::UnavailableError(
        absl::StrCat("cannot configure SQLite database ", path, ": ", s.message()));
  }
  conn->ResetErrors();
  return conn;
}

class SqliteDatabase final : public Database {
 public:
  // `checkpointer` (may be null) checkpoints the WAL every second on its own thread, so that
  // requests never pay for a checkpoint's fsyncs (auto-checkpointing is off).
  SqliteDatabase(std::vector<std::unique_ptr<SqliteConnection>> connections,
                 std::unique_ptr<SqliteConnection> checkpointer)
      : idle_(std::move(connections)), checkpointer_(std::move(checkpointer)) {
    if (checkpointer_) {
      checkpoint_thread_ = std::thread([this] {
        std::unique_lock lock(checkpoint_mu_);
        while (!checkpoint_cv_.wait_for(lock, std::chrono::seconds(1),
                                        [this] { return stopping_; })) {
          sqlite3_wal_checkpoint_v2(checkpointer_->db(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                    nullptr, nullptr);
        }
      });
    }
  }
  ~SqliteDatabase() override {
    if (checkpoint_thread_.joinable()) {
      {
        std::lock_guard lock(checkpoint_mu_);
        stopping_ = true;
      }
      checkpoint_cv_.notify_all();
      checkpoint_thread_.join();
      sqlite3_wal_checkpoint_v2(checkpointer_->db(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                nullptr);
    }
  }

  SqlBackend backend() const override { return SqlBackend::kSqlite; }

  absl::Status Run(const std::function<absl::Status(SqlConnection&)>& fn) override {
    Lease lease(*this);
    return CallFn(fn, lease.conn());
  }

  absl::Status Transaction(const std::function<absl::Status(SqlConnection&)>& fn) override {
    Lease lease(*this);
    SqliteConnection& conn = lease.conn();
    int rc = SQLITE_OK;
    for (int attempt = 0; attempt < kBeginAttempts; ++attempt) {
      if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(5 * attempt));
      rc = conn.ExecControl("BEGIN IMMEDIATE");
      if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED) break;
    }
    if (rc != SQLITE_OK) return StatusFromSqlite(conn.db(), rc, "BEGIN IMMEDIATE failed");

    conn.ResetErrors();
    absl::Status status = CallFn(fn, conn);
    // As on PostgreSQL, a failed statement dooms the transaction even if `fn` ignored it.
    if (status.ok() && !conn.first_error().ok()) status = conn.first_error();
    if (status.ok()) {
      rc = conn.ExecControl("COMMIT");
      if (rc == SQLITE_OK) return status;
      status = StatusFromSqlite(conn.db(), rc, "COMMIT failed");
    }
    if (!sqlite3_get_autocommit(conn.db())) conn.ExecControl("ROLLBACK");
    return status;
  }

 private:
  // A connection taken from the pool for one call.
  class Lease {
   public:
    explicit Lease(SqliteDatabase& db) : db_(db) {
      std::unique_lock lock(db_.mu_);
      db_.cv_.wait(lock, [this] { return !db_.idle_.empty(); });
      conn_ = std::move(db_.idle_.back());
      db_.idle_.pop_back();
    }
    ~Lease() {
      if (!sqlite3_get_autocommit(conn_->db())) conn_->ExecControl("ROLLBACK");  // fn's own BEGIN
      {
        std::lock_guard lock(db_.mu_);
        db_.idle_.push_back(std::move(conn_));
      }
      db_.cv_.notify_one();
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    SqliteConnection& conn() { return *conn_; }

   private:
    SqliteDatabase& db_;
    std::unique_ptr<SqliteConnection> conn_;
  };

  static absl::Status CallFn(const std::function<absl::Status(SqlConnection&)>& fn,
                             SqliteConnection& conn) {
    try {
      return fn(conn);
    } catch (const std::exception& e) {
      return absl::InternalError(absl::StrCat("exception in database callback: ", e.what()));
    } catch (...) {
      return absl::InternalError("exception in database callback");
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<SqliteConnection>> idle_;

  std::unique_ptr<SqliteConnection> checkpointer_;
  std::mutex checkpoint_mu_;
  std::condition_variable checkpoint_cv_;
  bool stopping_ = false;
  std::thread checkpoint_thread_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Database>> OpenSqliteDatabase(const std::string& path,
                                                            const DatabaseOptions& options) {
  if (path.empty()) return absl::InvalidArgumentError("empty SQLite database path");
  const bool in_memory = path == ":memory:" || path.find("mode=memory") != std::string::npos;
  if (!in_memory && !path.starts_with("file:")) {
    const std::filesystem::path parent = std::filesystem::path(path).parent_path();
    std::error_code ec;
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (ec) {
      return absl::UnavailableError(
          absl::StrCat("cannot create folder ", parent.string(), ": ", ec.message()));
    }
  }
  // Each in-memory connection would see its own empty database: use one.
  const int pool_size = in_memory ? 1 : std::max(1, options.pool_size);
  std::vector<std::unique_ptr<SqliteConnection>> connections;
  for (int i = 0; i < pool_size; ++i) {
    auto conn = OpenConnection(path, options);
    if (!conn.ok()) return conn.status();
    connections.push_back(*std::move(conn));
  }
  std::unique_ptr<SqliteConnection> checkpointer;
  if (!in_memory) {
    auto conn = OpenConnection(path, options);
    if (!conn.ok()) return conn.status();
    checkpointer = *std::move(conn);
  }
  return std::make_unique<SqliteDatabase>(std::move(connections), std::move(checkpointer));
}

}  // namespace tsml::store
