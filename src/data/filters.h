// `trainingData` checked against the data (CONTRACT §7): filters and dateRange become a WHERE
// clause with bound parameters (values never enter the SQL text), and the request's target,
// features and model type are checked against the source's schema.
#ifndef TSML_DATA_FILTERS_H_
#define TSML_DATA_FILTERS_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/errors.h"
#include "common/json_util.h"
#include "data/catalog.h"
#include "store/sql.h"

namespace tsml::data {

struct SqlWhere {
  std::string sql;  // "" or " WHERE <cond> AND ..." with `?` placeholders; columns quoted
  std::vector<store::SqlValue> params;
};

// Translates `filters` ({"col": value | {"op": value, ...}}, ops eq ne gt gte lt lte in nin)
// and `date_range` ({"startDate", "endDate"}, ISO 8601; a date-only endDate includes that
// whole day) on `created_at`. Either may be null. Problems are added to `errors` under
// "trainingData.filters.<col>[.<op>]" / "trainingData.dateRange.<key>": unknown column or
// operator, a value of the wrong type for the column (timestamp columns take ISO 8601 strings
// or epoch millis; boolean ones true/false/0/1), an empty `in`/`nin` list. A null value with
// eq/ne means IS NULL / IS NOT NULL. Comparisons (gt..lte) apply to numeric and timestamp columns.
SqlWhere BuildWhere(const SourceSchema& schema, const Json& filters, const Json& date_range,
                    common::ValidationErrors* errors);

// What a training job reads, resolved from its request.
struct ResolvedTrainingData {
  SourceSchema schema;
  std::string target;                 // "" when the model type has none (recommendation)
  std::vector<std::string> features;  // as requested (empty: every usable column)
  std::string text_column;            // nlp_sentiment: the free-text column
  SqlWhere where;
};

// The target a model type uses on `schema` when the request names none (CONTRACT §7), or "".
std::string DefaultTarget(std::string_view model_type, const SourceSchema& schema);

// Checks `training_data` ({"source", "filters", "dateRange", "target", "features"}) for
// `model_type` against the catalog. InvalidArgument with field errors (common::ValidationErrors)
// when the source is unknown or empty, a column does not exist, a filter is invalid, or the
// source cannot serve the model type; Unavailable/Internal when the database fails.
absl::StatusOr<ResolvedTrainingData> ResolveTrainingData(DataCatalog& catalog,
                                                         std::string_view model_type,
                                                         const Json& training_data);
absl::Status ValidateTrainingRequest(DataCatalog& catalog, std::string_view model_type,
                                     const Json& training_data);

}  // namespace tsml::data

#endif  // TSML_DATA_FILTERS_H_
