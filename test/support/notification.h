// A one-shot event for tests, on std::mutex so that ThreadSanitizer sees it.
#ifndef ETCDISC_TEST_SUPPORT_NOTIFICATION_H_
#define ETCDISC_TEST_SUPPORT_NOTIFICATION_H_

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace etcdisc::testing {

class Notification {
 public:
  void Notify() {
    // Under the lock: once it is released the waiter may destroy this.
    std::lock_guard<std::mutex> lock(mu_);
    notified_ = true;
    cv_.notify_all();
  }
  // Whether Notify() was called within `timeout`.
  bool WaitFor(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [this] { return notified_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool notified_ = false;
};

}  // namespace etcdisc::testing

#endif  // ETCDISC_TEST_SUPPORT_NOTIFICATION_H_
