#include "data/frame.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <unordered_map>
#include <unordered_set>

#include "common/status_macros.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "data/csv_import.h"

namespace tsml::data {
namespace {

using common::StrCat;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int64_t kPageRows = 20000;
constexpr double kLeakAuc = 0.98;
constexpr double kLeakCorr = 0.99;
constexpr int kTransformVersion = 1;

uint64_t Fnv1a(std::string_view s, uint64_t h = 1469598103934665603ULL) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}
}  // namespace

int HashBucket(std::string_view value, int buckets) {
  return static_cast<int>(Fnv1a(value) % static_cast<uint64_t>(buckets));
}

namespace {

uint64_t MixDouble(uint64_t h, double v) {
  uint64_t bits;
  if (std::isnan(v)) v = kNaN;  // one NaN pattern
  std::memcpy(&bits, &v, sizeof bits);
  h ^= bits + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2);
  return h * 1099511628211ULL;
}

bool IsIdLike(std::string_view name) {
  return name == "id" || common::EndsWith(name, "_id") || name == "uuid";
}

std::string_view KindName(FeatureKind k) {
  switch (k) {
    case FeatureKind::kNumeric: return "numeric";
    case FeatureKind::kCategorical: return "categorical";
    case FeatureKind::kTimestamp: return "timestamp";
  }
  return "numeric";
}

// A number from a JSON value; NaN when it is not one.
double JsonNumber(const Json& v) {
  if (v.is_number()) return v.get<double>();
  if (v.is_boolean()) return v.get<bool>() ? 1 : 0;
  if (v.is_string()) {
    const std::string s(common::StripWhitespace(v.get_ref<const std::string&>()));
    if (common::EqualsIgnoreCase(s, "true")) return 1;
    if (common::EqualsIgnoreCase(s, "false")) return 0;
    double d;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
    if (ec == std::errc() && p == s.data() + s.size()) return d;
  }
  return kNaN;
}

// Text of a categorical JSON value; false when missing.
bool JsonCategory(const Json& v, std::string* out) {
  if (v.is_string()) {
    if (IsMissingValue(v.get_ref<const std::string&>())) return false;
    *out = std::string(common::StripWhitespace(v.get_ref<const std::string&>()));
    return true;
  }
  if (v.is_number_integer()) return *out = std::to_string(v.get<int64_t>()), true;
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::isnan(d)) return false;
    if (d == std::floor(d) && std::fabs(d) < 1e15) return *out = std::to_string(static_cast<int64_t>(d)), true;
    return *out = v.dump(), true;
  }
  if (v.is_boolean()) return *out = v.get<bool>() ? "1" : "0", true;
  return false;
}

// One loaded column.
struct RawColumn {
  ColumnInfo info;
  std::vector<double> num;    // numeric and timestamp
  std::vector<int32_t> code;  // categorical; -1 missing
  std::vector<std::string> dict;
  std::unordered_map<std::string, int32_t> index;
  bool categorical() const { return IsString(info.type); }
};

double CellNumber(const store::SqlRow& row, size_t i) {
  if (row.IsNull(i)) return kNaN;
  const store::SqlValue& v = row.Raw(i);
  if (const auto* p = std::get_if<int64_t>(&v)) return static_cast<double>(*p);
  if (const auto* p = std::get_if<double>(&v)) return *p;
  if (const auto* p = std::get_if<std::string>(&v)) {
    double d;
    auto [ptr, ec] = std::from_chars(p->data(), p->data() + p->size(), d);
    if (ec == std::errc() && ptr == p->data() + p->size()) return d;
  }
  return kNaN;
}

double Pearson(const std::vector<double>& a, const std::vector<float>& b) {
  double n = 0, sa = 0, sb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i])) continue;
    ++n, sa += a[i], sb += b[i];
  }
  if (n < 3) return 0;
  const double ma = sa / n, mb = sb / n;
  double cov = 0, va = 0, vb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i])) continue;
    cov += (a[i] - ma) * (b[i] - mb), va += (a[i] - ma) * (a[i] - ma), vb += (b[i] - mb) * (b[i] - mb);
  }
  return va > 0 && vb > 0 ? cov / std::sqrt(va * vb) : 0;
}

}  // namespace

