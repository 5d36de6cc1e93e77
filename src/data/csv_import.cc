#include "data/csv_import.h"

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <set>
#include <unordered_set>

#include "common/status_macros.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "data/bulk_insert.h"

namespace tsml::data {
namespace {

using common::StrCat;

constexpr size_t kBufferBytes = 1 << 20;
constexpr size_t kMaxColumns = 2000;
constexpr size_t kMaxDistinctTracked = 1000;

absl::Status LineError(int64_t line, std::string_view reason) {
  return absl::InvalidArgumentError(StrCat("line ", line, ": ", reason));
}

// A value quoted in a message: at most 40 characters, control bytes shown as '?'.
std::string Excerpt(std::string_view v) {
  std::string out;
  for (char c : v.substr(0, 40)) out += static_cast<unsigned char>(c) < 0x20 ? '?' : c;
  if (v.size() > 40) out += "...";
  return out;
}

// Offset of the first invalid UTF-8 sequence, or npos.
size_t InvalidUtf8At(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return i;
    }
    if (i + len > n) return i;
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return i;
    }
    i += len;
  }
  return std::string_view::npos;
}

bool ParseInt(std::string_view v, int64_t* out) {
  if (!v.empty() && v[0] == '+') v.remove_prefix(1);
  if (v.empty()) return false;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), *out);
  return ec == std::errc() && p == v.data() + v.size();
}

bool ParseReal(std::string_view v, double* out) {
  if (!v.empty() && v[0] == '+') v.remove_prefix(1);
  if (v.empty()) return false;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), *out);
  return ec == std::errc() && p == v.data() + v.size() && std::isfinite(*out);
}

// true/false/yes/no/t/f/y/n, any case.
bool ParseBoolWord(std::string_view v, bool* out) {
  using common::EqualsIgnoreCase;
  for (std::string_view t : {"true", "yes", "t", "y"}) {
    if (EqualsIgnoreCase(v, t)) return *out = true, true;
  }
  for (std::string_view f : {"false", "no", "f", "n"}) {
    if (EqualsIgnoreCase(v, f)) return *out = false, true;
  }
  return false;
}

bool ParseBool(std::string_view v, bool* out) {
  if (v == "0" || v == "1") return *out = v == "1", true;
  return ParseBoolWord(v, out);
}

int ReadNumber(std::string_view s, size_t* pos, size_t max_digits) {
  int value = 0;
  size_t digits = 0;
  while (*pos < s.size() && digits < max_digits && s[*pos] >= '0' && s[*pos] <= '9') {
    value = value * 10 + (s[*pos] - '0');
    ++*pos;
    ++digits;
  }
  return digits == 0 ? -1 : value;
}

// " hh:mm[:ss[.fff]][ AM|PM]" after a date; false when malformed. Adds to *ms.
bool ParseTimeOfDay(std::string_view s, int64_t* ms) {
  s = common::StripWhitespace(s);
  if (s.empty()) return true;
  int pm = -1;  // -1: 24h clock
  if (s.size() >= 2 && common::EqualsIgnoreCase(s.substr(s.size() - 2), "am")) pm = 0;
  if (s.size() >= 2 && common::EqualsIgnoreCase(s.substr(s.size() - 2), "pm")) pm = 1;
  if (pm >= 0) s = common::StripWhitespace(s.substr(0, s.size() - 2));
  size_t pos = 0;
  int h = ReadNumber(s, &pos, 2);
  if (h < 0 || pos >= s.size() || s[pos] != ':') return false;
  ++pos;
  int mi = ReadNumber(s, &pos, 2);
  int sec = 0;
  int frac = 0;
  if (mi < 0) return false;
  if (pos < s.size() && s[pos] == ':') {
    ++pos;
    sec = ReadNumber(s, &pos, 2);
    if (sec < 0) return false;
    if (pos < s.size() && s[pos] == '.') {
      ++pos;
      int scale = 100;
      const size_t start = pos;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
        frac += (s[pos] - '0') * scale;
        scale /= 10;
        ++pos;
      }
      if (pos == start) return false;
    }
  }
  if (pos != s.size()) return false;
  if (pm >= 0) {
    if (h < 1 || h > 12) return false;
    h = h % 12 + (pm == 1 ? 12 : 0);
  }
  if (h > 23 || mi > 59 || sec > 60) return false;
  *ms += (h * 3600LL + mi * 60LL + sec) * 1000 + frac;
  return true;
}

