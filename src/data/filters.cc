#include "data/filters.h"

#include <cmath>

#include "common/strings.h"
#include "common/time_util.h"
#include "data/csv_import.h"

namespace tsml::data {
namespace {

using common::StrAppend;
using common::StrCat;

constexpr size_t kMaxInValues = 1000;

std::string_view SqlOp(std::string_view op) {
  if (op == "eq") return "=";
  if (op == "ne") return "<>";
  if (op == "gt") return ">";
  if (op == "gte") return ">=";
  if (op == "lt") return "<";
  if (op == "lte") return "<=";
  return "";
}

bool IsTimestampText(const std::string& s, int64_t* out) {
  auto t = ParseTimestampLenient(s);
  if (!t) return false;
  *out = *t;
  return true;
}

// Converts a JSON value for a column of `type`; "" on success, else the reason.
std::string ToParam(const Json& v, LogicalType type, store::SqlValue* out) {
  switch (type) {
    case LogicalType::kInteger:
      if (v.is_number_integer()) {
        *out = v.get<int64_t>();
        return "";
      }
      if (v.is_number_float()) {  // 3.5 against an integer column is still a fine bound
        *out = v.get<double>();
        return std::isfinite(v.get<double>()) ? "" : "must be a finite number";
      }
      return StrCat("must be a number (column is integer), got ", common::JsonTypeName(v));
    case LogicalType::kReal:
      if (v.is_number()) {
        *out = v.get<double>();
        return "";
      }
      return StrCat("must be a number (column is real), got ", common::JsonTypeName(v));
    case LogicalType::kBoolean:
      if (v.is_boolean()) {
        *out = int64_t{v.get<bool>() ? 1 : 0};
        return "";
      }
      if (v.is_number_integer() && (v.get<int64_t>() == 0 || v.get<int64_t>() == 1)) {
        *out = v.get<int64_t>();
        return "";
      }
      return "must be true, false, 0 or 1 (column is boolean)";
    case LogicalType::kTimestamp: {
      int64_t t;
      if (v.is_string() && IsTimestampText(v.get<std::string>(), &t)) {
        *out = t;
        return "";
      }
      if (v.is_number_integer()) {
        *out = v.get<int64_t>();
        return "";
      }
      return "must be an ISO 8601 date or date-time (column is a timestamp)";
    }
    case LogicalType::kCategorical:
    case LogicalType::kText:
      if (v.is_string()) {
        *out = v.get<std::string>();
        return "";
      }
      return StrCat("must be a string (column is ", LogicalTypeName(type), "), got ",
                    common::JsonTypeName(v));
  }
  return "unsupported column type";
}

void AddCondition(SqlWhere* where, const std::string& cond) {
  where->sql += where->sql.empty() ? " WHERE " : " AND ";
  where->sql += cond;
}

void TranslateOp(const ColumnInfo& col, std::string_view op, const Json& value,
                 const std::string& field, SqlWhere* where, common::ValidationErrors* errors) {
  const std::string ident = QuoteIdent(col.name);
  if (op == "in" || op == "nin") {
    if (!value.is_array()) {
      errors->Add(field, "must be an array of values");
      return;
    }
    if (value.empty()) {
      errors->Add(field, "must not be an empty list");
      return;
    }
    if (value.size() > kMaxInValues) {
      errors->Add(field, StrCat("must have at most ", kMaxInValues, " values"));
      return;
    }
    std::vector<store::SqlValue> params;
    for (size_t i = 0; i < value.size(); ++i) {
      store::SqlValue p;
      std::string why = ToParam(value[i], col.type, &p);
      if (!why.empty()) {
        errors->Add(StrCat(field, "[", i, "]"), why);
        return;
      }
      params.push_back(std::move(p));
    }
    std::string cond = StrCat(ident, op == "in" ? " IN (" : " NOT IN (");
    for (size_t i = 0; i < params.size(); ++i) cond += i == 0 ? "?" : ", ?";
    cond += ")";
    AddCondition(where, cond);
    for (auto& p : params) where->params.push_back(std::move(p));
    return;
  }
  const std::string_view sql_op = SqlOp(op);
  if (sql_op.empty()) {
    errors->Add(field, StrCat("unknown operator '", op,
                              "'; one of eq, ne, gt, gte, lt, lte, in, nin"));
    return;
  }
  if (value.is_null()) {
    if (op == "eq" || op == "ne") {
      AddCondition(where, StrCat(ident, op == "eq" ? " IS NULL" : " IS NOT NULL"));
    } else {
      errors->Add(field, "must not be null");
    }
    return;
  }
  const bool ordered = IsNumeric(col.type) || col.type == LogicalType::kTimestamp;
  if (op != "eq" && op != "ne" && !ordered) {
    errors->Add(field, StrCat("operator '", op, "' applies to numeric and timestamp columns; '",
                              col.name, "' is ", LogicalTypeName(col.type)));
    return;
  }
  store::SqlValue p;
  std::string why = ToParam(value, col.type, &p);
  if (!why.empty()) {
    errors->Add(field, why);
    return;
  }
  AddCondition(where, StrCat(ident, " ", sql_op, " ?"));
  where->params.push_back(std::move(p));
}

bool IsDateOnly(const std::string& s) { return s.size() == 10 && s[4] == '-' && s[7] == '-'; }

}  // namespace

SqlWhere BuildWhere(const SourceSchema& schema, const Json& filters, const Json& date_range,
                    common::ValidationErrors* errors) {
  SqlWhere where;
  if (!filters.is_null()) {
    if (!filters.is_object()) {
      errors->Add("trainingData.filters", "must be an object of column conditions");
    } else {
      for (const auto& [name, cond] : filters.items()) {
        const std::string field = StrCat("trainingData.filters.", name);
        const ColumnInfo* col = schema.Find(name);
        if (col == nullptr) {
          errors->Add(field, StrCat("unknown column '", name, "' in source '", schema.source,
                                    "'"));
          continue;
        }
        if (cond.is_object()) {
          if (cond.empty()) errors->Add(field, "must hold at least one operator");
          for (const auto& [op, value] : cond.items()) {
            TranslateOp(*col, op, value, StrCat(field, ".", op), &where, errors);
          }
        } else if (cond.is_array()) {
          TranslateOp(*col, "in", cond, field, &where, errors);
        } else {
          TranslateOp(*col, "eq", cond, field, &where, errors);
        }
      }
    }
  }
  if (!date_range.is_null()) {
    if (!date_range.is_object()) {
      errors->Add("trainingData.dateRange", "must be an object with startDate and/or endDate");
      return where;
    }
    if (schema.Find("created_at") == nullptr) {
      errors->Add("trainingData.dateRange", "the source has no created_at column");
      return where;
    }
    std::optional<int64_t> start, end;
    for (const auto& [key, value] : date_range.items()) {
      const std::string field = StrCat("trainingData.dateRange.", key);
      if (key != "startDate" && key != "endDate") {
        errors->Add(field, "unknown key; use startDate and endDate");
        continue;
      }
      if (value.is_null()) continue;
      std::optional<int64_t> t;
      if (value.is_string()) t = common::ParseIso8601(value.get<std::string>());
      if (!t) {
        errors->Add(field, "must be an ISO 8601 date or date-time");
        continue;
      }
      if (key == "startDate") {
        start = t;
      } else {
        // A date-only end includes that whole day.
        end = IsDateOnly(value.get<std::string>()) ? *t + 86400000 - 1 : *t;
      }
    }
    if (start && end && *start > *end) {
      errors->Add("trainingData.dateRange.endDate", "must not be before startDate");
    } else {
      if (start) {
        AddCondition(&where, "\"created_at\" >= ?");
        where.params.push_back(*start);
      }
      if (end) {
        AddCondition(&where, "\"created_at\" <= ?");
        where.params.push_back(*end);
      }
    }
  }
  return where;
}

std::string DefaultTarget(std::string_view model_type, const SourceSchema& schema) {
  if (model_type == "churn_prediction") return "churned";
  if (model_type == "user_behavior") return "converted";
  if (model_type == "predictive_analytics") return schema.source == "bookings" ? "is_canceled" : "";
  if (model_type == "nlp_sentiment") {
    if (schema.Find("sentiment") != nullptr) return "sentiment";
    if (schema.Find("rating") != nullptr) return "rating";
    return "";
  }
  return "";
}

absl::StatusOr<ResolvedTrainingData> ResolveTrainingData(DataCatalog& catalog,
                                                         std::string_view model_type,
                                                         const Json& training_data) {
  common::ValidationErrors errors;
  if (!training_data.is_object()) {
    errors.Add("trainingData", "must be an object");
    return errors.ToStatus();
  }
  const Json& source = training_data.contains("source") ? training_data["source"] : Json();
  if (!source.is_string() || !IsKnownSource(source.get<std::string>())) {
    errors.Add("trainingData.source",
               StrCat("must be one of ", common::StrJoin(SourceNames(), ", ")));
    return errors.ToStatus();
  }
  ResolvedTrainingData out;
  absl::StatusOr<SourceSchema> schema = catalog.GetSchema(source.get<std::string>());
  if (absl::IsNotFound(schema.status())) {
    errors.Add("trainingData.source",
               StrCat("source '", source.get<std::string>(),
                      "' has no data yet; import a CSV (tsml import) or seed the demo data"));
    return errors.ToStatus();
  }
  if (!schema.ok()) return schema.status();
  out.schema = *std::move(schema);
  const SourceSchema& s = out.schema;

  auto get = [&](const char* key) {
    return training_data.contains(key) ? training_data[key] : Json();
  };
  // target
  const Json target = get("target");
  if (!target.is_null()) {
    if (!target.is_string()) {
      errors.Add("trainingData.target", "must be a column name");
    } else if (s.Find(target.get<std::string>()) == nullptr) {
      errors.Add("trainingData.target", StrCat("unknown column '", target.get<std::string>(),
                                               "' in source '", s.source, "'"));
    } else {
      out.target = target.get<std::string>();
    }
  }
  // features
  const Json features = get("features");
  if (!features.is_null()) {
    if (!features.is_array()) {
      errors.Add("trainingData.features", "must be an array of column names");
    } else {
      for (size_t i = 0; i < features.size(); ++i) {
        const std::string field = StrCat("trainingData.features[", i, "]");
        if (!features[i].is_string()) {
          errors.Add(field, "must be a column name");
          continue;
        }
        const std::string name = features[i].get<std::string>();
        if (s.Find(name) == nullptr) {
          errors.Add(field, StrCat("unknown column '", name, "' in source '", s.source, "'"));
        } else if (IsPiiColumn(name)) {
          errors.Add(field, StrCat("'", name, "' is personal data and is never used as a feature"));
        } else if (name == out.target) {
          errors.Add(field, StrCat("'", name, "' is the target"));
        } else {
          out.features.push_back(name);
        }
      }
    }
  }
  out.where = BuildWhere(s, get("filters"), get("dateRange"), &errors);

  // What the model type needs from the source.
  const bool target_given = !target.is_null();
  if (target_given && out.target.empty()) return errors.ToStatus();  // already reported
  if (!target_given) out.target = DefaultTarget(model_type, s);
  const std::string target_field = target_given ? "trainingData.target" : "trainingData.source";
  if (model_type == "recommendation") {
    for (const char* col : {"user_id", "item_id"}) {
      if (s.Find(col) == nullptr) {
        errors.Add("trainingData.source",
                   StrCat("recommendation needs user_id and item_id columns; source '", s.source,
                          "' has no ", col));
      }
    }
    if (!target_given) out.target.clear();
  } else if (model_type == "nlp_sentiment") {
    for (const ColumnInfo& c : s.columns) {
      if (c.type == LogicalType::kText && (out.text_column.empty() || c.name == "text")) {
        out.text_column = c.name;
      }
    }
    if (out.text_column.empty()) {
      errors.Add("trainingData.source", StrCat("nlp_sentiment needs a free-text column; source '",
                                               s.source, "' has none"));
    }
    if (out.target.empty() && !target_given) {
      errors.Add("trainingData.target",
                 StrCat("nlp_sentiment needs a 'sentiment' or 'rating' column; source '",
                        s.source, "' has neither: name the label column in trainingData.target"));
    }
  } else if (model_type == "demand_forecast") {
    if (!out.target.empty()) {
      const ColumnInfo* col = s.Find(out.target);
      if (col != nullptr && !IsNumeric(col->type)) {
        errors.Add("trainingData.target",
                   StrCat("demand_forecast sums the target per period: '", out.target,
                          "' must be numeric, it is ", LogicalTypeName(col->type)));
      }
    }
  } else if (model_type == "churn_prediction" || model_type == "user_behavior" ||
             model_type == "predictive_analytics") {
    if (out.target.empty()) {
      errors.Add("trainingData.target",
                 StrCat(model_type, " on source '", s.source,
                        "' has no default target: name the column to predict"));
    } else if (!target_given && s.Find(out.target) == nullptr) {
      errors.Add(target_field, StrCat(model_type, " predicts '", out.target, "' but source '",
                                      s.source, "' has no such column: name the column to ",
                                      "predict in trainingData.target"));
    }
  }
  if (!errors.empty()) return errors.ToStatus();
  return out;
}

absl::Status ValidateTrainingRequest(DataCatalog& catalog, std::string_view model_type,
                                     const Json& training_data) {
  return ResolveTrainingData(catalog, model_type, training_data).status();
}

}  // namespace tsml::data