double RocAuc(const std::vector<double>& score, const std::vector<float>& label) {
  const size_t n = score.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  auto key = [&](size_t i) { return std::isnan(score[i]) ? -std::numeric_limits<double>::infinity() : score[i]; };
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return key(a) < key(b); });
  double pos = 0, rank_sum = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && key(order[j]) == key(order[i])) ++j;
    const double avg_rank = (i + 1 + j) / 2.0;  // ranks i+1..j
    for (size_t k = i; k < j; ++k) {
      if (label[order[k]] > 0.5) {
        rank_sum += avg_rank;
        ++pos;
      }
    }
    i = j;
  }
  const double neg = static_cast<double>(n) - pos;
  if (pos == 0 || neg == 0) return 0.5;
  return (rank_sum - pos * (pos + 1) / 2) / (pos * neg);
}

// ---- FeatureTransform -------------------------------------------------------------------------

FeatureTransform::FeatureTransform(std::vector<ColumnTransform> columns)
    : columns_(std::move(columns)) {
  for (const ColumnTransform& c : columns_) {
    switch (c.kind) {
      case FeatureKind::kNumeric:
        names_.push_back(c.column);
        if (c.missing_indicator) names_.push_back(c.column + "__missing");
        break;
      case FeatureKind::kTimestamp:
        for (const char* s : {"__dow", "__month", "__hour", "__doy"}) names_.push_back(c.column + s);
        break;
      case FeatureKind::kCategorical:
        for (const std::string& l : c.levels) names_.push_back(StrCat(c.column, "=", l));
        if (c.other) names_.push_back(c.column + "=__other__");
        for (int k = 0; k < c.hash_buckets; ++k) names_.push_back(StrCat(c.column, "__hash_", k));
        if (c.missing_level) names_.push_back(c.column + "=__missing__");
        break;
    }
  }
}

size_t FeatureTransform::Width(const ColumnTransform& c) {
  switch (c.kind) {
    case FeatureKind::kNumeric: return c.missing_indicator ? 2 : 1;
    case FeatureKind::kTimestamp: return 4;
    case FeatureKind::kCategorical:
      return c.levels.size() + (c.other ? 1 : 0) + c.hash_buckets + (c.missing_level ? 1 : 0);
  }
  return 0;
}

void FeatureTransform::EncodeNumeric(const ColumnTransform& c, double v, float* out) {
  out[0] = static_cast<float>(v);
  if (c.missing_indicator) out[1] = std::isnan(v) ? 1.0f : 0.0f;
}

void FeatureTransform::EncodeTimestamp(double millis, float* out) {
  if (std::isnan(millis)) {
    std::fill(out, out + 4, std::numeric_limits<float>::quiet_NaN());
    return;
  }
  const int64_t ms = static_cast<int64_t>(millis);
  int64_t days = ms / 86400000;
  if (ms % 86400000 < 0) --days;
  const int64_t hour = (ms - days * 86400000) / 3600000;
  const common::CivilDate civil = common::CivilFromDays(days);
  const unsigned m = civil.month;
  const int64_t year = civil.year;
  const int64_t doy = days - common::DaysFromCivil(year, 1, 1) + 1;
  out[0] = static_cast<float>(((days % 7) + 11) % 7);  // 1970-01-01 was a Thursday (4)
  out[1] = static_cast<float>(m);
  out[2] = static_cast<float>(hour);
  out[3] = static_cast<float>(doy);
}

