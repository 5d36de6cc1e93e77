#include "store/sql.h"

#include <charconv>

#include "store/postgres/postgres_database.h"
#include "store/sqlite/sqlite_database.h"

namespace tsml::store {

int64_t SqlRow::Int(size_t i) const {
  const SqlValue& v = cells_.at(i);
  if (const auto* p = std::get_if<int64_t>(&v)) return *p;
  if (const auto* p = std::get_if<double>(&v)) return static_cast<int64_t>(*p);
  if (const auto* p = std::get_if<std::string>(&v)) {
    int64_t out = 0;
    std::from_chars(p->data(), p->data() + p->size(), out);
    return out;
  }
  return 0;
}

double SqlRow::Double(size_t i) const {
  const SqlValue& v = cells_.at(i);
  if (const auto* p = std::get_if<double>(&v)) return *p;
  if (const auto* p = std::get_if<int64_t>(&v)) return static_cast<double>(*p);
  if (const auto* p = std::get_if<std::string>(&v)) {
    try {
      return std::stod(*p);
    } catch (...) {
      return 0;
    }
  }
  return 0;
}

std::string SqlRow::Str(size_t i) const {
  const SqlValue& v = cells_.at(i);
  if (const auto* p = std::get_if<std::string>(&v)) return *p;
  if (const auto* p = std::get_if<int64_t>(&v)) return std::to_string(*p);
  if (const auto* p = std::get_if<double>(&v)) return std::to_string(*p);
  return "";
}

std::optional<std::string> SqlRow::OptStr(size_t i) const {
  if (IsNull(i)) return std::nullopt;
  return Str(i);
}

std::optional<int64_t> SqlRow::OptInt(size_t i) const {
  if (IsNull(i)) return std::nullopt;
  return Int(i);
}

absl::StatusOr<std::unique_ptr<Database>> OpenDatabase(std::string_view url,
                                                      const DatabaseOptions& options) {
  if (url.starts_with("sqlite://")) {
    return OpenSqliteDatabase(std::string(url.substr(9)), options);
  }
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
    return OpenPostgresDatabase(std::string(url), options);
  }
  return absl::InvalidArgumentError(
      "database URL must start with sqlite:// or postgresql://");
}

}  // namespace tsml::store
