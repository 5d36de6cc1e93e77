// Durable file writes and checksums.
#ifndef TSML_COMMON_FILE_UTIL_H_
#define TSML_COMMON_FILE_UTIL_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX

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

// SHA-256 over pieces fed one after the other; HexDigest() ends it (lowercase hex).
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;
  void Update(const void* data, size_t bytes);
  std::string HexDigest();

 private:
  ::evp_md_ctx_st* ctx_;  // OpenSSL EVP_MD_CTX
};

// Lowercase hex of `len` bytes.
std::string ToHex(const unsigned char* data, size_t len);

}  // namespace tsml::common

#endif  // TSML_COMMON_FILE_UTIL_H_
