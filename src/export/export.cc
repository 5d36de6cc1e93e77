#include "export/export.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>

#include "common/file_util.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "export/prepare.h"
#include "export/zip_writer.h"
#include "train/bundle.h"

namespace tsml::exporting {
namespace {

using common::StrCat;

bool IsTabular(const std::string& model_type) {
  return model_type == "churn_prediction" || model_type == "user_behavior" ||
         model_type == "predictive_analytics";
}

void Flatten(const Json& j, std::vector<double>* out) {
  if (j.is_array()) {
    for (const Json& x : j) Flatten(x, out);
  } else if (j.is_number()) {
    out->push_back(j.get<double>());
  } else {
    out->push_back(std::numeric_limits<double>::quiet_NaN());
  }
}

}  // namespace

const std::vector<std::string>& AllFormats() {
  static const std::vector<std::string> kAll = {"onnx", "pmml", "sklearn", "pytorch", "tensorflow"};
  return kAll;
}

std::vector<std::string> SupportedFormats(const std::string& model_type) {
  if (IsTabular(model_type)) return AllFormats();
  if (model_type == "recommendation") return {"onnx", "pytorch"};
  if (model_type == "nlp_sentiment") return {"onnx", "sklearn", "pytorch"};
  if (model_type == "demand_forecast") return {"onnx", "sklearn", "pytorch", "tensorflow"};
  return {};
}

namespace {

// Trained algorithms that narrow their model type's formats, and why.
struct AlgorithmLimit {
  const char* model_type;
  const char* algorithm;
  std::vector<std::string> formats;
  const char* why;
};

const std::vector<AlgorithmLimit>& AlgorithmLimits() {
  static const std::vector<AlgorithmLimit> kLimits = {
      {"recommendation",
       "item_knn",
       {},
       "item_knn recommendation models cannot be exported: their scores are sums of neighbour "
       "similarities over the user's history, which the model would have to take as input; "
       "train with hyperparameters.algorithm = \"als\""},
      {"nlp_sentiment",
       "fasttext",
       {"onnx", "pytorch"},
       "a fastText model exports to onnx and pytorch (its word n-gram hashing has no "
       "scikit-learn counterpart); train with hyperparameters.algorithm = \"tfidf_logreg\" for "
       "sklearn"},
      {"nlp_sentiment",
       "tfidf_logreg",
       {"onnx", "sklearn"},
       "a TF-IDF + logistic regression model exports to onnx and sklearn; train with "
       "hyperparameters.algorithm = \"fasttext\" for pytorch"},
      {"demand_forecast",
       "holt_winters",
       {"onnx", "pytorch"},
       "a Holt-Winters forecaster's per-series state exports to onnx and pytorch; train with "
       "hyperparameters.algorithm = \"xgboost\" for sklearn and tensorflow"},
  };
  return kLimits;
}

}  // namespace

std::vector<std::string> SupportedFormats(const std::string& model_type,
                                          const std::string& algorithm) {
  for (const AlgorithmLimit& l : AlgorithmLimits()) {
    if (model_type == l.model_type && algorithm == l.algorithm) return l.formats;
  }
  return SupportedFormats(model_type);
}

absl::Status CheckFormatSupported(const std::string& model_type, const std::string& format,
                                  const std::string& algorithm) {
  const std::vector<std::string> ok = SupportedFormats(model_type, algorithm);
  if (std::find(ok.begin(), ok.end(), format) != ok.end()) return absl::OkStatus();
  for (const AlgorithmLimit& l : AlgorithmLimits()) {
    if (model_type == l.model_type && algorithm == l.algorithm) {
      return absl::InvalidArgumentError(
          ok.empty() ? std::string(l.why)
                     : StrCat("format '", format, "' is not supported for this model (", l.why,
                              "); supported: ", common::StrJoin(ok, ", ")));
    }
  }
  if (ok.empty()) {
    return absl::InvalidArgumentError(
        StrCat("models of type '", model_type, "' cannot be exported"));
  }
  return absl::InvalidArgumentError(StrCat("format '", format, "' is not supported for ",
                                           model_type,
                                           " models; supported: ", common::StrJoin(ok, ", ")));
}

absl::StatusOr<ExportResult> RunExport(const ExportInput& in,
                                       const common::CancellationToken* cancel) {
  const auto t_start = Clock::now();
  RETURN_IF_ERROR(CheckFormatSupported(in.model_type, in.format));
  if (in.python.empty() || access(in.python.c_str(), X_OK) != 0) {
    return absl::FailedPreconditionError(
        "exports are verified in the converters' Python environment, which is not available "
        "(create it with scripts/setup_python.sh, which `make build` runs)");
  }
  if (in.work_dir.empty() || in.output_zip.empty()) {
    return absl::InvalidArgumentError("work_dir and output_zip are required");
  }
  std::error_code ec;
  std::filesystem::remove(in.output_zip, ec);
  auto fail = [&](absl::Status s) {
    std::error_code ignored;
    std::filesystem::remove(in.output_zip, ignored);
    return s;
  };
  const std::string stage = in.work_dir + "/stage";
  const std::string model_dir = stage + "/model";
  std::filesystem::create_directories(model_dir, ec);
  if (ec) return absl::InternalError(StrCat("cannot create ", model_dir, ": ", ec.message()));
  auto cancelled = [&] { return cancel != nullptr && cancel->cancelled(); };

  // The model, natively.
  ASSIGN_OR_RETURN(Json bundle, train::ReadBundle(in.bundle_path));
  Prepared prepared;
  if (in.model_type == "recommendation") {
    RETURN_IF_ERROR(PrepareRecommendation(in, bundle, model_dir, cancel, &prepared));
  } else if (in.model_type == "nlp_sentiment") {
    RETURN_IF_ERROR(PrepareText(in, bundle, model_dir, cancel, &prepared));
  } else if (in.model_type == "demand_forecast") {
    RETURN_IF_ERROR(PrepareForecast(in, bundle, model_dir, cancel, &prepared));
  } else {
    RETURN_IF_ERROR(PrepareTabular(in, bundle, model_dir, cancel, &prepared));
  }
  if (in.tamper) RETURN_IF_ERROR(in.tamper(model_dir));
  const Json& sample = prepared.sample;
  const Json& expected = sample["expectedScores"];
  // Recommendations: the service's item ids per row (else null).
  const Json expected_items = sample.value("expectedItems", Json());
  const Json& metadata = prepared.metadata;
  const size_t sample_rows = sample["rows"].size();

  // The zip: model files, sample.json, metadata.json, README.md.
  const auto t_zip = Clock::now();
  if (cancelled()) return absl::CancelledError("export cancelled");
  RETURN_IF_ERROR(common::WriteFileAtomic(stage + "/sample.json", sample.dump(2)));
  RETURN_IF_ERROR(common::WriteFileAtomic(stage + "/README.md", prepared.readme));
  std::vector<std::pair<std::string, std::string>> entries;
  AddTree(model_dir, "", &entries);
  entries.emplace_back("sample.json", stage + "/sample.json");
  entries.emplace_back("README.md", stage + "/README.md");
  if (in.include_metadata) {
    RETURN_IF_ERROR(common::WriteFileAtomic(stage + "/metadata.json", metadata.dump(2)));
    entries.emplace_back("metadata.json", stage + "/metadata.json");
  }
  RETURN_IF_ERROR(WriteZip(in.output_zip, entries));
  const double zip_seconds = Since(t_zip);

  // Verification in the home runtime, from the zip itself.
  const auto t_verify = Clock::now();
  auto verified = RunPython(
      in, "verify.py",
      {"--format", in.format, "--zip", in.output_zip, "--work", in.work_dir + "/verify"}, cancel);
  if (!verified.ok()) return fail(verified.status());
  auto answer = LastJsonLine("verify.py", verified->out);
  if (!answer.ok()) return fail(answer.status());
  std::vector<double> want, got;
  Flatten(expected, &want);
  Flatten(answer->value("scores", Json::array()), &got);
  // |diff| <= tolerance * max(1, |expected|): absolute for probabilities and small values;
  // relative for large regression values, whose float32 representation alone is coarser.
  double max_diff = 0, max_excess = 0;
  bool comparable = want.size() == got.size();
  for (size_t i = 0; comparable && i < want.size(); ++i) {
    const double d = std::fabs(want[i] - got[i]);
    if (std::isnan(d)) {
      comparable = false;
    } else {
      max_diff = std::max(max_diff, d);
      max_excess = std::max(max_excess, d / std::max(1.0, std::fabs(want[i])));
    }
  }
  // Recommendations: the same items in the same order, but where the service's scores at
  // neighbouring ranks are within the tolerance (a tie up to float rounding).
  int64_t item_mismatches = 0;
  if (!expected_items.is_null()) {
    const Json got_items = answer->value("items", Json::array());
    if (got_items.size() != expected_items.size()) comparable = false;
    for (size_t r = 0; comparable && r < got_items.size(); ++r) {
      const Json& want_row = expected_items[r];
      const Json& scores_row = expected[r];
      if (got_items[r].size() != want_row.size()) {
        comparable = false;
        break;
      }
      for (size_t j = 0; j < want_row.size(); ++j) {
        if (got_items[r][j] == want_row[j]) continue;
        const double sj = scores_row[j].get<double>();
        bool tie = false;
        for (size_t i = 0; i < scores_row.size(); ++i) {
          if (i != j && std::fabs(scores_row[i].get<double>() - sj) <= kParityTolerance) tie = true;
        }
        if (!tie && j + 1 != want_row.size()) ++item_mismatches;
      }
    }
  }
  const bool passed = comparable && item_mismatches == 0 && max_excess <= kParityTolerance;
  ExportResult result;
  result.parity = {{"format", in.format},
                   {"runtime", answer->value("runtime", "")},
                   {"runtimeVersion", answer->value("runtimeVersion", "")},
                   {"rows", sample_rows},
                   {"maxAbsDiff", comparable ? Json(max_diff) : Json(nullptr)},
                   {"maxScaledDiff", comparable ? Json(max_excess) : Json(nullptr)},
                   {"tolerance", kParityTolerance},
                   {"rule", "|diff| <= tolerance * max(1, |expected|)"},
                   {"passed", passed}};
  if (answer->contains("checks")) result.parity["checks"] = (*answer)["checks"];
  if (!expected_items.is_null()) result.parity["itemMismatches"] = item_mismatches;
  if (!passed) {
    return fail(absl::InternalError(
        comparable
            ? StrCat("parity check failed: ", in.format, " model in ", answer->value("runtime", ""),
                     " differs from the service by up to ", max_diff, " (scaled ", max_excess,
                     ", tolerance ", kParityTolerance, ") on ", sample_rows, " sample rows",
                     item_mismatches ? StrCat(", ", item_mismatches, " items differ") : "")
            : StrCat("parity check failed: ", answer->value("runtime", ""), " returned ",
                     got.size(), " scores (NaN or missing ones included) for ", want.size(),
                     " expected")));
  }
  const double verify_seconds = Since(t_verify);

  auto checksum = common::Sha256File(in.output_zip);
  if (!checksum.ok()) return fail(checksum.status());
  result.checksum = *std::move(checksum);
  result.file_size = static_cast<int64_t>(std::filesystem::file_size(in.output_zip, ec));
  result.metadata = metadata;
  result.timings = {{"sample", prepared.sample_seconds},
                    {"write", prepared.write_seconds},
                    {"zip", zip_seconds},
                    {"verify", verify_seconds},
                    {"total", Since(t_start)}};
  return result;
}

}  // namespace tsml::exporting
