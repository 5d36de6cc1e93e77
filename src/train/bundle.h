// Model artifacts and evaluation files.
//
// A model artifact is one JSON file, written to a temporary name, synced and renamed:
//   {"formatVersion": 1, "modelType", "task", "framework", "libraryVersions": {...},
//    "trainedAt", "dataFingerprint", "transform": {...feature transformation...},
//    "model": {...model-specific: an XGBoost JSON model, factors, weights, or a base64 blob}}
// The worker records its size and SHA-256 in the Model Artifact; loaders verify both the
// checksum (the caller) and the format version (ReadBundle).
//
// The evaluation document (TrainResult.evaluation, served by GET .../evaluation/:jobId) holds:
//   task, metrics, baseline {name, metrics}, folds (k_fold: [{fold, metrics}], summary
//   {mean, std}), confusionMatrix {labels, counts} (classification), rocCurve / prCurve
//   (binary, ≤ 200 points), featureImportance [{feature, gain, meanAbsShap?}], errorAnalysis,
//   warnings [string], visualizations [{name, title, file}] (SVG files in the job's
//   artifact folder; the API serves them under the job), dataSummary {rows, trainRows,
//   testRows, ...}, algorithm {name, params}, and, when tuning ran, tuning {trials, best}.
#ifndef TSML_TRAIN_BUNDLE_H_
#define TSML_TRAIN_BUNDLE_H_

#include <bit>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/json_util.h"
#include "common/strings.h"

namespace tsml::train {

inline constexpr int kBundleFormatVersion = 1;

// Writes `bundle` (atomically) after adding "formatVersion" to it.
absl::Status WriteBundle(const std::string& path, Json& bundle);
// InvalidArgument when the file is not a bundle of a known format version.
absl::StatusOr<Json> ReadBundle(const std::string& path);

// Writes `svg` to `<dir>/charts/<name>.svg` and returns {"name","title","file"}.
absl::StatusOr<Json> WriteChart(const std::string& dir, const std::string& name,
                                const std::string& title, const std::string& svg);

std::string Base64Encode(std::string_view data);
absl::StatusOr<std::string> Base64Decode(std::string_view text);

// Arrays of T in the bundle's binary encoding: their little-endian bytes, base64.
template <typename T>
std::string EncodeArray(const T* data, size_t n) {
  static_assert(std::endian::native == std::endian::little, "bundles hold little-endian arrays");
  return Base64Encode(std::string_view(reinterpret_cast<const char*>(data), n * sizeof(T)));
}
// The n values in `base64`; the decoder's error, or InvalidArgument naming the sizes when it
// does not hold exactly n values.
template <typename T>
absl::StatusOr<std::vector<T>> DecodeArray(const std::string& base64, size_t n) {
  absl::StatusOr<std::string> bytes = Base64Decode(base64);
  if (!bytes.ok()) return bytes.status();
  if (bytes->size() != n * sizeof(T)) {
    return absl::InvalidArgumentError(common::StrCat("expected ", n, " values of ", sizeof(T),
                                                     " bytes, got ", bytes->size(), " bytes"));
  }
  std::vector<T> out(n);
  if (n > 0) std::memcpy(out.data(), bytes->data(), bytes->size());
  return out;
}

// SHA-256 (hex) over the bytes of a training matrix and labels: the data fingerprint.
std::string Fingerprint(const void* data, size_t bytes, const void* labels, size_t label_bytes);

}  // namespace tsml::train

#endif  // TSML_TRAIN_BUNDLE_H_
