#include "common/file_util.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>

#include "common/strings.h"

namespace tsml::common {
namespace {

absl::Status ErrnoError(std::string_view what, const std::string& path) {
  return absl::InternalError(common::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

absl::Status FsyncPath(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags);
  if (fd < 0) return ErrnoError("open", path);
  const int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? absl::OkStatus() : ErrnoError("fsync", path);
}

}  // namespace

absl::Status CommitFile(const std::string& tmp_path, const std::string& final_path) {
  if (auto s = FsyncPath(tmp_path, O_RDONLY); !s.ok()) return s;
  if (::rename(tmp_path.c_str(), final_path.c_str()) != 0) return ErrnoError("rename", tmp_path);
  std::filesystem::path dir = std::filesystem::path(final_path).parent_path();
  if (dir.empty()) dir = ".";
  return FsyncPath(dir.string(), O_RDONLY | O_DIRECTORY);
}

absl::Status WriteFileAtomic(const std::string& path, std::string_view contents, int mode) {
  std::error_code ec;
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  std::random_device rd;
  const std::string tmp = common::StrCat(path, ".tmp-", rd());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, mode);
  if (fd < 0) return ErrnoError("create", tmp);
  size_t off = 0;
  while (off < contents.size()) {
    const ssize_t n = ::write(fd, contents.data() + off, contents.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      ::unlink(tmp.c_str());
      return ErrnoError("write", tmp);
    }
    off += static_cast<size_t>(n);
  }
  ::fchmod(fd, mode);
  ::close(fd);
  absl::Status s = CommitFile(tmp, path);
  if (!s.ok()) ::unlink(tmp.c_str());
  return s;
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(common::StrCat("cannot read ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Sha256Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return ToHex(md, len);
}

absl::StatusOr<std::string> Sha256File(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(common::StrCat("cannot read ", path));
  Sha256Hasher hasher;
  char buf[1 << 16];
  while (in) {
    in.read(buf, sizeof(buf));
    if (in.gcount() > 0) hasher.Update(buf, static_cast<size_t>(in.gcount()));
  }
  return hasher.HexDigest();
}

Sha256Hasher::Sha256Hasher() : ctx_(EVP_MD_CTX_new()) {
  EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr);
}

Sha256Hasher::~Sha256Hasher() { EVP_MD_CTX_free(ctx_); }

void Sha256Hasher::Update(const void* data, size_t bytes) {
  if (bytes > 0) EVP_DigestUpdate(ctx_, data, bytes);
}

std::string Sha256Hasher::HexDigest() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_DigestFinal_ex(ctx_, md, &len);
  return ToHex(md, len);
}

std::string ToHex(const unsigned char* data, size_t len) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(len * 2, '0');
  for (size_t i = 0; i < len; ++i) {
    out[2 * i] = kHex[data[i] >> 4];
    out[2 * i + 1] = kHex[data[i] & 15];
  }
  return out;
}

}  // namespace tsml::common
