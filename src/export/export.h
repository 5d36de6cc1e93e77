// Model export (spec endpoint 10): a trained model written in a portable format, zipped with
// sample.json and metadata.json, and verified by loading it back in the format's home runtime
// before it may be called completed. The export worker (the caller) owns the Export record,
// the work folder and signed download URLs; this module only turns a checksum-verified model
// artifact into a verified zip.
//
// Formats (docs/export.md has the support table and every layout):
//   onnx       — written natively (libonnx protobuf classes, onnx::checker); onnxruntime
//   pmml       — PMML 4.4 written natively (pugixml), XSD-validated; pypmml
//   sklearn    — joblib of a scikit-learn Pipeline (tools/export/to_sklearn.py); scikit-learn
//   pytorch    — TorchScript module over the encoded features (to_torch.py); torch
//   tensorflow — SavedModel, serving_default over the encoded features (to_tf.py); tensorflow
// The Python converters and tools/export/verify.py run in the converters' venv (`python`) as
// child processes (argv, no shell) with a timeout, stopped when `cancel` fires.
#ifndef TSML_EXPORT_EXPORT_H_
#define TSML_EXPORT_EXPORT_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/cancellation.h"
#include "common/json_util.h"
#include "store/sql.h"

namespace tsml::exporting {

// Parity: every score within kParityTolerance * max(1, |expected|) of the service's (absolute
// for probabilities; relative for regression values above 1, where float32 itself is coarser).
inline constexpr double kParityTolerance = 1e-4;
inline constexpr int kSampleRows = 20;

struct ExportInput {
  std::string model_type, format;  // format: onnx, pmml, sklearn, pytorch, tensorflow
  bool include_metadata = true;
  std::string bundle_path;             // the model artifact (checksum already verified)
  Json job;                            // the training job as the API shows it (for metadata.json)
  store::Database* data_db = nullptr;  // to draw sample rows from the job's training data
  std::string work_dir;                // scratch folder this module may fill (caller removes it)
  std::string output_zip;              // the zip is written here (temp name, fsync, rename)
  std::string python;                  // interpreter of the converters venv ("" → not available)
  std::string tools_dir;               // "" → the source tree's tools/export (compiled in)
  std::chrono::seconds converter_timeout{300};  // per converter / verifier run
  // Tests only (fault injection): runs on the folder of model files after the converter wrote
  // them and before they are zipped and verified.
  std::function<absl::Status(const std::string& model_dir)> tamper;
};

struct ExportResult {
  int64_t file_size = 0;
  std::string checksum;  // SHA-256 (hex) of the zip
  // {format, runtime, runtimeVersion, rows, maxAbsDiff, maxScaledDiff, tolerance, rule,
  //  passed, checks}
  Json parity;
  Json metadata;  // what metadata.json holds (also when it was not included)
  Json timings;   // seconds: {sample, write, zip, verify, total}
};

// The formats `model_type` can be exported to (empty for an unknown type).
std::vector<std::string> SupportedFormats(const std::string& model_type);
const std::vector<std::string>& AllFormats();

// The formats a trained model of `model_type` can be exported to, given the algorithm it was
// trained with (the artifact's metadata "algorithm"; "" = not known: the type's formats).
std::vector<std::string> SupportedFormats(const std::string& model_type,
                                          const std::string& algorithm);

// InvalidArgument naming the formats that work for `model_type` (trained with `algorithm`,
// when known), or why none do and what to train instead.
absl::Status CheckFormatSupported(const std::string& model_type, const std::string& format,
                                  const std::string& algorithm = "");

// Writes and verifies the export. Errors: InvalidArgument (unsupported pair, unreadable
// model), FailedPrecondition (no converter environment; the training data cannot be read
// back), Internal (a converter failed; the parity check failed, with the numbers in the
// message), DeadlineExceeded, Cancelled. On any error `output_zip` does not exist afterwards.
absl::StatusOr<ExportResult> RunExport(const ExportInput& in,
                                       const common::CancellationToken* cancel);

// "0.1.0"
std::string TsmlVersion();

}  // namespace tsml::exporting

#endif  // TSML_EXPORT_EXPORT_H_
