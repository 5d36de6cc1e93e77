// A small SQL layer that both backends implement, so the stores' SQL is written once.
//
// SQL text uses `?` placeholders; the PostgreSQL backend rewrites them to $1..$n. The dialect
// both accept is used throughout: TEXT, BIGINT, DOUBLE PRECISION, INTEGER 0/1 for booleans,
// ON CONFLICT, RETURNING, LIMIT/OFFSET. Timestamps are BIGINT milliseconds since the epoch.
#ifndef TSML_STORE_SQL_H_
#define TSML_STORE_SQL_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tsml::store {

// A bound parameter or a result cell. PostgreSQL results arrive as text; accessors convert.
using SqlValue = std::variant<std::monostate, int64_t, double, std::string>;

class SqlRow {
 public:
  explicit SqlRow(std::vector<SqlValue> cells) : cells_(std::move(cells)) {}
  size_t size() const { return cells_.size(); }
  bool IsNull(size_t i) const { return std::holds_alternative<std::monostate>(cells_.at(i)); }
  int64_t Int(size_t i) const;                   // 0 when null
  double Double(size_t i) const;                 // 0 when null
  std::string Str(size_t i) const;               // "" when null
  std::optional<std::string> OptStr(size_t i) const;
  std::optional<int64_t> OptInt(size_t i) const;
  const SqlValue& Raw(size_t i) const { return cells_.at(i); }

 private:
  std::vector<SqlValue> cells_;
};

using SqlRows = std::vector<SqlRow>;

// One connection, used by one thread at a time (inside Database::Run/Transaction).
class SqlConnection {
 public:
  virtual ~SqlConnection() = default;
  // Runs one statement; returns its rows (empty for statements without a result).
  // Errors: Unavailable (connection lost, database busy past the timeout), AlreadyExists
  // (unique violation), InvalidArgument (bad parameter for a column), Internal (anything else).
  virtual absl::StatusOr<SqlRows> Query(std::string_view sql,
                                        const std::vector<SqlValue>& params = {}) = 0;
  // Runs several statements without parameters (migrations).
  virtual absl::Status ExecScript(std::string_view sql) = 0;
};

enum class SqlBackend { kSqlite, kPostgres };

// A pool of connections to one database. Thread-safe.
class Database {
 public:
  virtual ~Database() = default;
  virtual SqlBackend backend() const = 0;

  // Runs `fn` on a pooled connection outside any explicit transaction (autocommit).
  virtual absl::Status Run(const std::function<absl::Status(SqlConnection&)>& fn) = 0;

  // Runs `fn` inside one transaction: commit when it returns OK, roll back otherwise.
  // SQLite takes the write lock up front (BEGIN IMMEDIATE), so a read-then-write inside is
  // atomic; PostgreSQL runs READ COMMITTED, so such code uses row locks (FOR UPDATE).
  // Transient conflicts (busy, serialization failure, deadlock) are retried a few times.
  virtual absl::Status Transaction(const std::function<absl::Status(SqlConnection&)>& fn) = 0;

  // " FOR UPDATE SKIP LOCKED" on PostgreSQL, "" on SQLite (whose writers are serialized).
  std::string_view SkipLocked() const {
    return backend() == SqlBackend::kPostgres ? " FOR UPDATE SKIP LOCKED" : "";
  }
  // " FOR UPDATE" on PostgreSQL, "" on SQLite.
  std::string_view ForUpdate() const {
    return backend() == SqlBackend::kPostgres ? " FOR UPDATE" : "";
  }
};

struct DatabaseOptions {
  int pool_size = 4;
  int busy_timeout_ms = 5000;
};

// Opens `url`: "sqlite://PATH" (relative or absolute; parent folder created) or
// "postgresql://USER[:PW]@HOST[:PORT]/DB" (also "postgres://"). InvalidArgument for another
// scheme; Unavailable when the database cannot be reached.
absl::StatusOr<std::unique_ptr<Database>> OpenDatabase(std::string_view url,
                                                      const DatabaseOptions& options = {});

}  // namespace tsml::store

#endif  // TSML_STORE_SQL_H_
