// Writes a zip archive (libzip, deflate) from files on disk: to `path`.tmp-<pid>, fsynced and
// renamed over `path`.
#ifndef TSML_EXPORT_ZIP_WRITER_H_
#define TSML_EXPORT_ZIP_WRITER_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace tsml::exporting {

// `entries`: (name inside the archive, file on disk). Folders are added recursively by
// AddTree before calling.
absl::Status WriteZip(const std::string& path,
                      const std::vector<std::pair<std::string, std::string>>& entries);

// Appends every regular file under `dir` as `prefix`/relative path, sorted.
void AddTree(const std::string& dir, const std::string& prefix,
             std::vector<std::pair<std::string, std::string>>* entries);

}  // namespace tsml::exporting

#endif  // TSML_EXPORT_ZIP_WRITER_H_
