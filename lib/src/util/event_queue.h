// A closable, thread-safe queue of events, like a Go channel: what a
// Subscription reads from.
#ifndef ETCDISC_UTIL_EVENT_QUEUE_H_
#define ETCDISC_UTIL_EVENT_QUEUE_H_

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <utility>

#include "absl/status/status.h"

namespace etcdisc::internal {

// The queue behind a Subscription: producers Push, consumers Pop. Safe for
// concurrent use by any number of producers and consumers.
//
// Overflow policy: Push never blocks. When `capacity` items wait unread
// (0: no limit), the queue closes itself with ResourceExhausted instead of
// dropping events silently or stalling the producer: a consumer that falls
// that far behind must resubscribe (with `existing` hosts) to catch up.
template <typename T>
class EventQueue {
 public:
  explicit EventQueue(size_t capacity = 0) : capacity_(capacity) {}

  // Adds an item; false (and nothing added) once the queue is closed.
  bool Push(T item) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!status_.ok()) return false;
    if (capacity_ > 0 && items_.size() >= capacity_) {
      status_ = absl::ResourceExhaustedError(
          "subscription closed: its consumer fell behind by more than the "
          "queue's capacity");
      ready_.notify_all();
      return false;
    }
    items_.push_back(std::move(item));
    ready_.notify_one();
    return true;
  }

  // Closes the queue with `why` (must not be OK); items already queued can
  // still be popped. The first close wins.
  void Close(absl::Status why) {
    std::lock_guard<std::mutex> lock(mu_);
    if (status_.ok()) status_ = why.ok() ? absl::CancelledError("closed") : why;
    ready_.notify_all();
  }

  // Waits for an item. Nothing once the queue is closed and empty.
  std::optional<T> Pop() {
    std::unique_lock<std::mutex> lock(mu_);
    ready_.wait(lock, [this] { return ReadyLocked(); });
    return TakeLocked();
  }

  // Waits up to `timeout` for an item.
  std::optional<T> Pop(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    ready_.wait_for(lock, timeout, [this] { return ReadyLocked(); });
    return TakeLocked();
  }

  // An item if one is waiting now.
  std::optional<T> TryPop() {
    std::lock_guard<std::mutex> lock(mu_);
    return TakeLocked();
  }

  // OK while open; then why it closed.
  absl::Status status() const {
    std::lock_guard<std::mutex> lock(mu_);
    return status_;
  }

  size_t size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return items_.size();
  }

 private:
  // The Locked helpers run with mu_ held. (std::mutex, which the thread
  // sanitizer sees in every build.)
  bool ReadyLocked() const { return !items_.empty() || !status_.ok(); }
  std::optional<T> TakeLocked() {
    if (items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    return item;
  }

  const size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable ready_;
  std::deque<T> items_;   // Guarded by mu_.
  absl::Status status_;   // Guarded by mu_.
};

}  // namespace etcdisc::internal

#endif  // ETCDISC_UTIL_EVENT_QUEUE_H_
