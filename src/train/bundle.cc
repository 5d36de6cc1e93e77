#include "train/bundle.h"

#include <openssl/evp.h>

#include <memory>

#include "common/file_util.h"
#include "common/strings.h"

namespace tsml::train {

absl::Status WriteBundle(const std::string& path, Json& bundle) {
  bundle["formatVersion"] = kBundleFormatVersion;  // in place: a bundle can be hundreds of MB
  return common::WriteFileAtomic(path, common::DumpJson(bundle));
}

absl::StatusOr<Json> ReadBundle(const std::string& path) {
  auto text = common::ReadFile(path);
  if (!text.ok()) return text.status();
  auto parsed = common::ParseJson(*text, 512);
  if (!parsed.ok() || !parsed->is_object()) {
    return absl::InvalidArgumentError("the model artifact is not a valid bundle");
  }
  if (parsed->value("formatVersion", 0) != kBundleFormatVersion) {
    return absl::InvalidArgumentError(common::StrCat("unsupported model artifact format version ",
                                                     parsed->value("formatVersion", 0)));
  }
  return parsed;
}

absl::StatusOr<Json> WriteChart(const std::string& dir, const std::string& name,
                                const std::string& title, const std::string& svg) {
  const std::string file = common::StrCat(dir, "/charts/", name, ".svg");
  if (auto s = common::WriteFileAtomic(file, svg); !s.ok()) return s;
  return Json{{"name", name}, {"title", title}, {"file", file}};
}

std::string Base64Encode(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(data.data()),
                                static_cast<int>(data.size()));
  out.resize(n < 0 ? 0 : static_cast<size_t>(n));
  return out;
}

absl::StatusOr<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return absl::InvalidArgumentError("bad base64 length");
  std::string out(3 * text.size() / 4, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return absl::InvalidArgumentError("bad base64");
  size_t len = static_cast<size_t>(n);
  if (!text.empty() && text.back() == '=') --len;
  if (text.size() > 1 && text[text.size() - 2] == '=') --len;
  out.resize(len);
  return out;
}

std::string Fingerprint(const void* data, size_t bytes, const void* labels, size_t label_bytes) {
  common::Sha256Hasher hasher;
  hasher.Update(data, bytes);
  hasher.Update(labels, label_bytes);
  return hasher.HexDigest();
}

}  // namespace tsml::train
