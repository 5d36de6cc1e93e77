// Internal to src/export: what the model families' parts of an export share. Each Prepare*
// function turns a model artifact into sample.json, metadata.json, a README and the model
// files in `model_dir`; RunExport (export.cc) zips and verifies them.
#ifndef TSML_EXPORT_PREPARE_H_
#define TSML_EXPORT_PREPARE_H_

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/cancellation.h"
#include "common/json_util.h"
#include "export/export.h"
#include "export/subprocess.h"

#ifndef TSML_EXPORT_TOOLS_DIR
#define TSML_EXPORT_TOOLS_DIR "tools/export"
#endif

namespace tsml::exporting {

using Clock = std::chrono::steady_clock;
double Since(Clock::time_point t);

inline constexpr char kOnnxLibrary[] = "1.12 (libonnx, ai.onnx opset 15, ai.onnx.ml opset 3, IR 8)";

// What a model family hands to the common part of RunExport.
struct Prepared {
  Json sample;    // sample.json
  Json metadata;  // metadata.json
  std::string readme;
  double sample_seconds = 0, write_seconds = 0;
};

// The model's file(s) inside the zip.
std::string ModelEntry(const std::string& format);

// The converters' folder: ExportInput::tools_dir, else the source tree's tools/export.
std::string ToolsDir(const ExportInput& in);

// Runs tools/export/<script> with the converters' interpreter (argv, no shell, a timeout,
// stopped by `cancel`). Internal when it exits non-zero, with its stderr.
absl::StatusOr<ProcessResult> RunPython(const ExportInput& in, const std::string& script,
                                        const std::vector<std::string>& args,
                                        const common::CancellationToken* cancel);

// The last line of a converter's stdout is its JSON answer.
absl::StatusOr<Json> LastJsonLine(const std::string& script, const std::string& out);

// Runs the format's Python converter (to_sklearn.py, to_torch.py, to_tf.py) on `spec`, which
// writes the model into `model_dir`; takes its layout and library versions from its answer.
absl::Status RunConverter(const ExportInput& in, const Json& spec, const std::string& model_dir,
                          const common::CancellationToken* cancel, Json* layout, Json* libraries);

// The job's parameters and metrics for metadata.json.
void AddJobMetadata(const ExportInput& in, Json* metadata);

// Writes the model files into `model_dir`: `write_native(&layout)` for the formats
// written in C++ (onnx, pmml), otherwise the format's Python converter on `converter_spec()`.
// Records metadata's `layout` and `libraryVersions` (the bundle's, plus the export's) and the
// time taken in out->write_seconds. Cancelled first when `cancel` fired.
absl::Status WriteModelFiles(const ExportInput& in, const Json& bundle,
                             const std::string& model_dir,
                             const std::function<absl::Status(Json*)>& write_native,
                             const std::function<absl::StatusOr<Json>()>& converter_spec,
                             const common::CancellationToken* cancel, Json* metadata,
                             Prepared* out);

// What every metadata.json starts with: modelType, task, format, tsmlVersion, exportedAt and
// the bundle's trainedAt.
Json BaseMetadata(const ExportInput& in, const std::string& task, const Json& bundle);

// The model families (tabular_export.cc, recommend_export.cc, text_export.cc,
// forecast_export.cc). InvalidArgument for a model that has no portable form in `in.format`.

// The tabular model: sample rows, metadata and the model files in `model_dir`.
absl::Status PrepareTabular(const ExportInput& in, const Json& bundle, const std::string& model_dir,
                            const common::CancellationToken* cancel, Prepared* out);

// A recommendation model (ALS): user ids in, the top-k unseen items and their scores out.
absl::Status PrepareRecommendation(const ExportInput& in, const Json& bundle,
                                   const std::string& model_dir,
                                   const common::CancellationToken* cancel, Prepared* out);

// A sentiment model (TF-IDF + logistic regression): tsml's tokens in, class probabilities out.
absl::Status PrepareText(const ExportInput& in, const Json& bundle, const std::string& model_dir,
                         const common::CancellationToken* cancel, Prepared* out);

// A demand forecaster: XGBoost's one-step model over the encoded lag, rolling and calendar
// features (checked on the service's own recursive forecasts), or Holt-Winters' per-series
// state and forecast equation.
absl::Status PrepareForecast(const ExportInput& in, const Json& bundle,
                             const std::string& model_dir, const common::CancellationToken* cancel,
                             Prepared* out);

}  // namespace tsml::exporting

#endif  // TSML_EXPORT_PREPARE_H_
