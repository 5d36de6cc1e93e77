#include "data/catalog.h"

#include <algorithm>
#include <map>

#include "common/status_macros.h"
#include "common/strings.h"
#include "common/time_util.h"

namespace tsml::data {
namespace {

using common::StrAppend;
using common::StrCat;

const std::map<std::string, std::vector<std::string>, std::less<>>& RequiredMap() {
  static const auto* m = new std::map<std::string, std::vector<std::string>, std::less<>>{
      {"user_profiles", {"user_id", "created_at"}},
      {"user_events", {"user_id", "item_id", "event_type", "created_at"}},
      {"trips", {"trip_id", "user_id", "destination", "created_at"}},
      {"bookings", {"booking_id", "user_id", "item_id", "created_at"}},
      {"reviews", {"review_id", "user_id", "item_id", "text", "created_at"}},
      {"provider_data", {"provider_id", "created_at"}},
  };
  return *m;
}

}  // namespace

std::string_view LogicalTypeName(LogicalType type) {
  switch (type) {
    case LogicalType::kInteger: return "integer";
    case LogicalType::kReal: return "real";
    case LogicalType::kBoolean: return "boolean";
    case LogicalType::kTimestamp: return "timestamp";
    case LogicalType::kCategorical: return "categorical";
    case LogicalType::kText: return "text";
  }
  return "text";
}

std::optional<LogicalType> ParseLogicalType(std::string_view name) {
  for (LogicalType t : {LogicalType::kInteger, LogicalType::kReal, LogicalType::kBoolean,
                        LogicalType::kTimestamp, LogicalType::kCategorical, LogicalType::kText}) {
    if (LogicalTypeName(t) == name) return t;
  }
  return std::nullopt;
}

bool IsNumeric(LogicalType type) {
  return type == LogicalType::kInteger || type == LogicalType::kReal ||
         type == LogicalType::kBoolean;
}
bool IsString(LogicalType type) {
  return type == LogicalType::kCategorical || type == LogicalType::kText;
}

const ColumnInfo* SourceSchema::Find(std::string_view name) const {
  for (const ColumnInfo& c : columns) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

Json SourceSummary::ToJson() const {
  Json cols = Json::array();
  for (const ColumnInfo& c : columns) {
    cols.push_back({{"name", c.name}, {"type", std::string(LogicalTypeName(c.type))}});
  }
  Json out = {{"name", source},
              {"exists", exists},
              {"requiredColumns", required_columns},
              {"columns", cols},
              {"rowCount", row_count}};
  out["timeSpan"] = {{"from", min_created_at ? Json(common::FormatIso8601(*min_created_at))
                                             : Json(nullptr)},
                     {"to", max_created_at ? Json(common::FormatIso8601(*max_created_at))
                                           : Json(nullptr)}};
  return out;
}

const std::vector<std::string>& SourceNames() {
  static const auto* names = new std::vector<std::string>{
      "user_events", "trips", "bookings", "reviews", "user_profiles", "provider_data"};
  return *names;
}

bool IsKnownSource(std::string_view source) { return RequiredMap().count(source) > 0; }

const std::vector<std::string>& RequiredColumns(std::string_view source) {
  static const std::vector<std::string> kNone;
  auto it = RequiredMap().find(source);
  return it == RequiredMap().end() ? kNone : it->second;
}

bool IsPiiColumn(std::string_view name) {
  static constexpr std::string_view kPii[] = {"email",      "name",       "first_name",
                                              "last_name",  "phone",      "address",
                                              "ip_address", "passport_number", "date_of_birth"};
  return std::find(std::begin(kPii), std::end(kPii), name) != std::end(kPii);
}

std::string QuoteIdent(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string SqlTypeOf(LogicalType type) {
  switch (type) {
    case LogicalType::kInteger:
    case LogicalType::kBoolean:
    case LogicalType::kTimestamp:
      return "BIGINT";
    case LogicalType::kReal:
      return "DOUBLE PRECISION";
    default:
      return "TEXT";
  }
}

absl::Status EnsureCatalogTables(store::SqlConnection& conn) {
  return conn
      .Query(
          "CREATE TABLE IF NOT EXISTS tsml_columns (source TEXT NOT NULL, name TEXT NOT NULL, "
          "logical_type TEXT NOT NULL, position INTEGER NOT NULL, PRIMARY KEY (source, name))")
      .status();
}

absl::Status CreateSourceTable(store::SqlConnection& conn, store::SqlBackend backend,
                               const SourceSchema& schema) {
  if (!IsKnownSource(schema.source)) {
    return absl::InvalidArgumentError(StrCat("unknown source '", schema.source, "'"));
  }
  RETURN_IF_ERROR(EnsureCatalogTables(conn));
  RETURN_IF_ERROR(
      conn.Query(StrCat("DROP TABLE IF EXISTS ", QuoteIdent(schema.source))).status());
  RETURN_IF_ERROR(
      conn.Query("DELETE FROM tsml_columns WHERE source = ?", {schema.source}).status());
  std::string ddl = StrCat("CREATE TABLE ", QuoteIdent(schema.source), " (\"_row\" ",
                           backend == store::SqlBackend::kSqlite ? "INTEGER" : "BIGINT",
                           " PRIMARY KEY");
  for (const ColumnInfo& c : schema.columns) {
    StrAppend(&ddl, ", ", QuoteIdent(c.name), " ", SqlTypeOf(c.type));
  }
  ddl += ")";
  RETURN_IF_ERROR(conn.Query(ddl).status());
  for (size_t i = 0; i < schema.columns.size(); ++i) {
    const ColumnInfo& c = schema.columns[i];
    RETURN_IF_ERROR(conn.Query("INSERT INTO tsml_columns (source, name, logical_type, position) "
                               "VALUES (?, ?, ?, ?)",
                               {schema.source, c.name, std::string(LogicalTypeName(c.type)),
                                static_cast<int64_t>(i)})
                        .status());
  }
  return absl::OkStatus();
}

absl::StatusOr<SourceSchema> ReadSchema(store::SqlConnection& conn, std::string_view source) {
  RETURN_IF_ERROR(EnsureCatalogTables(conn));
  ASSIGN_OR_RETURN(store::SqlRows rows,
                   conn.Query("SELECT name, logical_type FROM tsml_columns WHERE source = ? "
                              "ORDER BY position",
                              {std::string(source)}));
  if (rows.empty()) {
    return absl::NotFoundError(StrCat("source '", source, "' has no data yet"));
  }
  SourceSchema schema;
  schema.source = std::string(source);
  for (const store::SqlRow& r : rows) {
    schema.columns.push_back(
        {r.Str(0), ParseLogicalType(r.Str(1)).value_or(LogicalType::kText)});
  }
  return schema;
}

absl::StatusOr<std::vector<SourceSummary>> DataCatalog::ListSources() {
  std::vector<SourceSummary> out;
  RETURN_IF_ERROR(db_->Run([&](store::SqlConnection& conn) -> absl::Status {
    for (const std::string& source : SourceNames()) {
      SourceSummary s;
      s.source = source;
      s.required_columns = RequiredColumns(source);
      absl::StatusOr<SourceSchema> schema = ReadSchema(conn, source);
      if (schema.ok()) {
        s.exists = true;
        s.columns = schema->columns;
        const bool has_created = schema->Find("created_at") != nullptr;
        ASSIGN_OR_RETURN(
            store::SqlRows rows,
            conn.Query(StrCat("SELECT COUNT(*)",
                              has_created ? ", MIN(\"created_at\"), MAX(\"created_at\")" : "",
                              " FROM ", QuoteIdent(source))));
        if (!rows.empty()) {
          s.row_count = rows[0].Int(0);
          if (has_created) {
            s.min_created_at = rows[0].OptInt(1);
            s.max_created_at = rows[0].OptInt(2);
          }
        }
      } else if (!absl::IsNotFound(schema.status())) {
        return schema.status();
      }
      out.push_back(std::move(s));
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<SourceSchema> DataCatalog::GetSchema(std::string_view source) {
  if (!IsKnownSource(source)) {
    return absl::InvalidArgumentError(StrCat("unknown source '", source, "'"));
  }
  absl::StatusOr<SourceSchema> schema;
  RETURN_IF_ERROR(db_->Run([&](store::SqlConnection& conn) -> absl::Status {
    schema = ReadSchema(conn, source);
    return absl::OkStatus();
  }));
  return schema;
}

}  // namespace tsml::data