void FeatureTransform::EncodeCategorical(const ColumnTransform& c, const std::string* value,
                                         float* out) {
  const size_t width = Width(c);
  std::fill(out, out + width, 0.0f);
  if (value == nullptr) {
    if (c.missing_level) out[width - 1] = 1.0f;
    return;
  }
  for (size_t i = 0; i < c.levels.size(); ++i) {
    if (c.levels[i] == *value) {
      out[i] = 1.0f;
      return;
    }
  }
  size_t pos = c.levels.size();
  if (c.other) {
    out[pos] = 1.0f;
    return;
  }
  if (c.hash_buckets > 0) out[pos + HashBucket(*value, c.hash_buckets)] = 1.0f;
}

void FeatureTransform::Transform(const Json& row, float* out) const {
  static const Json kNull;
  for (const ColumnTransform& c : columns_) {
    const Json& v = row.is_object() && row.contains(c.column) ? row[c.column] : kNull;
    switch (c.kind) {
      case FeatureKind::kNumeric:
        EncodeNumeric(c, JsonNumber(v), out);
        break;
      case FeatureKind::kTimestamp: {
        double t = kNaN;
        if (v.is_string()) {
          if (auto ms = ParseTimestampLenient(v.get_ref<const std::string&>())) t = static_cast<double>(*ms);
        } else if (v.is_number()) {
          t = v.get<double>();
        }
        EncodeTimestamp(t, out);
        break;
      }
      case FeatureKind::kCategorical: {
        std::string s;
        const bool present = JsonCategory(v, &s);
        EncodeCategorical(c, present ? &s : nullptr, out);
        break;
      }
    }
    out += Width(c);
  }
}

Json FeatureTransform::ToJson() const {
  Json cols = Json::array();
  for (const ColumnTransform& c : columns_) {
    Json j = {{"column", c.column}, {"kind", std::string(KindName(c.kind))}};
    if (c.kind == FeatureKind::kNumeric) j["missingIndicator"] = c.missing_indicator;
    if (c.kind == FeatureKind::kCategorical) {
      j["levels"] = c.levels;
      j["other"] = c.other;
      j["hashBuckets"] = c.hash_buckets;
      j["missingLevel"] = c.missing_level;
    }
    cols.push_back(std::move(j));
  }
  return {{"version", kTransformVersion}, {"columns", cols}, {"featureNames", names_}};
}

absl::StatusOr<FeatureTransform> FeatureTransform::FromJson(const Json& json) {
  auto bad = [](std::string why) {
    return absl::InvalidArgumentError(StrCat("bad feature transform: ", why));
  };
  if (!json.is_object() || !json.contains("version") || !json["version"].is_number_integer()) {
    return bad("no version");
  }
  if (json["version"].get<int>() != kTransformVersion) return bad("unsupported version");
  if (!json.contains("columns") || !json["columns"].is_array()) return bad("no columns");
  std::vector<ColumnTransform> cols;
  try {
    for (const Json& j : json["columns"]) {
      ColumnTransform c;
      c.column = j.at("column").get<std::string>();
      const std::string kind = j.at("kind").get<std::string>();
      if (kind == "numeric") {
        c.kind = FeatureKind::kNumeric;
        c.missing_indicator = j.value("missingIndicator", false);
      } else if (kind == "timestamp") {
        c.kind = FeatureKind::kTimestamp;
      } else if (kind == "categorical") {
        c.kind = FeatureKind::kCategorical;
        c.levels = j.at("levels").get<std::vector<std::string>>();
        c.other = j.value("other", false);
        c.hash_buckets = j.value("hashBuckets", 0);
        c.missing_level = j.value("missingLevel", false);
        if (c.hash_buckets < 0 || c.hash_buckets > 4096) return bad("hashBuckets out of range");
      } else {
        return bad(StrCat("unknown kind '", kind, "'"));
      }
      cols.push_back(std::move(c));
    }
  } catch (const std::exception& e) {
    return bad(e.what());
  }
  FeatureTransform t(std::move(cols));
  if (json.contains("featureNames") && json["featureNames"] != Json(t.names_)) {
    return bad("featureNames do not match the columns");
  }
  return t;
}

