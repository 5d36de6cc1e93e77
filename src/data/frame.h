// Feature frames: a source's filtered rows as a dense float matrix for the trainers, and the
// FeatureTransform that turns a raw JSON row into the same features at prediction time.
//
// LoadFeatureFrame reads the rows streaming (pages ordered by the hidden `_row` key) under a
// memory cap, drops personal-data (CONTRACT §7) and identifier columns, removes duplicate rows,
// fits the transformation, runs a leakage check against the target, and builds the matrix:
//   numeric/boolean → the value (NaN when missing, which XGBoost handles) plus a `col__missing`
//                     indicator when the column has missing values;
//   categorical     → one-hot over its frequent levels (at least `min_level_count` rows and
//                     `min_level_share` of them, at most `max_levels`); other levels go to
//                     `col=__other__`, or, for high-cardinality columns, to `hash_buckets`
//                     hashed columns `col__hash_k`; missing → `col=__missing__`;
//   timestamp       → calendar features `col__dow` (0 = Sunday), `col__month` (1-12),
//                     `col__hour`, `col__doy` (1-366), UTC;
//   free text       → not in the matrix; the chosen text column is returned in `texts`.
// Leakage: a column that alone predicts a binary target with ROC AUC > 0.98 (either direction;
// categorical columns scored by their level's target rate), or correlates with a numeric
// target with |r| > 0.99, is excluded and reported in `excluded`.
#ifndef TSML_DATA_FRAME_H_
#define TSML_DATA_FRAME_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/json_util.h"
#include "data/catalog.h"
#include "data/filters.h"
#include "store/sql.h"

namespace tsml::data {

enum class FeatureKind { kNumeric, kCategorical, kTimestamp };

// How one raw column becomes features.
struct ColumnTransform {
  std::string column;
  FeatureKind kind = FeatureKind::kNumeric;
  bool missing_indicator = false;   // numeric
  std::vector<std::string> levels;  // categorical: one-hot levels, most frequent first
  bool other = false;               // categorical: a col=__other__ feature
  int hash_buckets = 0;             // categorical: values outside `levels` hashed instead
  bool missing_level = false;       // categorical: a col=__missing__ feature
};

// The bucket (0 .. buckets-1) a category value of a hash-bucketed column falls into (FNV-1a).
int HashBucket(std::string_view value, int buckets);

// The fitted transformation, saved with a model. Immutable after construction; thread-safe.
class FeatureTransform {
 public:
  FeatureTransform() = default;
  explicit FeatureTransform(std::vector<ColumnTransform> columns);

  const std::vector<ColumnTransform>& columns() const { return columns_; }
  const std::vector<std::string>& feature_names() const { return names_; }
  size_t num_features() const { return names_.size(); }

  // Writes num_features() floats for a raw row {"column": value, ...}: numbers, booleans,
  // strings (numeric strings are read as numbers), timestamps as ISO 8601 strings or epoch
  // millis; absent keys and nulls are missing. Never fails: unreadable values are missing.
  void Transform(const Json& row, float* out) const;

  // {"version": 1, "columns": [...], "featureNames": [...]}.
  Json ToJson() const;
  // InvalidArgument when `json` is not a transform written by ToJson().
  static absl::StatusOr<FeatureTransform> FromJson(const Json& json);

  // Encoders shared by Transform() and LoadFeatureFrame (so training and serving agree).
  static void EncodeNumeric(const ColumnTransform& c, double v, float* out);
  static void EncodeTimestamp(double millis, float* out);  // NaN → all NaN
  // `value` nullptr → missing.
  static void EncodeCategorical(const ColumnTransform& c, const std::string* value, float* out);
  static size_t Width(const ColumnTransform& c);

 private:
  std::vector<ColumnTransform> columns_;
  std::vector<std::string> names_;
};

struct FrameOptions {
  std::string target;                 // "" for none (y stays empty)
  std::vector<std::string> features;  // empty: every usable column
  std::string text_column;            // returned in FeatureFrame::texts ("" for none)
  SqlWhere where;                     // from BuildWhere / ResolveTrainingData
  int64_t memory_limit_bytes = 0;     // 0: no cap; else ResourceExhausted beyond it
  int64_t max_rows = 0;               // 0: all
  bool deduplicate = true;
  bool leakage_check = true;
  int max_levels = 30;
  int64_t min_level_count = 5;
  double min_level_share = 0.002;
  int hash_buckets = 8;  // for categorical columns with more frequent levels than max_levels
};

struct ExcludedColumn {
  std::string column;
  std::string reason;  // "personal data", "identifier", "free text", "constant", "leakage: ..."
};

struct FeatureFrame {
  FeatureTransform transform;
  int64_t rows = 0;
  std::vector<float> x;                     // rows × transform.num_features(), row-major
  std::vector<float> y;                     // rows (empty without a target)
  std::vector<std::string> target_classes;  // non-numeric target: y is the index into this
  std::vector<std::string> texts;           // text_column per row
  std::vector<int64_t> created_at;          // per row, epoch millis (0 when missing)
  std::vector<ExcludedColumn> excluded;
  int64_t duplicates_removed = 0;
  int64_t missing_target_dropped = 0;
  Json Summary() const;  // counts and exclusions, for job reports
};

// Errors: ResourceExhausted (the rows would not fit memory_limit_bytes), FailedPrecondition (no
// rows after filters, or no usable feature), InvalidArgument (unknown target/feature column),
// Unavailable/Internal from the database.
absl::StatusOr<FeatureFrame> LoadFeatureFrame(store::Database& db, const SourceSchema& schema,
                                              const FrameOptions& options);

// Single-feature ROC AUC of `score` for binary labels (ties averaged); 0.5 when one class.
double RocAuc(const std::vector<double>& score, const std::vector<float>& label);

}  // namespace tsml::data

#endif  // TSML_DATA_FRAME_H_
