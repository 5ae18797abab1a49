// A closable, thread-safe stream of events, like a Go channel.
#ifndef ETCDISC_SUBSCRIPTION_H_
#define ETCDISC_SUBSCRIPTION_H_

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "etcdisc/host.h"

namespace etcdisc {

namespace internal {
template <typename T>
class EventQueue;
struct SubscriptionAccess;
}  // namespace internal

// What SubscribeNew (T = Host), SubscribeDown (T = std::string, a uuid) and
// Subscribe (T = HostEvent) return: the reading end of a queue of events,
// tied to a watch in etcd. Destroying it (or Close()) ends the watch. Safe
// for concurrent use; Pop from as many threads as you like.
//
// Overflow: the producer never waits. When ClientOptions::
// subscription_capacity events wait unread, the subscription closes with
// ResourceExhausted instead of dropping events silently or stalling the
// client: a consumer that falls that far behind must subscribe again (with
// `existing` hosts) to catch up.
template <typename T>
class Subscription {
 public:
  ~Subscription();
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

  // Waits for the next event; nothing once the subscription is closed and
  // drained (see status() for why).
  std::optional<T> Pop();
  // Waits at most `timeout`; nothing if none came.
  std::optional<T> Pop(std::chrono::milliseconds timeout);
  // The next event if one is waiting.
  std::optional<T> TryPop();
  // Ends the subscription: its watch stops, blocked Pops return nothing once
  // queued events are drained. Idempotent.
  void Close();
  // OK while open; otherwise why it closed: Cancelled after Close(),
  // ResourceExhausted when the consumer fell too far behind, or the error
  // that ended it (e.g. FailedPrecondition when the client shut down,
  // PermissionDenied when etcd no longer lets the client's user read the
  // service's hosts).
  absl::Status status() const;
  // Events waiting to be popped.
  size_t pending() const;

 private:
  friend struct internal::SubscriptionAccess;
  Subscription(std::shared_ptr<internal::EventQueue<T>> queue,
               std::function<void()> on_close);

  const std::shared_ptr<internal::EventQueue<T>> queue_;
  std::mutex mu_;
  std::function<void()> on_close_;  // Guarded by mu_; run once.
};

// The library defines Subscription for these event types only.
extern template class Subscription<Host>;
extern template class Subscription<std::string>;
extern template class Subscription<HostEvent>;

}  // namespace etcdisc

#endif  // ETCDISC_SUBSCRIPTION_H_