Json FeatureFrame::Summary() const {
  Json ex = Json::array();
  for (const ExcludedColumn& e : excluded) ex.push_back({{"column", e.column}, {"reason", e.reason}});
  return {{"rows", rows},
          {"features", transform.num_features()},
          {"duplicatesRemoved", duplicates_removed},
          {"missingTargetDropped", missing_target_dropped},
          {"excluded", ex}};
}

// ---- LoadFeatureFrame -------------------------------------------------------------------------

absl::StatusOr<FeatureFrame> LoadFeatureFrame(store::Database& db, const SourceSchema& schema,
                                              const FrameOptions& options) {
  FeatureFrame frame;
  // Which columns are features.
  const ColumnInfo* target = nullptr;
  if (!options.target.empty()) {
    target = schema.Find(options.target);
    if (target == nullptr) {
      return absl::InvalidArgumentError(StrCat("unknown target column '", options.target, "'"));
    }
  }
  std::vector<RawColumn> raw;
  auto add_feature = [&](const ColumnInfo& c) { raw.push_back(RawColumn{c, {}, {}, {}, {}}); };
  if (!options.features.empty()) {
    for (const std::string& name : options.features) {
      const ColumnInfo* c = schema.Find(name);
      if (c == nullptr) return absl::InvalidArgumentError(StrCat("unknown feature column '", name, "'"));
      if (IsPiiColumn(name)) {
        frame.excluded.push_back({name, "personal data"});
      } else if (c->type == LogicalType::kText) {
        frame.excluded.push_back({name, "free text"});
      } else if (name != options.target) {
        add_feature(*c);
      }
    }
  } else {
    for (const ColumnInfo& c : schema.columns) {
      if (c.name == options.target || c.name == options.text_column) continue;
      if (IsPiiColumn(c.name)) {
        frame.excluded.push_back({c.name, "personal data"});
      } else if (IsIdLike(c.name)) {
        frame.excluded.push_back({c.name, "identifier"});
      } else if (c.type == LogicalType::kText) {
        frame.excluded.push_back({c.name, "free text"});
      } else {
        add_feature(c);
      }
    }
  }
  const ColumnInfo* text = options.text_column.empty() ? nullptr : schema.Find(options.text_column);
  if (!options.text_column.empty() && text == nullptr) {
    return absl::InvalidArgumentError(StrCat("unknown text column '", options.text_column, "'"));
  }
  const bool has_created = schema.Find("created_at") != nullptr;

  // SELECT _row, features..., [target], [text], [created_at]
  std::string select = "SELECT \"_row\"";
  for (const RawColumn& c : raw) select += ", " + QuoteIdent(c.info.name);
  if (target) select += ", " + QuoteIdent(target->name);
  if (text) select += ", " + QuoteIdent(text->name);
  if (has_created) select += ", \"created_at\"";
  select += " FROM " + QuoteIdent(schema.source);
  const std::string where_prefix =
      options.where.sql.empty() ? " WHERE \"_row\" > ?" : options.where.sql + " AND \"_row\" > ?";
  const std::string page_sql = StrCat(select, where_prefix, " ORDER BY \"_row\" LIMIT ", kPageRows);

  // The target: numeric (booleans 0/1) or class labels.
  const bool target_numeric = target != nullptr && (IsNumeric(target->type) || target->type == LogicalType::kTimestamp);
  std::unordered_map<std::string, int32_t> class_index;
  std::vector<std::string> class_labels;  // in order of first appearance; sorted below
  std::vector<int32_t> class_codes;

  // Up-front size check: rows × cells.
  const int64_t cells_per_row = static_cast<int64_t>(raw.size()) + 3;
  if (options.memory_limit_bytes > 0) {
    absl::StatusOr<store::SqlRows> count;
    RETURN_IF_ERROR(db.Run([&](store::SqlConnection& conn) -> absl::Status {
      count = conn.Query(StrCat("SELECT COUNT(*) FROM ", QuoteIdent(schema.source), options.where.sql),
                         options.where.params);
      return count.status();
    }));
    int64_t n = count->empty() ? 0 : (*count)[0].Int(0);
    if (options.max_rows > 0) n = std::min(n, options.max_rows);
    const int64_t estimate = n * cells_per_row * 12;  // raw cells plus the float matrix
    if (estimate > options.memory_limit_bytes) {
      return absl::ResourceExhaustedError(StrCat(
          "the training data does not fit the memory limit: ", n, " rows of ", raw.size(),
          " columns need about ", estimate / (1 << 20) + 1, " MiB, the limit is ",
          options.memory_limit_bytes / (1 << 20), " MiB; add filters or a dateRange, or raise "
          "computeResources.memory"));
    }
  }

  std::unordered_set<uint64_t> seen;
  int64_t bytes = 0;
  int64_t last_row = 0;
  int64_t rows = 0;
  bool done = false;
  while (!done) {
    absl::StatusOr<store::SqlRows> page;
    std::vector<store::SqlValue> params = options.where.params;
    params.push_back(last_row);
    RETURN_IF_ERROR(db.Run([&](store::SqlConnection& conn) -> absl::Status {
      page = conn.Query(page_sql, params);
      return page.status();
    }));
    if (static_cast<int64_t>(page->size()) < kPageRows) done = true;
    for (const store::SqlRow& r : *page) {
      last_row = r.Int(0);
      size_t col = 1;
      // Dedupe on every loaded value.
      uint64_t h = 1469598103934665603ULL;
      for (size_t i = 1; i < r.size(); ++i) {
        if (has_created && i == r.size() - 1) break;  // rows differing only in time are duplicates too
        if (r.IsNull(i)) {
          h = MixDouble(h, kNaN);
        } else if (const auto* s = std::get_if<std::string>(&r.Raw(i))) {
          h = Fnv1a(*s, h ^ 0x5bd1e995);
        } else {
          h = MixDouble(h, CellNumber(r, i));
        }
      }
      if (options.deduplicate && !seen.insert(h).second) {
        ++frame.duplicates_removed;
        continue;
      }
      // Target first: rows without one are dropped.
      const size_t target_col = 1 + raw.size();
      if (target != nullptr) {
        if (r.IsNull(target_col)) {
          ++frame.missing_target_dropped;
          continue;
        }
        if (target_numeric) {
          frame.y.push_back(static_cast<float>(CellNumber(r, target_col)));
        } else {
          const std::string label = r.Str(target_col);
          auto [it, inserted] = class_index.emplace(label, static_cast<int32_t>(class_labels.size()));
          if (inserted) class_labels.push_back(label);
          class_codes.push_back(it->second);
        }
      }
      for (RawColumn& c : raw) {
        if (c.categorical()) {
          if (r.IsNull(col)) {
            c.code.push_back(-1);
          } else {
            std::string v = r.Str(col);
            auto it = c.index.find(v);
            if (it == c.index.end()) {
              bytes += static_cast<int64_t>(v.size()) + 48;
              it = c.index.emplace(v, static_cast<int32_t>(c.dict.size())).first;
              c.dict.push_back(std::move(v));
            }
            c.code.push_back(it->second);
          }
          bytes += 4;
        } else {
          c.num.push_back(CellNumber(r, col));
          bytes += 8;
        }
        ++col;
      }
      if (target) ++col;
      if (text) {
        frame.texts.push_back(r.Str(col++));
        bytes += static_cast<int64_t>(frame.texts.back().size()) + 32;
      }
      if (has_created) frame.created_at.push_back(r.IsNull(col) ? 0 : r.Int(col));
      bytes += 24;
      ++rows;
      if (options.memory_limit_bytes > 0 && bytes > options.memory_limit_bytes) {
        return absl::ResourceExhaustedError(StrCat(
            "the training data does not fit the memory limit of ",
            options.memory_limit_bytes / (1 << 20), " MiB (exceeded after ", rows,
            " rows); add filters or a dateRange, or raise computeResources.memory"));
      }
      if (options.max_rows > 0 && rows >= options.max_rows) {
        done = true;
        break;
      }
    }
  }
  seen.clear();
  if (rows == 0) {
    return absl::FailedPreconditionError(StrCat("no rows in source '", schema.source,
                                                "' match the filters"));
  }
  if (target != nullptr && !target_numeric) {
    // Classes in sorted order, so the encoding does not depend on row order.
    std::vector<std::string> sorted = class_labels;
    std::sort(sorted.begin(), sorted.end());
    std::vector<int32_t> remap(class_labels.size());
    for (size_t i = 0; i < class_labels.size(); ++i) {
      remap[i] = static_cast<int32_t>(std::lower_bound(sorted.begin(), sorted.end(), class_labels[i]) - sorted.begin());
    }
    frame.y.reserve(class_codes.size());
    for (int32_t c : class_codes) frame.y.push_back(static_cast<float>(remap[c]));
    frame.target_classes = std::move(sorted);
  }
  frame.rows = rows;

  // Fit per column, with the leakage check.
  bool binary_target = target != nullptr;
  if (binary_target) {
    for (float v : frame.y) {
      if (v != 0.0f && v != 1.0f) {
        binary_target = false;
        break;
      }
    }
  }
  const bool numeric_target = target != nullptr && target_numeric && !binary_target;
  std::vector<ColumnTransform> fitted;
  std::vector<const RawColumn*> used;
  for (const RawColumn& c : raw) {
    ColumnTransform t;
    t.column = c.info.name;
    std::vector<double> score;  // for the leakage check
    if (c.categorical()) {
      t.kind = FeatureKind::kCategorical;
      std::vector<int64_t> counts(c.dict.size(), 0);
      int64_t missing = 0;
      for (int32_t code : c.code) code < 0 ? ++missing : ++counts[code];
      std::vector<int32_t> order(c.dict.size());
      std::iota(order.begin(), order.end(), 0);
      std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
        return counts[a] != counts[b] ? counts[a] > counts[b] : c.dict[a] < c.dict[b];
      });
      const int64_t min_count = std::max<int64_t>(
          std::min<int64_t>(options.min_level_count, rows / 20 + 1),
          static_cast<int64_t>(options.min_level_share * rows));
      size_t frequent = 0;
      while (frequent < order.size() && counts[order[frequent]] >= min_count) ++frequent;
      if (c.dict.size() <= 1 && missing == 0) {
        frame.excluded.push_back({c.info.name, "constant"});
        continue;
      }
      if (static_cast<int64_t>(c.dict.size()) > rows / 2 && frequent * 20 < c.dict.size()) {
        frame.excluded.push_back({c.info.name, "identifier-like (almost every value distinct)"});
        continue;
      }
      if (frequent == 0) {
        frame.excluded.push_back({c.info.name, "every level is rare"});
        continue;
      }
      const size_t kept = std::min<size_t>(frequent, options.max_levels);
      for (size_t i = 0; i < kept; ++i) t.levels.push_back(c.dict[order[i]]);
      if (kept < c.dict.size()) {
        if (frequent > kept) {
          t.hash_buckets = options.hash_buckets;  // many frequent levels: hash the rest
        } else {
          t.other = true;  // rare levels grouped
        }
      }
      t.missing_level = missing > 0;
      if (binary_target || numeric_target) {
        // Score: the level's mean target (rare levels share the overall mean).
        std::vector<double> sum(c.dict.size(), 0.0);
        double total = 0, miss_sum = 0;
        for (size_t i = 0; i < c.code.size(); ++i) {
          total += frame.y[i];
          c.code[i] < 0 ? miss_sum += frame.y[i] : sum[c.code[i]] += frame.y[i];
        }
        const double overall = total / static_cast<double>(rows);
        score.resize(c.code.size());
        for (size_t i = 0; i < c.code.size(); ++i) {
          const int32_t k = c.code[i];
          if (k < 0) {
            score[i] = miss_sum / static_cast<double>(missing);
          } else {
            score[i] = counts[k] >= min_count ? sum[k] / counts[k] : overall;
          }
        }
      }
    } else {
      t.kind = c.info.type == LogicalType::kTimestamp ? FeatureKind::kTimestamp : FeatureKind::kNumeric;
      int64_t missing = 0;
      double first = kNaN;
      bool constant = true;
      for (double v : c.num) {
        if (std::isnan(v)) {
          ++missing;
        } else if (std::isnan(first)) {
          first = v;
        } else if (v != first) {
          constant = false;
        }
      }
      if (constant && missing == 0) {
        frame.excluded.push_back({c.info.name, "constant"});
        continue;
      }
      t.missing_indicator = t.kind == FeatureKind::kNumeric && missing > 0;
      if (binary_target || numeric_target) score = c.num;
    }
    if (options.leakage_check && !score.empty()) {
      if (binary_target) {
        const double auc = RocAuc(score, frame.y);
        const double strength = std::max(auc, 1 - auc);
        if (strength > kLeakAuc) {
          frame.excluded.push_back(
              {c.info.name, StrCat("leakage: alone predicts the target (ROC AUC ",
                                   std::round(strength * 1000) / 1000, ")")});
          continue;
        }
      } else if (numeric_target) {
        const double r = Pearson(score, frame.y);
        if (std::fabs(r) > kLeakCorr) {
          frame.excluded.push_back(
              {c.info.name, StrCat("leakage: correlates with the target (r = ",
                                   std::round(r * 1000) / 1000, ")")});
          continue;
        }
      }
    }
    fitted.push_back(std::move(t));
    used.push_back(&c);
  }
  frame.transform = FeatureTransform(std::move(fitted));
  const size_t width = frame.transform.num_features();
  if (width == 0 && options.text_column.empty()) {
    return absl::FailedPreconditionError(StrCat("no usable feature columns in source '",
                                                schema.source, "'"));
  }
  if (options.memory_limit_bytes > 0 &&
      bytes + static_cast<int64_t>(width) * rows * 4 > options.memory_limit_bytes) {
    return absl::ResourceExhaustedError(StrCat(
        "the feature matrix (", rows, " rows x ", width, " features) does not fit the memory "
        "limit of ", options.memory_limit_bytes / (1 << 20), " MiB; add filters or raise "
        "computeResources.memory"));
  }

  // Build the matrix column block by column block with the shared encoders.
  frame.x.assign(static_cast<size_t>(rows) * width, 0.0f);
  size_t offset = 0;
  const auto& cols = frame.transform.columns();
  for (size_t k = 0; k < cols.size(); ++k) {
    const ColumnTransform& t = cols[k];
    const RawColumn& c = *used[k];
    const size_t w = FeatureTransform::Width(t);
    if (t.kind == FeatureKind::kCategorical) {
      // Encode each distinct value once.
      std::vector<float> encoded(c.dict.size() * w);
      for (size_t d = 0; d < c.dict.size(); ++d) {
        FeatureTransform::EncodeCategorical(t, &c.dict[d], encoded.data() + d * w);
      }
      std::vector<float> missing(w);
      FeatureTransform::EncodeCategorical(t, nullptr, missing.data());
      for (int64_t i = 0; i < rows; ++i) {
        const float* src = c.code[i] < 0 ? missing.data() : encoded.data() + c.code[i] * w;
        std::copy(src, src + w, frame.x.data() + i * width + offset);
      }
    } else {
      for (int64_t i = 0; i < rows; ++i) {
        float* dst = frame.x.data() + i * width + offset;
        if (t.kind == FeatureKind::kTimestamp) {
          FeatureTransform::EncodeTimestamp(c.num[i], dst);
        } else {
          FeatureTransform::EncodeNumeric(t, c.num[i], dst);
        }
      }
    }
    offset += w;
  }
  return frame;
}

}  // namespace tsml::data
