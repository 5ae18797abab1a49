// Capped exponential backoff with full jitter, for reconnects and retries.
#ifndef ETCDISC_UTIL_BACKOFF_H_
#define ETCDISC_UTIL_BACKOFF_H_

#include <chrono>
#include <cstdint>

namespace etcdisc::internal {

// Computes the delay before the next attempt: a random duration between
// `initial/2` and the current ceiling, where the ceiling doubles with each
// failure up to `max`. Reset() after a success. Not thread-safe.
class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max);

  // The delay to wait before the next attempt; raises the ceiling.
  std::chrono::milliseconds Next();
  // Back to the initial delay, after an attempt succeeded.
  void Reset();
  int failures() const { return failures_; }

 private:
  std::chrono::milliseconds initial_;
  std::chrono::milliseconds max_;
  std::chrono::milliseconds ceiling_;
  int failures_ = 0;
  uint64_t rng_state_;
};

}  // namespace etcdisc::internal

#endif  // ETCDISC_UTIL_BACKOFF_H_
