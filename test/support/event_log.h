// A thread-safe record of what a watch handler received, for tests.
#ifndef ETCDISC_TEST_SUPPORT_EVENT_LOG_H_
#define ETCDISC_TEST_SUPPORT_EVENT_LOG_H_

#include <chrono>
#include <memory>
#include <vector>

#include "absl/time/time.h"
#include "etcd/watch_hub.h"
#include "util/mutex.h"

namespace etcdisc::testing {

class EventLog {
 public:
  // A handler that appends to this log. It shares the log's state, so a
  // watch that outlives the log (the fixture's client ends after the test
  // body) never writes to freed memory.
  internal::WatchHandler Handler() {
    return [state = state_](internal::WatchUpdate update) {
      state->Add(std::move(update));
    };
  }

  std::vector<internal::WatchEvent> events() const {
    internal::MutexLock lock(&state_->mu);
    return state_->events;
  }

  // Waits until at least `n` events arrived; returns whether they did.
  bool WaitForEvents(size_t n, std::chrono::milliseconds timeout) const {
    internal::MutexLock lock(&state_->mu);
    struct Args {
      const State* state;
      size_t n;
    } args{state_.get(), n};
    return state_->mu.AwaitWithTimeout(
        absl::Condition(
            +[](Args* a) ABSL_NO_THREAD_SAFETY_ANALYSIS {
              return a->state->events.size() >= a->n;
            },
            &args),
        absl::FromChrono(timeout));
  }

  // Waits until the watch ended; returns its final update, or nothing.
  bool WaitForEnd(std::chrono::milliseconds timeout,
                  internal::WatchUpdate* end) const {
    internal::MutexLock lock(&state_->mu);
    const bool ended = state_->mu.AwaitWithTimeout(
        absl::Condition(
            +[](State* s) ABSL_NO_THREAD_SAFETY_ANALYSIS { return s->ended; },
            state_.get()),
        absl::FromChrono(timeout));
    if (ended && end != nullptr) *end = state_->end;
    return ended;
  }

 private:
  struct State {
    void Add(internal::WatchUpdate update) {
      internal::MutexLock lock(&mu);
      for (auto& e : update.events) events.push_back(std::move(e));
      if (!update.status.ok()) {
        ended = true;
        end = update;
      }
    }
    mutable internal::Mutex mu;
    std::vector<internal::WatchEvent> events ABSL_GUARDED_BY(mu);
    bool ended ABSL_GUARDED_BY(mu) = false;
    internal::WatchUpdate end ABSL_GUARDED_BY(mu);
  };

  std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace etcdisc::testing

#endif  // ETCDISC_TEST_SUPPORT_EVENT_LOG_H_