bool ValidDate(int y, int m, int d) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1) return false;
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return d <= (m == 2 && leap ? 29 : kDays[m - 1]);
}

}  // namespace

// ---- building blocks --------------------------------------------------------------------------

std::string NormalizeColumnName(std::string_view raw, size_t index) {
  std::string out;
  for (char c : common::StripWhitespace(raw)) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (alnum) {
      out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    } else if (!out.empty() && out.back() != '_') {
      out += '_';
    }
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  if (out.empty()) out = StrCat("column_", index + 1);
  return out;
}

bool IsMissingValue(std::string_view value) {
  value = common::StripWhitespace(value);
  if (value.empty()) return true;
  if (value.size() > 4) return false;
  for (std::string_view m : kMissingSpellings) {
    if (common::EqualsIgnoreCase(value, m)) return true;
  }
  return false;
}

std::optional<int64_t> ParseTimestampLenient(std::string_view text) {
  std::string_view s = common::StripWhitespace(text);
  if (s.size() < 6 || s[0] < '0' || s[0] > '9') return std::nullopt;
  if (s.size() > 4 && common::EqualsIgnoreCase(s.substr(s.size() - 4), " utc")) {
    s = common::StripWhitespace(s.substr(0, s.size() - 4));
  }
  if (auto t = common::ParseIso8601(s)) return t;
  size_t pos = 0;
  const int a = ReadNumber(s, &pos, 4);
  const size_t a_digits = pos;
  if (a < 0 || pos >= s.size() || (s[pos] != '/' && s[pos] != '-' && s[pos] != '.')) {
    return std::nullopt;
  }
  const char sep = s[pos++];
  const int b = ReadNumber(s, &pos, 2);
  if (b < 0 || pos >= s.size() || s[pos] != sep) return std::nullopt;
  ++pos;
  const size_t c_start = pos;
  const int c = ReadNumber(s, &pos, 4);
  const size_t c_digits = pos - c_start;
  if (c < 0) return std::nullopt;
  int y, m, d;
  if (a_digits == 4) {  // yyyy/mm/dd
    y = a, m = b, d = c;
    if (c_digits > 2) return std::nullopt;
  } else if (a_digits <= 2 && (c_digits == 4 || c_digits == 2)) {
    y = c_digits == 2 ? (c < 70 ? 2000 + c : 1900 + c) : c;
    // m/d/y as in US files; d/m/y when the first number cannot be a month, or '.' separated.
    if (sep == '.' || (a > 12 && b <= 12)) {
      d = a, m = b;
    } else {
      m = a, d = b;
    }
  } else {
    return std::nullopt;
  }
  if (!ValidDate(y, m, d)) return std::nullopt;
  int64_t ms = common::DaysFromCivil(y, static_cast<unsigned>(m), static_cast<unsigned>(d)) *
               86400000LL;
  std::string_view rest = s.substr(pos);
  if (!rest.empty()) {
    if (rest[0] != ' ' && rest[0] != 'T') return std::nullopt;
    if (!ParseTimeOfDay(rest.substr(1), &ms)) return std::nullopt;
  }
  return ms;
}

// ---- CsvReader --------------------------------------------------------------------------------

CsvReader::~CsvReader() {
  if (file_ != nullptr) std::fclose(file_);
}

