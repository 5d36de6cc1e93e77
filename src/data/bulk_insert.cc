#include "data/bulk_insert.h"

#include <algorithm>

#include "data/catalog.h"

namespace tsml::data {
namespace {
// Below SQLite's 32766 and PostgreSQL's 65535 bound parameters per statement.
constexpr size_t kMaxParams = 30000;
constexpr size_t kMaxBatchRows = 200;
}  // namespace

BulkInserter::BulkInserter(store::SqlConnection& conn, const std::string& table,
                           const std::vector<std::string>& columns)
    : conn_(conn), width_(std::max<size_t>(1, columns.size())) {
  head_ = "INSERT INTO " + QuoteIdent(table) + " (";
  tuple_ = "(";
  for (size_t i = 0; i < columns.size(); ++i) {
    if (i > 0) {
      head_ += ", ";
      tuple_ += ", ";
    }
    head_ += QuoteIdent(columns[i]);
    tuple_ += "?";
  }
  head_ += ") VALUES ";
  tuple_ += ")";
  batch_rows_ = std::clamp<size_t>(kMaxParams / width_, 1, kMaxBatchRows);
  full_sql_ = SqlFor(batch_rows_);
  params_.resize(batch_rows_ * width_);
}

std::string BulkInserter::SqlFor(size_t rows) const {
  std::string sql = head_;
  sql.reserve(head_.size() + rows * (tuple_.size() + 2));
  for (size_t r = 0; r < rows; ++r) {
    if (r > 0) sql += ", ";
    sql += tuple_;
  }
  return sql;
}

absl::Status BulkInserter::EndRow() {
  ++pending_;
  if (pending_ < batch_rows_) return absl::OkStatus();
  absl::Status s = conn_.Query(full_sql_, params_).status();
  rows_written_ += static_cast<int64_t>(pending_);
  pending_ = 0;
  return s;
}

absl::Status BulkInserter::Flush() {
  if (pending_ == 0) return absl::OkStatus();
  tail_params_.assign(params_.begin(), params_.begin() + pending_ * width_);
  absl::Status s = conn_.Query(SqlFor(pending_), tail_params_).status();
  rows_written_ += static_cast<int64_t>(pending_);
  pending_ = 0;
  return s;
}

}  // namespace tsml::data
