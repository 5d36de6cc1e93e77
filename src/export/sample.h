// Sample rows for an export's sample.json and its parity check: raw input rows drawn from the
// job's training data (the source and filters of its `trainingData`, newest rows first), plus
// two synthetic rows that exercise the edges of the transformation (every value missing;
// categories never seen in training).
#ifndef TSML_EXPORT_SAMPLE_H_
#define TSML_EXPORT_SAMPLE_H_

#include <string>

#include "absl/status/statusor.h"
#include "common/json_util.h"
#include "data/frame.h"
#include "export/tabular_ir.h"
#include "store/sql.h"

namespace tsml::exporting {

// Raw rows ({"column": value}; numbers, 0/1 booleans, strings, epoch-millis timestamps, null
// for missing) over the transform's input columns, at most `count`. `db` may be null: then
// every row is synthetic. Fills `hashed` with the values seen for hash-bucketed columns and
// `target` (when given) with the resolved target column.
// Errors: the job's trainingData no longer resolves (InvalidArgument/NotFound), database errors.
absl::StatusOr<Json> DrawTabularSample(store::Database* db, const std::string& model_type,
                                       const Json& training_data,
                                       const data::FeatureTransform& transform, int count,
                                       HashedValues* hashed, std::string* target = nullptr);

// Texts for a sentiment model's sample: up to count - 2 values of `text_column` from the job's
// training data (newest first; synthetic review sentences when `db` is null or the data gives
// fewer), then an empty text and one with negation, punctuation, accents and an emoji.
absl::StatusOr<std::vector<std::string>> DrawTextSample(store::Database* db,
                                                        const std::string& model_type,
                                                        const Json& training_data,
                                                        const std::string& text_column, int count);

}  // namespace tsml::exporting

#endif  // TSML_EXPORT_SAMPLE_H_
