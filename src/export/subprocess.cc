#include "export/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

#include "common/file_util.h"
#include "common/strings.h"

extern char** environ;

namespace tsml::exporting {
namespace {

using common::StrCat;

std::string ReadCapped(const std::string& path, size_t cap, bool tail) {
  std::string s = common::ReadFile(path).value_or("");
  if (s.size() > cap) s = tail ? s.substr(s.size() - cap) : s.substr(0, cap);
  return s;
}

}  // namespace

absl::StatusOr<ProcessResult> RunProcess(const std::vector<std::string>& argv,
                                         const ProcessOptions& options) {
  if (argv.empty()) return absl::InvalidArgumentError("empty argv");
  static std::atomic<int> counter{0};
  const std::string tag = StrCat(getpid(), "_", counter++);
  const std::string out_path = StrCat(options.log_dir, "/proc_", tag, ".out");
  const std::string err_path = StrCat(options.log_dir, "/proc_", tag, ".err");

  // Environment: inherited, with overrides.
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string kv(*e);
    const size_t eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : options.env) env[k] = v;
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp, args;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = argv;
  for (auto& s : argv_copy) args.push_back(s.data());
  args.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);

  const auto start = std::chrono::steady_clock::now();
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, args[0], &actions, &attr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    return absl::InternalError(StrCat("cannot start ", argv[0], ": ", std::strerror(rc)));
  }

  ProcessResult result;
  int status = 0;
  absl::Status stopped = absl::OkStatus();
  auto sleep = std::chrono::milliseconds(5);
  while (true) {
    const pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (w < 0 && errno != EINTR)
      return absl::InternalError(StrCat("waitpid: ", std::strerror(errno)));
    const auto elapsed = std::chrono::steady_clock::now() - start;
    if (stopped.ok()) {
      if (options.cancel && options.cancel->cancelled()) {
        stopped = absl::CancelledError("export cancelled");
      } else if (elapsed > options.timeout) {
        stopped = absl::DeadlineExceededError(StrCat(
            argv.size() > 1 ? argv[1] : argv[0], " did not finish within ",
            std::chrono::duration_cast<std::chrono::seconds>(options.timeout).count(), " s"));
      }
      if (!stopped.ok()) kill(-pid, SIGKILL);
    }
    std::this_thread::sleep_for(sleep);
    sleep = std::min(sleep * 2, std::chrono::milliseconds(50));
  }
  if (!stopped.ok()) {
    kill(-pid, SIGKILL);  // anything the child left in its group
    unlink(out_path.c_str());
    unlink(err_path.c_str());
    return stopped;
  }
  kill(-pid, SIGKILL);  // helpers the converter left behind (e.g. a JVM), if any
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = ReadCapped(out_path, 4 << 20, false);
  result.err = ReadCapped(err_path, 8 << 10, true);
  unlink(out_path.c_str());
  unlink(err_path.c_str());
  return result;
}

}  // namespace tsml::exporting
