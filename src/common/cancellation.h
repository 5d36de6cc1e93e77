// A cancellation flag that long-running work checks between iterations.
#ifndef TSML_COMMON_CANCELLATION_H_
#define TSML_COMMON_CANCELLATION_H_

#include <atomic>

namespace tsml::common {

enum class CancelReason { kNone = 0, kUser, kShutdown, kLeaseLost };

class CancellationToken {
 public:
  // The first reason wins.
  void Cancel(CancelReason reason) {
    int expected = 0;
    reason_.compare_exchange_strong(expected, static_cast<int>(reason));
  }
  bool cancelled() const { return reason_.load(std::memory_order_relaxed) != 0; }
  CancelReason reason() const { return static_cast<CancelReason>(reason_.load()); }

 private:
  std::atomic<int> reason_{0};
};

}  // namespace tsml::common

#endif  // TSML_COMMON_CANCELLATION_H_
