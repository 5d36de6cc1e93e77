#include "export/prepare.h"

#include <chrono>

#include "common/clock.h"
#include "common/file_util.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "common/time_util.h"

#ifndef TSML_VERSION
#define TSML_VERSION "0.0.0"
#endif

namespace tsml::exporting {

using common::StrCat;

std::string TsmlVersion() { return TSML_VERSION; }

double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// The model's file(s) inside the zip.
std::string ModelEntry(const std::string& format) {
  if (format == "onnx") return "model.onnx";
  if (format == "pmml") return "model.pmml";
  if (format == "sklearn") return "model.joblib";
  if (format == "pytorch") return "model.pt";
  return "saved_model";
}

std::string ToolsDir(const ExportInput& in) {
  return in.tools_dir.empty() ? TSML_EXPORT_TOOLS_DIR : in.tools_dir;
}

absl::StatusOr<ProcessResult> RunPython(const ExportInput& in, const std::string& script,
                                        const std::vector<std::string>& args,
                                        const common::CancellationToken* cancel) {
  const std::string tools = ToolsDir(in);
  std::vector<std::string> argv = {in.python, StrCat(tools, "/", script)};
  argv.insert(argv.end(), args.begin(), args.end());
  ProcessOptions options;
  options.timeout = in.converter_timeout;
  options.cancel = cancel;
  options.log_dir = in.work_dir;
  options.env = {{"OMP_WAIT_POLICY", "passive"}, {"OMP_NUM_THREADS", "1"},
                 {"TF_CPP_MIN_LOG_LEVEL", "2"},  {"TF_ENABLE_ONEDNN_OPTS", "0"},
                 {"CUDA_VISIBLE_DEVICES", ""},   {"PYTHONDONTWRITEBYTECODE", "1"},
                 {"PYTHONHASHSEED", "0"}};
  ASSIGN_OR_RETURN(ProcessResult r, RunProcess(argv, options));
  if (r.exit_code != 0) {
    return absl::InternalError(StrCat(script, " failed (exit ", r.exit_code, "): ", r.err));
  }
  return r;
}

// The last line of a converter's stdout is its JSON answer.
absl::StatusOr<Json> LastJsonLine(const std::string& script, const std::string& out) {
  const std::vector<std::string> lines = common::Split(out, '\n');
  if (lines.empty()) return absl::InternalError(StrCat(script, " printed nothing"));
  auto j = common::ParseJson(lines.back(), 64);
  if (!j.ok()) return absl::InternalError(StrCat(script, " printed no JSON result"));
  return *j;
}

// Runs the format's Python converter (to_sklearn.py, to_torch.py, to_tf.py) on `spec`, which
// writes the model into `model_dir`; takes its layout and library versions from its answer.
absl::Status RunConverter(const ExportInput& in, const Json& spec, const std::string& model_dir,
                          const common::CancellationToken* cancel, Json* layout, Json* libraries) {
  const std::string spec_path = in.work_dir + "/spec.json";
  RETURN_IF_ERROR(common::WriteFileAtomic(spec_path, spec.dump()));
  const std::string script = in.format == "sklearn"   ? "to_sklearn.py"
                             : in.format == "pytorch" ? "to_torch.py"
                                                      : "to_tf.py";
  ASSIGN_OR_RETURN(
      ProcessResult r,
      RunPython(in, script, {"--spec", spec_path, "--out", model_dir + "/" + ModelEntry(in.format)},
                cancel));
  ASSIGN_OR_RETURN(Json answer, LastJsonLine(script, r.out));
  *layout = answer.value("layout", Json::object());
  const Json versions = answer.value("versions", Json::object());
  for (const auto& [k, v] : versions.items()) (*libraries)[k] = v;
  return absl::OkStatus();
}

// The job's parameters and metrics for metadata.json.
void AddJobMetadata(const ExportInput& in, Json* metadata) {
  Json job_params = Json::object();
  if (!in.job.is_object()) {
    (*metadata)["trainingJob"] = std::move(job_params);
    (*metadata)["metrics"] = nullptr;
    return;
  }
  for (const char* k :
       {"jobId", "modelType", "trainingData", "hyperparameters", "validationStrategy",
        "computeResources", "createdAt", "completedAt", "createdBy"}) {
    if (in.job.contains(k)) job_params[k] = in.job[k];
  }
  Json metrics = in.job.value("metrics", Json());
  if (metrics.is_null() && in.job.contains("evaluation") && in.job["evaluation"].is_object()) {
    metrics = in.job["evaluation"].value("metrics", Json());
  }
  (*metadata)["trainingJob"] = std::move(job_params);
  (*metadata)["metrics"] = std::move(metrics);
}

absl::Status WriteModelFiles(const ExportInput& in, const Json& bundle,
                             const std::string& model_dir,
                             const std::function<absl::Status(Json*)>& write_native,
                             const std::function<absl::StatusOr<Json>()>& converter_spec,
                             const common::CancellationToken* cancel, Json* metadata,
                             Prepared* out) {
  const auto start = Clock::now();
  if (cancel != nullptr && cancel->cancelled()) return absl::CancelledError("export cancelled");
  Json layout = Json::object();
  Json libraries = bundle.value("libraryVersions", Json::object());
  if (in.format == "onnx" || in.format == "pmml") {
    libraries[in.format] = in.format == "onnx" ? kOnnxLibrary : "4.4";
    RETURN_IF_ERROR(write_native(&layout));
  } else {
    ASSIGN_OR_RETURN(Json spec, converter_spec());
    RETURN_IF_ERROR(RunConverter(in, spec, model_dir, cancel, &layout, &libraries));
  }
  (*metadata)["libraryVersions"] = std::move(libraries);
  (*metadata)["layout"] = std::move(layout);
  out->write_seconds = Since(start);
  return absl::OkStatus();
}

Json BaseMetadata(const ExportInput& in, const std::string& task, const Json& bundle) {
  return {{"modelType", in.model_type},
          {"task", task},
          {"format", in.format},
          {"tsmlVersion", TsmlVersion()},
          {"exportedAt", common::FormatIso8601(common::SystemClock::Default()->NowMillis())},
          {"trainedAt", bundle.value("trainedAt", Json())}};
}

}  // namespace tsml::exporting
