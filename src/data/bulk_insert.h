// Fast inserts through store::SqlConnection: rows are gathered into multi-row
// `INSERT INTO t (c1, ..) VALUES (?, ..), (?, ..), ..` batches; the full-batch statement text is
// always the same, so the SQLite backend reuses its prepared statement. Works on both backends.
#ifndef TSML_DATA_BULK_INSERT_H_
#define TSML_DATA_BULK_INSERT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "store/sql.h"

namespace tsml::data {

// Not thread-safe; use inside one Database::Transaction callback.
class BulkInserter {
 public:
  BulkInserter(store::SqlConnection& conn, const std::string& table,
               const std::vector<std::string>& columns);

  // The cells of the next row (columns().size() of them), to be filled before EndRow().
  // Cells keep their previous values (strings keep their capacity): assign every one.
  store::SqlValue* Row() { return params_.data() + pending_ * width_; }
  // Finishes the row started by Row(); sends a batch when full.
  absl::Status EndRow();
  // Sends what is pending. Call once at the end.
  absl::Status Flush();

  size_t width() const { return width_; }
  int64_t rows_written() const { return rows_written_; }

 private:
  std::string SqlFor(size_t rows) const;

  store::SqlConnection& conn_;
  std::string head_;   // "INSERT INTO t (a, b) VALUES "
  std::string tuple_;  // "(?, ?)"
  size_t width_;
  size_t batch_rows_;
  std::string full_sql_;
  std::vector<store::SqlValue> params_;
  std::vector<store::SqlValue> tail_params_;
  size_t pending_ = 0;
  int64_t rows_written_ = 0;
};

}  // namespace tsml::data

#endif  // TSML_DATA_BULK_INSERT_H_
