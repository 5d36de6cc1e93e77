// `tsml import`: loads a CSV file into one of the six sources.
//
// The file is read twice, streaming (memory does not grow with its size): pass 1 checks its
// shape (RFC 4180: header row, quoted fields with embedded commas/quotes/newlines, CRLF, UTF-8
// with an optional BOM) and infers each column's type; pass 2 converts and inserts the rows in
// one transaction. A bad file is refused whole (InvalidArgument whose message names the line
// and the reason) and nothing of it remains in the database.
#ifndef TSML_DATA_CSV_IMPORT_H_
#define TSML_DATA_CSV_IMPORT_H_

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/json_util.h"
#include "data/catalog.h"
#include "store/sql.h"

namespace tsml::data {

struct ImportOptions {
  // Drop the source's table and recreate it from this file's columns. Otherwise the rows are
  // appended: the table keeps its columns, the file may only bring columns it has (missing
  // ones become NULL), and each value must convert to the column's type.
  bool replace = false;
  char delimiter = ',';
  size_t max_field_bytes = 1 << 20;  // a longer field is refused (usually an unbalanced quote)
};

struct ImportReport {
  std::string source;
  int64_t rows = 0;
  std::vector<ColumnInfo> columns;  // the file's columns (normalized names) with their types
  bool created = false;             // the table was (re)created
  double seconds = 0;
  Json ToJson() const;
};

// Errors: InvalidArgument (unknown source, bad file: message starts "line N: "), NotFound (no
// such file), Unavailable/Internal from the database.
absl::StatusOr<ImportReport> ImportCsv(store::Database& db, std::string_view source,
                                       const std::string& path, const ImportOptions& options = {});

// ---- building blocks, exposed for tests and other importers ----------------------------------

// "  Booking ID# " → "booking_id"; empty → "column_<index+1>".
std::string NormalizeColumnName(std::string_view raw, size_t index);

// True for blank, NULL, null, NA, N/A, #N/A, NaN (any case), after trimming.
bool IsMissingValue(std::string_view value);
// The spellings (besides "") that IsMissingValue takes for missing, in any letter case.
inline constexpr std::string_view kMissingSpellings[] = {"null", "na", "n/a", "#n/a", "nan"};

// ISO 8601 (common::ParseIso8601) plus common real-world forms: "yyyy/mm/dd", "m/d/yy",
// "m/d/yyyy" (d/m/yyyy when the first number is above 12), each optionally followed by
// " hh:mm[:ss]" and "AM"/"PM", and a trailing " UTC". Epoch milliseconds UTC.
std::optional<int64_t> ParseTimestampLenient(std::string_view text);

// A streaming RFC 4180 reader. Not thread-safe.
class CsvReader {
 public:
  CsvReader(char delimiter, size_t max_field_bytes)
      : delimiter_(delimiter), max_field_bytes_(max_field_bytes) {}
  ~CsvReader();
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;

  absl::Status Open(const std::string& path);
  // Reads the next record into `fields` (resized to its field count); false at end of file.
  // Blank lines are skipped. Errors (InvalidArgument, "line N: reason"): unterminated quote,
  // NUL byte, invalid UTF-8, a field over max_field_bytes.
  absl::StatusOr<bool> Next(std::vector<std::string>* fields);
  // The physical line (1-based) where the last record started.
  int64_t record_line() const { return record_line_; }

 private:
  int Get() {
    if (pos_ == end_ && !Fill()) return -1;
    return static_cast<unsigned char>(buf_[pos_++]);
  }
  bool Fill();

  char delimiter_;
  size_t max_field_bytes_;
  std::FILE* file_ = nullptr;
  std::vector<char> buf_;
  size_t pos_ = 0;
  size_t end_ = 0;
  int64_t line_ = 1;
  int64_t record_line_ = 0;
  bool first_ = true;
};

}  // namespace tsml::data

#endif  // TSML_DATA_CSV_IMPORT_H_