absl::Status CsvReader::Open(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return absl::InvalidArgumentError(StrCat(path, " is a folder, not a CSV file"));
  }
  file_ = std::fopen(path.c_str(), "rb");
  if (file_ == nullptr) {
    if (errno == ENOENT) return absl::NotFoundError(StrCat("no such file: ", path));
    return absl::InvalidArgumentError(StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  buf_.resize(kBufferBytes);
  if (Fill() && end_ >= 3 && static_cast<unsigned char>(buf_[0]) == 0xEF &&
      static_cast<unsigned char>(buf_[1]) == 0xBB && static_cast<unsigned char>(buf_[2]) == 0xBF) {
    pos_ = 3;  // UTF-8 byte order mark
  }
  return absl::OkStatus();
}

bool CsvReader::Fill() {
  if (file_ == nullptr) return false;
  end_ = std::fread(buf_.data(), 1, buf_.size(), file_);
  pos_ = 0;
  return end_ > 0;
}

absl::StatusOr<bool> CsvReader::Next(std::vector<std::string>* fields) {
  size_t n = 0;
  int c = Get();
  while (c == '\n' || c == '\r') {  // blank lines
    if (c == '\n') ++line_;
    c = Get();
  }
  if (c == -1) {
    fields->clear();
    return false;
  }
  record_line_ = line_;
  const char delim = delimiter_;
  while (true) {
    if (n == fields->size()) fields->emplace_back();
    if (n >= kMaxColumns) return LineError(line_, StrCat("more than ", kMaxColumns, " fields"));
    std::string& f = (*fields)[n];
    f.clear();
    if (c == '"') {
      const int64_t start_line = line_;
      while (true) {
        // Bulk-copy up to the next quote, newline or NUL.
        if (pos_ == end_ && !Fill()) {
          return LineError(start_line, "unterminated quoted field (missing closing '\"')");
        }
        const size_t start = pos_;
        while (pos_ < end_) {
          const char ch = buf_[pos_];
          if (ch == '"' || ch == '\n' || ch == '\0') break;
          ++pos_;
        }
        f.append(buf_.data() + start, pos_ - start);
        if (f.size() > max_field_bytes_) {
          return LineError(start_line, StrCat("field longer than ", max_field_bytes_,
                                              " bytes (unbalanced quote?)"));
        }
        if (pos_ == end_) continue;
        const char ch = buf_[pos_++];
        if (ch == '\0') return LineError(line_, "binary data (NUL byte) in the file");
        if (ch == '\n') {
          ++line_;
          f += ch;
          continue;
        }
        c = Get();  // after a quote: "" is a literal quote, anything else closes the field
        if (c == '"') {
          f += '"';
          continue;
        }
        break;
      }
      // Lenient: characters between the closing quote and the delimiter are kept.
      while (c != delim && c != '\n' && c != '\r' && c != -1) {
        if (c == 0) return LineError(line_, "binary data (NUL byte) in the file");
        f += static_cast<char>(c);
        c = Get();
      }
    } else if (c != delim && c != '\n' && c != '\r' && c != -1) {
      if (c == 0) return LineError(line_, "binary data (NUL byte) in the file");
      f += static_cast<char>(c);
      while (true) {
        if (pos_ == end_ && !Fill()) {
          c = -1;
          break;
        }
        const size_t start = pos_;
        while (pos_ < end_) {
          const char ch = buf_[pos_];
          if (ch == delim || ch == '\n' || ch == '\r' || ch == '\0') break;
          ++pos_;
        }
        f.append(buf_.data() + start, pos_ - start);
        if (f.size() > max_field_bytes_) {
          return LineError(line_, StrCat("field longer than ", max_field_bytes_, " bytes"));
        }
        if (pos_ < end_) {
          c = static_cast<unsigned char>(buf_[pos_++]);
          break;
        }
      }
      if (c == 0) return LineError(line_, "binary data (NUL byte) in the file");
    }
    if (const size_t bad = InvalidUtf8At(f); bad != std::string::npos) {
      return LineError(line_, StrCat("invalid UTF-8 in field ", n + 1, " (byte ", bad + 1,
                                     "); the file must be UTF-8"));
    }
    ++n;
    if (c == delim) {
      c = Get();
      continue;
    }
    if (c == '\r') {
      c = Get();
      if (c != '\n' && c != -1) --pos_;  // a lone CR ends the record too
    }
    if (c == '\n') ++line_;
    break;
  }
  fields->resize(n);
  return true;
}

// ---- import -----------------------------------------------------------------------------------

namespace {

struct ColumnStats {
  int64_t present = 0;
  bool is_int = true, is_01 = true, is_real = true, is_bool_word = true, is_ts = true;
  int64_t total_len = 0;
  int64_t total_spaces = 0;
  std::unordered_set<std::string> distinct;
  bool distinct_overflow = false;

  void Observe(std::string_view raw) {
    const std::string_view v = common::StripWhitespace(raw);
    if (IsMissingValue(v)) return;
    ++present;
    total_len += static_cast<int64_t>(v.size());
    if (is_int) {
      int64_t i;
      is_int = ParseInt(v, &i);
      if (is_int && i != 0 && i != 1) is_01 = false;
    }
    if (is_real && !is_int) {
      double d;
      is_real = ParseReal(v, &d);
    }
    if (is_bool_word) {
      bool b;
      is_bool_word = ParseBool(v, &b);  // words, or 0/1 mixed with words
    }
    if (is_ts) is_ts = ParseTimestampLenient(v).has_value();
    if (!is_real) {
      for (char c : v) total_spaces += c == ' ';
      if (!distinct_overflow) {
        distinct.emplace(v);
        if (distinct.size() > kMaxDistinctTracked) {
          distinct_overflow = true;
          distinct.clear();
        }
      }
    }
  }

  LogicalType Infer() const {
    if (present == 0) return LogicalType::kCategorical;
    if (is_int) return is_01 ? LogicalType::kBoolean : LogicalType::kInteger;
    if (is_real) return LogicalType::kReal;
    if (is_bool_word) return LogicalType::kBoolean;
    if (is_ts) return LogicalType::kTimestamp;
    const double avg_len = static_cast<double>(total_len) / present;
    const double avg_words = 1.0 + static_cast<double>(total_spaces) / present;
    return avg_len >= 32 || avg_words >= 4 ? LogicalType::kText : LogicalType::kCategorical;
  }
};

// Converts one field to the cell of a `type` column; false when it does not fit.
bool Convert(std::string_view raw, LogicalType type, store::SqlValue* cell) {
  const std::string_view v = common::StripWhitespace(raw);
  if (IsMissingValue(v)) {
    *cell = std::monostate{};
    return true;
  }
  switch (type) {
    case LogicalType::kInteger: {
      int64_t i;
      if (ParseInt(v, &i)) {
        *cell = i;
        return true;
      }
      double d;  // "3.0" into an integer column
      if (ParseReal(v, &d) && d == std::floor(d) && std::fabs(d) < 9e15) {
        *cell = static_cast<int64_t>(d);
        return true;
      }
      return false;
    }
    case LogicalType::kReal: {
      double d;
      bool b;
      if (ParseReal(v, &d)) {
        *cell = d;
        return true;
      }
      if (ParseBoolWord(v, &b)) {
        *cell = b ? 1.0 : 0.0;
        return true;
      }
      return false;
    }
    case LogicalType::kBoolean: {
      bool b;
      if (!ParseBool(v, &b)) return false;
      *cell = int64_t{b ? 1 : 0};
      return true;
    }
    case LogicalType::kTimestamp: {
      auto t = ParseTimestampLenient(v);
      if (!t) return false;
      *cell = *t;
      return true;
    }
    case LogicalType::kCategorical:
    case LogicalType::kText: {
      const std::string_view keep = type == LogicalType::kText ? raw : v;
      if (auto* s = std::get_if<std::string>(cell)) {
        s->assign(keep.data(), keep.size());
      } else {
        *cell = std::string(keep);
      }
      return true;
    }
  }
  return false;
}

}  // namespace

Json ImportReport::ToJson() const {
  Json cols = Json::array();
  for (const ColumnInfo& c : columns) {
    cols.push_back({{"name", c.name}, {"type", std::string(LogicalTypeName(c.type))}});
  }
  return {{"source", source}, {"rows", rows}, {"columns", cols}, {"created", created},
          {"seconds", seconds},
          {"rowsPerSecond", seconds > 0 ? static_cast<double>(rows) / seconds : 0.0}};
}

absl::StatusOr<ImportReport> ImportCsv(store::Database& db, std::string_view source,
                                       const std::string& path, const ImportOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  if (!IsKnownSource(source)) {
    return absl::InvalidArgumentError(
        StrCat("unknown source '", source, "'; one of ", common::StrJoin(SourceNames(), ", ")));
  }
  ImportReport report;
  report.source = std::string(source);

  // Pass 1: shape, required columns, types.
  CsvReader reader(options.delimiter, options.max_field_bytes);
  RETURN_IF_ERROR(reader.Open(path));
  std::vector<std::string> fields;
  ASSIGN_OR_RETURN(const bool has_header, reader.Next(&fields));
  if (!has_header) {
    return absl::InvalidArgumentError("the file is empty: a header row is expected");
  }
  const size_t width = fields.size();
  std::vector<std::string> names;
  std::set<std::string> seen;
  for (size_t i = 0; i < width; ++i) {
    std::string name = NormalizeColumnName(fields[i], i);
    std::string unique = name;
    for (int k = 2; seen.count(unique) > 0; ++k) unique = StrCat(name, "_", k);
    seen.insert(unique);
    names.push_back(unique);
  }
  std::vector<std::string> missing;
  for (const std::string& req : RequiredColumns(source)) {
    if (seen.count(req) == 0) missing.push_back(req);
  }
  if (!missing.empty()) {
    return absl::InvalidArgumentError(
        StrCat("line 1: missing required column", missing.size() > 1 ? "s" : "", " for source '",
               source, "': ", common::StrJoin(missing, ", "), " (the header has: ",
               Excerpt(common::StrJoin(names, ", ")), ")"));
  }
  std::vector<bool> required(width, false);
  size_t created_at = width;
  for (size_t i = 0; i < width; ++i) {
    for (const std::string& req : RequiredColumns(source)) required[i] = required[i] || names[i] == req;
    if (names[i] == "created_at") created_at = i;
  }

  std::vector<ColumnStats> stats(width);
  while (true) {
    ASSIGN_OR_RETURN(const bool more, reader.Next(&fields));
    if (!more) break;
    const int64_t line = reader.record_line();
    if (fields.size() != width) {
      return LineError(line, StrCat("expected ", width, " fields as in the header, found ",
                                    fields.size()));
    }
    for (size_t i = 0; i < width; ++i) {
      if (required[i] && IsMissingValue(fields[i])) {
        return LineError(line, StrCat("required column '", names[i], "' is empty"));
      }
      stats[i].Observe(fields[i]);
    }
    // Observe() has just parsed it (required: never missing); is_ts holds for every row so far.
    if (created_at < width && !stats[created_at].is_ts) {
      return LineError(line, StrCat("created_at: cannot read '", Excerpt(fields[created_at]),
                                    "' as a date (expected ISO 8601, e.g. 2024-03-01 or "
                                    "2024-03-01T10:00:00Z)"));
    }
  }

  SourceSchema file_schema;
  file_schema.source = std::string(source);
  for (size_t i = 0; i < width; ++i) {
    LogicalType type = stats[i].Infer();
    if (names[i] == "created_at") type = LogicalType::kTimestamp;
    if (source == "reviews" && names[i] == "text") type = LogicalType::kText;
    file_schema.columns.push_back({names[i], type});
  }
  report.columns = file_schema.columns;

  // Pass 2: one transaction.
  RETURN_IF_ERROR(db.Transaction([&](store::SqlConnection& conn) -> absl::Status {
    std::vector<LogicalType> types(width);
    absl::StatusOr<SourceSchema> existing = ReadSchema(conn, source);
    if (!existing.ok() && !absl::IsNotFound(existing.status())) return existing.status();
    report.created = options.replace || !existing.ok();
    if (report.created) {
      RETURN_IF_ERROR(CreateSourceTable(conn, db.backend(), file_schema));
      for (size_t i = 0; i < width; ++i) types[i] = file_schema.columns[i].type;
    } else {
      std::vector<std::string> unknown;
      for (size_t i = 0; i < width; ++i) {
        const ColumnInfo* col = existing->Find(names[i]);
        if (col == nullptr) {
          unknown.push_back(names[i]);
        } else {
          types[i] = col->type;
        }
      }
      if (!unknown.empty()) {
        return absl::InvalidArgumentError(
            StrCat("the file's columns ", common::StrJoin(unknown, ", "),
                   " are not in source '", source,
                   "'; import with --replace to recreate it from this file"));
      }
    }
    ASSIGN_OR_RETURN(store::SqlRows max_row,
                     conn.Query(StrCat("SELECT MAX(\"_row\") FROM ", QuoteIdent(source))));
    int64_t next_row = max_row.empty() ? 1 : max_row[0].Int(0) + 1;

    CsvReader pass2(options.delimiter, options.max_field_bytes);
    RETURN_IF_ERROR(pass2.Open(path));
    RETURN_IF_ERROR(pass2.Next(&fields).status());  // header
    std::vector<std::string> columns = {"_row"};
    columns.insert(columns.end(), names.begin(), names.end());
    BulkInserter inserter(conn, std::string(source), columns);
    while (true) {
      ASSIGN_OR_RETURN(const bool more, pass2.Next(&fields));
      if (!more) break;
      if (fields.size() != width) {  // the file changed since pass 1
        return LineError(pass2.record_line(), "the file changed during the import");
      }
      store::SqlValue* row = inserter.Row();
      row[0] = next_row++;
      for (size_t i = 0; i < width; ++i) {
        if (!Convert(fields[i], types[i], &row[i + 1])) {
          return LineError(pass2.record_line(),
                           StrCat("column '", names[i], "': cannot read '", Excerpt(fields[i]),
                                  "' as ", LogicalTypeName(types[i])));
        }
      }
      RETURN_IF_ERROR(inserter.EndRow());
    }
    RETURN_IF_ERROR(inserter.Flush());
    report.rows = inserter.rows_written();
    return absl::OkStatus();
  }));
  report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

}  // namespace tsml::data
