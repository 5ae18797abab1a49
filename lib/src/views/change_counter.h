// A counter of changes that a thread can wait on: what WaitFor and
// Dependencies::Start sleep on between looks at their views (PollUntil).
#ifndef ETCDISC_VIEWS_CHANGE_COUNTER_H_
#define ETCDISC_VIEWS_CHANGE_COUNTER_H_

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <utility>

#include "absl/status/status.h"

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "util/mutex.h"

namespace etcdisc::internal {

// Safe for concurrent use.
class ChangeCounter {
 public:
  void Bump() ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(&mu_);
    ++count_;
  }
  uint64_t Read() const ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(&mu_);
    return count_;
  }
  // Waits until a change after `seen` (a Read() value), at most `limit`.
  void AwaitAfter(uint64_t seen, std::chrono::steady_clock::duration limit)
      ABSL_LOCKS_EXCLUDED(mu_) {
    std::pair<const ChangeCounter*, uint64_t> since{this, seen};
    MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(
        absl::Condition(
            +[](std::pair<const ChangeCounter*, uint64_t>* s)
                ABSL_NO_THREAD_SAFETY_ANALYSIS {
                  return s->first->count_ != s->second;
                },
            &since),
        absl::FromChrono(limit));
  }

 private:
  mutable Mutex mu_;
  uint64_t count_ ABSL_GUARDED_BY(mu_) = 0;
};

// Calls `check` now and after each change of `changes` (at least every
// 200 ms: a view that stops, or whose first read fails, calls back nothing)
// until it returns a status, which is returned; nothing at `deadline`.
template <typename Check>
std::optional<absl::Status> PollUntil(
    ChangeCounter& changes, std::chrono::steady_clock::time_point deadline,
    Check check) {
  while (true) {
    const uint64_t seen = changes.Read();
    std::optional<absl::Status> done = check();
    if (done) return done;
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= left.zero()) return std::nullopt;
    changes.AwaitAfter(seen, std::min<std::chrono::steady_clock::duration>(
                                 left, std::chrono::milliseconds(200)));
  }
}

}  // namespace etcdisc::internal

#endif  // ETCDISC_VIEWS_CHANGE_COUNTER_H_
