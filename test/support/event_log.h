// A thread-safe record of what a watch handler received, for tests.
#ifndef ETCDISC_TEST_SUPPORT_EVENT_LOG_H_
#define ETCDISC_TEST_SUPPORT_EVENT_LOG_H_

#include <chrono>
#include <vector>

#include "util/mutex.h"
#include "etcd/watch_hub.h"

namespace etcdisc::testing {

class EventLog {
 public:
  // A handler that appends to this log; the log must outlive the watch.
  internal::WatchHandler Handler() {
    return [this](internal::WatchUpdate update) { Add(std::move(update)); };
  }

  void Add(internal::WatchUpdate update) {
    internal::MutexLock lock(&mu_);
    for (auto& e : update.events) events_.push_back(std::move(e));
    if (!update.status.ok()) {
      ended_ = true;
      end_ = update;
    }
  }

  std::vector<internal::WatchEvent> events() const {
    internal::MutexLock lock(&mu_);
    return events_;
  }

  // Waits until at least `n` events arrived; returns whether they did.
  bool WaitForEvents(size_t n, std::chrono::milliseconds timeout) const {
    internal::MutexLock lock(&mu_);
    struct Args {
      const EventLog* log;
      size_t n;
    } args{this, n};
    return mu_.AwaitWithTimeout(
        absl::Condition(
            +[](Args* a) ABSL_NO_THREAD_SAFETY_ANALYSIS {
              return a->log->events_.size() >= a->n;
            },
            &args),
        absl::FromChrono(timeout));
  }

  // Waits until the watch ended; returns its final update, or nothing.
  bool WaitForEnd(std::chrono::milliseconds timeout,
                  internal::WatchUpdate* end) const {
    internal::MutexLock lock(&mu_);
    const bool ended = mu_.AwaitWithTimeout(
        absl::Condition(
            +[](const EventLog* log) ABSL_NO_THREAD_SAFETY_ANALYSIS {
              return log->ended_;
            },
            this),
        absl::FromChrono(timeout));
    if (ended && end != nullptr) *end = end_;
    return ended;
  }

 private:
  mutable internal::Mutex mu_;
  std::vector<internal::WatchEvent> events_ ABSL_GUARDED_BY(mu_);
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  internal::WatchUpdate end_ ABSL_GUARDED_BY(mu_);
};

}  // namespace etcdisc::testing

#endif  // ETCDISC_TEST_SUPPORT_EVENT_LOG_H_
