// Where the real data sets for tests live: ../shared/data beside the repository (as in CI),
// or TSML_SHARED_DATA, or /work/shared/data.
#ifndef TSML_TESTS_SUPPORT_SHARED_DATA_H_
#define TSML_TESTS_SUPPORT_SHARED_DATA_H_

#include <cstdlib>
#include <filesystem>
#include <string>

namespace tsml::test {

inline std::string SharedDataDir() {
  namespace fs = std::filesystem;
  if (const char* env = std::getenv("TSML_SHARED_DATA"); env && *env) return env;
  // This header is <repo>/tests/support/shared_data.h.
  const fs::path beside = fs::path(__FILE__).parent_path() / "../../../shared/data";
  std::error_code ec;
  if (fs::exists(beside, ec)) return fs::weakly_canonical(beside, ec).string();
  return "/work/shared/data";
}

}  // namespace tsml::test

#endif  // TSML_TESTS_SUPPORT_SHARED_DATA_H_
