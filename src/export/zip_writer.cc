#include "export/zip_writer.h"

#include <unistd.h>
#include <zip.h>

#include <algorithm>
#include <filesystem>

#include "common/file_util.h"
#include "common/strings.h"

namespace tsml::exporting {

using common::StrCat;

void AddTree(const std::string& dir, const std::string& prefix,
             std::vector<std::pair<std::string, std::string>>* entries) {
  std::vector<std::pair<std::string, std::string>> found;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    const std::string rel = std::filesystem::relative(it->path(), dir).string();
    found.emplace_back(prefix.empty() ? rel : prefix + "/" + rel, it->path().string());
  }
  std::sort(found.begin(), found.end());
  entries->insert(entries->end(), found.begin(), found.end());
}

absl::Status WriteZip(const std::string& path,
                      const std::vector<std::pair<std::string, std::string>>& entries) {
  const std::string tmp = StrCat(path, ".tmp-", getpid());
  unlink(tmp.c_str());
  int err = 0;
  zip_t* z = zip_open(tmp.c_str(), ZIP_CREATE | ZIP_EXCL, &err);
  if (z == nullptr) {
    zip_error_t e;
    zip_error_init_with_code(&e, err);
    const std::string msg = zip_error_strerror(&e);
    zip_error_fini(&e);
    return absl::InternalError(StrCat("cannot create ", tmp, ": ", msg));
  }
  for (const auto& [name, file] : entries) {
    zip_source_t* src = zip_source_file(z, file.c_str(), 0, -1);
    if (src == nullptr) {
      const std::string msg = zip_strerror(z);
      zip_discard(z);
      return absl::InternalError(StrCat("zip: cannot read ", file, ": ", msg));
    }
    const zip_int64_t idx = zip_file_add(z, name.c_str(), src, ZIP_FL_ENC_UTF_8 | ZIP_FL_OVERWRITE);
    if (idx < 0) {
      zip_source_free(src);
      const std::string msg = zip_strerror(z);
      zip_discard(z);
      return absl::InternalError(StrCat("zip: cannot add ", name, ": ", msg));
    }
    zip_set_file_compression(z, static_cast<zip_uint64_t>(idx), ZIP_CM_DEFLATE, 6);
  }
  if (zip_close(z) != 0) {
    const std::string msg = zip_strerror(z);
    zip_discard(z);
    unlink(tmp.c_str());
    return absl::InternalError(StrCat("zip: cannot write ", path, ": ", msg));
  }
  return common::CommitFile(tmp, path);
}

}  // namespace tsml::exporting
