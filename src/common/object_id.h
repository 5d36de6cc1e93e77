// ObjectIds (CONTRACT §4): 4-byte seconds, 5 random bytes, 3-byte counter, 24 lowercase hex.
#ifndef TSML_COMMON_OBJECT_ID_H_
#define TSML_COMMON_OBJECT_ID_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/clock.h"

namespace tsml::common {

// Generates ids; thread-safe. The random part is drawn once per process.
class IdGenerator {
 public:
  explicit IdGenerator(const Clock* clock);
  std::string Next();

 private:
  const Clock* clock_;
  unsigned char random_[5];
  std::atomic<uint32_t> counter_;
};

// True when `id` is exactly 24 hex characters (either case).
bool IsValidObjectId(std::string_view id);

}  // namespace tsml::common

#endif  // TSML_COMMON_OBJECT_ID_H_
