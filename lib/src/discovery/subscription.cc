#include "etcdisc/subscription.h"

#include <utility>

#include "util/event_queue.h"

namespace etcdisc {

template <typename T>
Subscription<T>::Subscription(std::shared_ptr<internal::EventQueue<T>> queue,
                              std::function<void()> on_close)
    : queue_(std::move(queue)), on_close_(std::move(on_close)) {}

template <typename T>
Subscription<T>::~Subscription() {
  Close();
}

template <typename T>
std::optional<T> Subscription<T>::Pop() {
  return queue_->Pop();
}

template <typename T>
std::optional<T> Subscription<T>::Pop(std::chrono::milliseconds timeout) {
  return queue_->Pop(timeout);
}

template <typename T>
std::optional<T> Subscription<T>::TryPop() {
  return queue_->TryPop();
}

template <typename T>
void Subscription<T>::Close() {
  queue_->Close(absl::CancelledError("subscription closed by its owner"));
  std::function<void()> on_close;
  {
    std::lock_guard<std::mutex> lock(mu_);
    on_close.swap(on_close_);
  }
  if (on_close) on_close();
}

template <typename T>
absl::Status Subscription<T>::status() const {
  return queue_->status();
}

template <typename T>
size_t Subscription<T>::pending() const {
  return queue_->size();
}

template class Subscription<Host>;
template class Subscription<std::string>;
template class Subscription<HostEvent>;

}  // namespace etcdisc
