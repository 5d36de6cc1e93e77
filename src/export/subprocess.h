// Runs a converter as a child process: argv array (posix_spawn, no shell), stdout and stderr
// captured to files, a wall-clock timeout, and cancellation. The child gets its own process
// group, which is killed (SIGKILL) on timeout or cancellation.
#ifndef TSML_EXPORT_SUBPROCESS_H_
#define TSML_EXPORT_SUBPROCESS_H_

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/cancellation.h"

namespace tsml::exporting {

struct ProcessResult {
  int exit_code = -1;  // -1 when killed by a signal
  std::string out;     // stdout (capped at 4 MiB)
  std::string err;     // stderr tail (last 8 KiB)
  double seconds = 0;
};

struct ProcessOptions {
  std::chrono::milliseconds timeout{std::chrono::minutes(5)};
  const common::CancellationToken* cancel = nullptr;
  std::string log_dir;                     // where stdout/stderr files go (must exist)
  std::map<std::string, std::string> env;  // added to (or replacing in) the inherited one
};

// DeadlineExceeded on timeout, Cancelled when the token fires, Internal when the program
// cannot be started. A non-zero exit is a result, not an error.
absl::StatusOr<ProcessResult> RunProcess(const std::vector<std::string>& argv,
                                         const ProcessOptions& options);

}  // namespace tsml::exporting

#endif  // TSML_EXPORT_SUBPROCESS_H_
