#include "export/sample.h"

#include <algorithm>
#include <iterator>

#include "common/status_macros.h"
#include "common/strings.h"
#include "data/catalog.h"
#include "data/filters.h"

namespace tsml::exporting {
namespace {

using common::StrCat;
using data::FeatureKind;

constexpr int kMaxHashedValues = 100000;

Json Cell(const store::SqlRow& r, size_t i) {
  if (r.IsNull(i)) return nullptr;
  const store::SqlValue& v = r.Raw(i);
  if (const auto* p = std::get_if<int64_t>(&v)) return *p;
  if (const auto* p = std::get_if<double>(&v)) return *p;
  if (const auto* p = std::get_if<std::string>(&v)) return *p;
  return nullptr;
}

// A plausible value for a column when no data is at hand.
Json Synthetic(const data::ColumnTransform& c, int i) {
  switch (c.kind) {
    case FeatureKind::kNumeric:
      return (i * 37) % 101 / 4.0;
    case FeatureKind::kTimestamp:
      return int64_t{1700000000000} + int64_t{i} * 86400000 * 11 + i * 3600000;
    case FeatureKind::kCategorical:
      return c.levels.empty() ? Json(nullptr) : Json(c.levels[i % c.levels.size()]);
  }
  return nullptr;
}

}  // namespace

absl::StatusOr<Json> DrawTabularSample(store::Database* db, const std::string& model_type,
                                       const Json& training_data,
                                       const data::FeatureTransform& transform, int count,
                                       HashedValues* hashed, std::string* target) {
  const auto& cols = transform.columns();
  Json rows = Json::array();
  const int drawn = std::max(0, count - 2);
  if (db != nullptr && drawn > 0) {
    data::DataCatalog catalog(db);
    ASSIGN_OR_RETURN(data::ResolvedTrainingData td,
                     data::ResolveTrainingData(catalog, model_type, training_data));
    if (target) *target = td.target;
    std::string select;
    for (const auto& c : cols) {
      if (td.schema.Find(c.column) == nullptr) {
        return absl::FailedPreconditionError(
            StrCat("column '", c.column, "' the model was trained on is no longer in source '",
                   td.schema.source, "'"));
      }
      select += (select.empty() ? "" : ", ") + data::QuoteIdent(c.column);
    }
    const std::string from = StrCat(" FROM ", data::QuoteIdent(td.schema.source), td.where.sql);
    RETURN_IF_ERROR(db->Run([&](store::SqlConnection& conn) -> absl::Status {
      ASSIGN_OR_RETURN(
          store::SqlRows result,
          conn.Query(StrCat("SELECT ", select, from, " ORDER BY \"_row\" DESC LIMIT ", drawn),
                     td.where.params));
      for (const store::SqlRow& r : result) {
        Json row = Json::object();
        for (size_t i = 0; i < cols.size(); ++i) row[cols[i].column] = Cell(r, i);
        rows.push_back(std::move(row));
      }
      // Values of hash-bucketed columns, so formats without the hash can map them.
      for (const auto& c : cols) {
        if (c.kind != FeatureKind::kCategorical || c.hash_buckets <= 0) continue;
        const std::string q = data::QuoteIdent(c.column);
        ASSIGN_OR_RETURN(store::SqlRows values,
                         conn.Query(StrCat("SELECT DISTINCT ", q, from,
                                           td.where.sql.empty() ? " WHERE " : " AND ", q,
                                           " IS NOT NULL LIMIT ", kMaxHashedValues),
                                    td.where.params));
        auto& map = (*hashed)[c.column];
        for (const store::SqlRow& v : values) {
          const std::string raw = v.Str(0);
          const std::string value(common::StripWhitespace(raw));
          if (std::find(c.levels.begin(), c.levels.end(), value) != c.levels.end()) continue;
          map[raw] = HashBucket(value, c.hash_buckets);
        }
      }
      return absl::OkStatus();
    }));
  }
  // Synthetic rows: fill up to count - 2 when the data gave fewer, then the two edge rows.
  for (int i = static_cast<int>(rows.size()); i < drawn; ++i) {
    Json row = Json::object();
    for (const auto& c : cols) row[c.column] = Synthetic(c, i);
    rows.push_back(std::move(row));
  }
  Json missing = Json::object();
  for (const auto& c : cols) missing[c.column] = nullptr;
  rows.push_back(std::move(missing));
  Json unseen = rows.empty() ? Json::object() : rows[0];
  for (const auto& c : cols) {
    if (c.kind == FeatureKind::kCategorical) {
      unseen[c.column] = c.hash_buckets > 0 ? Json(nullptr) : Json("__tsml_unseen_value__");
    } else if (!unseen.contains(c.column) || unseen[c.column].is_null()) {
      unseen[c.column] = Synthetic(c, 1);
    }
  }
  rows.push_back(std::move(unseen));
  return rows;
}

absl::StatusOr<std::vector<std::string>> DrawTextSample(store::Database* db,
                                                        const std::string& model_type,
                                                        const Json& training_data,
                                                        const std::string& text_column, int count) {
  std::vector<std::string> texts;
  const int drawn = std::max(0, count - 2);
  if (db != nullptr && drawn > 0) {
    data::DataCatalog catalog(db);
    ASSIGN_OR_RETURN(data::ResolvedTrainingData td,
                     data::ResolveTrainingData(catalog, model_type, training_data));
    if (td.schema.Find(text_column) == nullptr) {
      return absl::FailedPreconditionError(
          StrCat("column '", text_column, "' the model was trained on is no longer in source '",
                 td.schema.source, "'"));
    }
    const std::string q = data::QuoteIdent(text_column);
    RETURN_IF_ERROR(db->Run([&](store::SqlConnection& conn) -> absl::Status {
      ASSIGN_OR_RETURN(store::SqlRows result,
                       conn.Query(StrCat("SELECT ", q, " FROM ", data::QuoteIdent(td.schema.source),
                                         td.where.sql, td.where.sql.empty() ? " WHERE " : " AND ",
                                         q, " IS NOT NULL ORDER BY \"_row\" DESC LIMIT ", drawn),
                                  td.where.params));
      for (const store::SqlRow& r : result) texts.push_back(r.Str(0));
      return absl::OkStatus();
    }));
  }
  static const char* const kSynthetic[] = {
      "The room was clean and the staff were friendly.",
      "Terrible service, the flight was delayed for hours.",
      "Great location, would book again!",
      "The breakfast was cold and the coffee was awful.",
      "Check-in took five minutes; lovely view from the balcony.",
      "Not worth the price.",
  };
  for (int i = static_cast<int>(texts.size()); i < drawn; ++i) {
    texts.emplace_back(kSynthetic[i % std::size(kSynthetic)]);
  }
  texts.emplace_back("");
  texts.emplace_back(
      "NOT good at all: the café wasn't open, never again... but the pool was great! "
      "\xF0\x9F\x98\x80");
  return texts;
}

}  // namespace tsml::exporting
