// Durable file writes and checksums.
#ifndef TSML_COMMON_FILE_UTIL_H_
#define TSML_COMMON_FILE_UTIL_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace tsml::common {

// Writes `contents` to `path` through a temporary file in the same folder that is fsynced
// and renamed over `path`; the folder is fsynced too. Creates missing parent folders.
absl::Status WriteFileAtomic(const std::string& path, std::string_view contents, int mode = 0644);

// Renames an already written temporary file into place durably (fsync file, rename, fsync dir).
absl::Status CommitFile(const std::string& tmp_path, const std::string& final_path);

absl::StatusOr<std::string> ReadFile(const std::string& path);

// Lowercase hex SHA-256 of a file's contents (streamed).
absl::StatusOr<std::string> Sha256File(const std::string& path);
std::string Sha256Hex(std::string_view data);

}  // namespace tsml::common

#endif  // TSML_COMMON_FILE_UTIL_H_
