// The six training-data sources (CONTRACT §7) and their schema registry.
//
// Each source is a table named after it in the data database (TSML_DATA_URL). Its columns and
// their logical types are recorded in the metadata table `tsml_columns`; a source "exists" when
// it has rows there (created by ImportCsv or SeedDemo). Every source table also carries a hidden
// surrogate key `_row` (BIGINT, increasing in insertion order) used for streaming reads; it is
// not part of the schema. Storage: integer/boolean → BIGINT (booleans 0/1), real → DOUBLE
// PRECISION, timestamp → BIGINT epoch milliseconds UTC, categorical/text → TEXT.
// Identifiers are always double-quoted in SQL.
#ifndef TSML_DATA_CATALOG_H_
#define TSML_DATA_CATALOG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/json_util.h"
#include "store/sql.h"

namespace tsml::data {

enum class LogicalType { kInteger, kReal, kBoolean, kTimestamp, kCategorical, kText };

std::string_view LogicalTypeName(LogicalType type);  // "integer", "real", ...
std::optional<LogicalType> ParseLogicalType(std::string_view name);
bool IsNumeric(LogicalType type);  // integer, real, boolean
bool IsString(LogicalType type);   // categorical, text

struct ColumnInfo {
  std::string name;
  LogicalType type = LogicalType::kText;
};

struct SourceSchema {
  std::string source;
  std::vector<ColumnInfo> columns;  // in table order
  const ColumnInfo* Find(std::string_view name) const;
};

struct SourceSummary {
  std::string source;
  bool exists = false;
  std::vector<std::string> required_columns;
  std::vector<ColumnInfo> columns;
  int64_t row_count = 0;
  std::optional<int64_t> min_created_at;  // epoch millis
  std::optional<int64_t> max_created_at;
  Json ToJson() const;  // {"name","exists","requiredColumns","columns":[{name,type}],"rowCount",...}
};

// The six source names, in CONTRACT order.
const std::vector<std::string>& SourceNames();
bool IsKnownSource(std::string_view source);
// Required columns of a known source (empty for an unknown one).
const std::vector<std::string>& RequiredColumns(std::string_view source);

// Personally identifying columns never used as features (CONTRACT §7).
bool IsPiiColumn(std::string_view name);

// "identifier" quoted for SQL ("" doubled).
std::string QuoteIdent(std::string_view name);

// Storage type of a logical type on `backend`.
std::string SqlTypeOf(LogicalType type);

// Creates the metadata table when missing. Idempotent.
absl::Status EnsureCatalogTables(store::SqlConnection& conn);

// Inside a transaction: drops the source table (if any) and creates it with `schema`'s columns,
// recording them in the metadata table.
absl::Status CreateSourceTable(store::SqlConnection& conn, store::SqlBackend backend,
                               const SourceSchema& schema);

// Reads a source's schema inside an open connection; NotFound when it has not been created.
absl::StatusOr<SourceSchema> ReadSchema(store::SqlConnection& conn, std::string_view source);

// Read-only view of the sources. Thread-safe (the Database is).
class DataCatalog {
 public:
  explicit DataCatalog(store::Database* db) : db_(db) {}

  store::Database* db() const { return db_; }

  // All six sources, existing or not, with columns, row counts and created_at span.
  absl::StatusOr<std::vector<SourceSummary>> ListSources();
  // InvalidArgument for an unknown source name; NotFound when it has no table yet.
  absl::StatusOr<SourceSchema> GetSchema(std::string_view source);

 private:
  store::Database* db_;
};

}  // namespace tsml::data

#endif  // TSML_DATA_CATALOG_H_
