// Writes a tabular model as PMML 4.4 (pugixml).
//
// DataDictionary: one field per raw column (numeric → double, categorical → string,
// timestamp → double epoch milliseconds) and the target. TransformationDictionary: one
// DerivedField per encoded feature, named tsml_f<index> with the feature's name as displayName
// (FieldRef for numbers; isMissing for indicators; NormDiscrete for one-hot levels; isIn for
// __other__; MapValues over the training values for hash buckets; floor arithmetic for the
// calendar features). Boosted trees: the JPMML XGBoost layout — a modelChain MiningModel whose
// first segment sums TreeModels (one per output, missingValueStrategy defaultChild) and whose
// last segment is a RegressionModel applying the base margin and the logit/softmax link.
// Float32 split thresholds are written as the double boundary that reproduces XGBoost's
// float comparison exactly. Linear models: standardized DerivedFields (missing → mean) and a
// RegressionModel (logit; one-vs-rest multiclass as a chain of logit regressions normalized
// by simplemax). Outputs: probability(<class>) per class, or predicted_<target>.
#ifndef TSML_EXPORT_PMML_WRITER_H_
#define TSML_EXPORT_PMML_WRITER_H_

#include <string>

#include "absl/status/status.h"
#include "common/json_util.h"
#include "export/tabular_ir.h"

namespace tsml::exporting {

// `target` names the predicted field; `metadata` fills the Header. `layout` receives
// {"inputs": [...], "outputs": [...]}.
absl::Status WriteTabularPmml(const TabularIr& ir, const std::string& target, const Json& metadata,
                              const std::string& path, Json* layout);

}  // namespace tsml::exporting

#endif  // TSML_EXPORT_PMML_WRITER_H_
