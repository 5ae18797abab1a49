// Makes Subscriptions, whose constructor is private so that the queue behind
// them stays out of the public API.
#ifndef ETCDISC_DISCOVERY_SUBSCRIPTION_ACCESS_H_
#define ETCDISC_DISCOVERY_SUBSCRIPTION_ACCESS_H_

#include <functional>
#include <memory>
#include <utility>

#include "etcdisc/subscription.h"
#include "util/event_queue.h"

namespace etcdisc::internal {

struct SubscriptionAccess {
  // A subscription reading `queue`; `on_close` runs once, on Close() or
  // destruction.
  template <typename T>
  static std::unique_ptr<Subscription<T>> Make(
      std::shared_ptr<EventQueue<T>> queue, std::function<void()> on_close) {
    return std::unique_ptr<Subscription<T>>(
        new Subscription<T>(std::move(queue), std::move(on_close)));
  }
};

}  // namespace etcdisc::internal

#endif  // ETCDISC_DISCOVERY_SUBSCRIPTION_ACCESS_H_
