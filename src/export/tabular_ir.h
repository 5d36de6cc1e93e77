// A format-neutral view of a trained tabular model that every exporter writes from: the
// fitted feature transformation, the task and labels, and the estimator as plain arrays
// (XGBoost trees parsed from the booster's JSON, or the linear model's weights).
//
// Tree semantics (XGBoost's): at an internal node, a missing feature (NaN) goes to the
// default child; otherwise `x < threshold` (float32 compare) goes left, else right. The
// margin of output k is base_margin[k] + the sum of the leaves of the trees with
// target == k; binary → sigmoid(margin), multiclass → softmax over outputs, regression →
// the margin itself.
#ifndef TSML_EXPORT_TABULAR_IR_H_
#define TSML_EXPORT_TABULAR_IR_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/json_util.h"
#include "train/tabular/tabular_model.h"

namespace tsml::exporting {

struct TreeNode {
  bool leaf = false;
  int left = -1, right = -1;  // child node indices (internal nodes)
  int feature = -1;
  float threshold = 0;
  bool default_left = true;
  float value = 0;  // leaf value
};

struct Tree {
  std::vector<TreeNode> nodes;  // node 0 is the root
  int target = 0;               // the output (class) this tree adds to
  int Depth() const;
};

struct TreeEnsemble {
  std::vector<Tree> trees;
  int num_outputs = 1;
  std::vector<float> base_margin;  // per output, in margin space
  std::string objective;           // e.g. "binary:logistic"
};

// Values seen in the training data for categorical columns that hash their rare levels,
// with the bucket each maps to (formats without FNV-1a hashing map these exactly; unseen
// values fall into no bucket).
using HashedValues = std::map<std::string, std::map<std::string, int>>;  // column → value → bucket

struct TabularIr {
  train::tabular::Task task;
  std::string task_name;
  std::vector<std::string> classes;  // binary: [negative, positive]
  double threshold = 0.5;
  const data::FeatureTransform* transform = nullptr;  // owned by the TabularModel
  std::optional<TreeEnsemble> trees;
  const train::tabular::LinearModel* linear = nullptr;  // owned by the TabularModel
  HashedValues hashed;
  size_t num_features() const { return transform->num_features(); }
  size_t num_outputs() const {
    return task == train::tabular::Task::kMulticlass ? classes.size() : 1;
  }
};

// InvalidArgument for a booster JSON it cannot read (unsupported booster or objective).
absl::StatusOr<TreeEnsemble> ParseXgboostJson(const Json& model);

// `model` must outlive the result.
absl::StatusOr<TabularIr> BuildTabularIr(const train::tabular::TabularModel& model);

// The bucket EncodeCategorical uses for `value` in a column with `buckets` hash buckets.
using data::HashBucket;

// {"objective", "baseMargin", "maxDepth", "trees": [{target, left, right, feature, threshold,
// defaultLeft, value, leaf}]}: the trees as the Python converters read them.
Json TreesToJson(const TreeEnsemble& e);

// The converters' input (tools/export/*.py): {"task", "classes", "threshold", "transform",
// "featureNames", "hashed", "estimator": "xgboost"|"linear", "trees": {...arrays...} |
// "linear": {...}}.
Json IrToJson(const TabularIr& ir);

}  // namespace tsml::exporting

#endif  // TSML_EXPORT_TABULAR_IR_H_
