#include "common/object_id.h"

#include <openssl/rand.h>

#include <cstdio>
#include <random>

namespace tsml::common {

IdGenerator::IdGenerator(const Clock* clock) : clock_(clock) {
  if (RAND_bytes(random_, sizeof(random_)) != 1) {
    std::random_device rd;
    for (auto& b : random_) b = static_cast<unsigned char>(rd());
  }
  unsigned char c[3];
  if (RAND_bytes(c, 3) != 1) c[0] = c[1] = c[2] = 0;
  counter_ = (uint32_t{c[0]} << 16) | (uint32_t{c[1]} << 8) | c[2];
}

std::string IdGenerator::Next() {
  const uint32_t secs = static_cast<uint32_t>(clock_->NowMillis() / 1000);
  const uint32_t count = counter_.fetch_add(1) & 0xFFFFFF;
  char buf[25];
  std::snprintf(buf, sizeof(buf), "%08x%02x%02x%02x%02x%02x%06x", secs, random_[0], random_[1],
                random_[2], random_[3], random_[4], count);
  return std::string(buf, 24);
}

bool IsValidObjectId(std::string_view id) {
  if (id.size() != 24) return false;
  for (char c : id) {
    const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!hex) return false;
  }
  return true;
}

}  // namespace tsml::common
