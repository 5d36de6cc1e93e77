// Time source, injected so tests can move time by hand.
#ifndef TSML_COMMON_CLOCK_H_
#define TSML_COMMON_CLOCK_H_

#include <atomic>
#include <chrono>
#include <cstdint>

namespace tsml::common {

// Milliseconds since the Unix epoch, UTC. Every stored timestamp uses this unit.
using Millis = int64_t;

// Thread-safe time source.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual Millis NowMillis() const = 0;
};

class SystemClock final : public Clock {
 public:
  Millis NowMillis() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  static SystemClock* Default() {
    static SystemClock clock;
    return &clock;
  }
};

// A clock that only moves when told to.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(Millis start) : now_(start) {}
  Millis NowMillis() const override { return now_.load(); }
  void Advance(Millis delta) { now_ += delta; }
  void Set(Millis now) { now_ = now; }

 private:
  std::atomic<Millis> now_;
};

}  // namespace tsml::common

#endif  // TSML_COMMON_CLOCK_H_
