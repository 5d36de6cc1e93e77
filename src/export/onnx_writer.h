// Writes a tabular model as an ONNX graph (ai.onnx opset 15 + ai.onnx.ml opset 3, IR 8) with
// the libonnx protobuf classes and checks it with onnx::checker.
//
// Inputs: one per raw column, shape [N, 1]: float32 for numeric columns (NaN = missing),
// string for categorical ones ("" = missing; values as stored, already trimmed), and float64
// epoch milliseconds for timestamps (NaN = missing; float32 cannot hold them to the hour).
// The transformation is embedded: IsNaN for missing indicators, LabelEncoder + OneHotEncoder
// for categories (levels, __other__, __missing__; values of hashed columns seen in training
// map to their bucket), int64 calendar arithmetic for timestamps, Concat into the encoded
// features; then Imputer + Scaler + LinearClassifier/LinearRegressor (+ Normalizer L1 for
// one-vs-rest multiclass), or TreeEnsembleClassifier/Regressor for XGBoost trees (missing
// values follow XGBoost's default direction; base margin in base_values; LOGISTIC/SOFTMAX).
// Outputs: classification → "label" (string [N]) and "probabilities" (float [N, classes], in
// the order of the model's classes); regression → "value" (float [N, 1]).
#ifndef TSML_EXPORT_ONNX_WRITER_H_
#define TSML_EXPORT_ONNX_WRITER_H_

#include <string>

#include "absl/status/status.h"
#include "common/json_util.h"
#include "export/tabular_ir.h"

namespace tsml::exporting {

// Writes `path`. `metadata` goes into the model's metadata_props (string values). `layout`
// receives {"inputs": [{name, type, shape}], "outputs": [...], "opsets": {...}}.
// Internal when the checker rejects the graph (a bug, reported with the checker's message).
absl::Status WriteTabularOnnx(const TabularIr& ir, const Json& metadata, const std::string& path,
                              Json* layout);

}  // namespace tsml::exporting

#endif  // TSML_EXPORT_ONNX_WRITER_H_
