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
  static constexpr char kHex[] = "0123456789abcdef";
  const uint32_t secs = static_cast<uint32_t>(clock_->NowMillis() / 1000);
  const uint32_t count = counter_.fetch_add(1, std::memory_order_relaxed) & 0xFFFFFF;
  std::string out(24, '0');
  for (int i = 0; i < 8; ++i) out[i] = kHex[(secs >> (28 - 4 * i)) & 15];
  for (int i = 0; i < 5; ++i) {
    out[8 + 2 * i] = kHex[random_[i] >> 4];
    out[9 + 2 * i] = kHex[random_[i] & 15];
  }
  for (int i = 0; i < 6; ++i) out[18 + i] = kHex[(count >> (20 - 4 * i)) & 15];
  return out;
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
