// Waiting on conditions with a deadline, instead of sleeping and hoping.
#ifndef ETCDISC_TEST_SUPPORT_WAIT_H_
#define ETCDISC_TEST_SUPPORT_WAIT_H_

#include <chrono>
#include <thread>

namespace etcdisc::testing {

// Polls `condition` every 10 ms until it holds or `timeout` passes; returns
// whether it held.
template <typename Condition>
bool WaitFor(Condition condition, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// Checks `condition` every 10 ms for `duration`; returns false as soon as it
// does not hold (for properties that must stay true over a span of time).
template <typename Condition>
bool HoldsFor(Condition condition, std::chrono::milliseconds duration) {
  const auto until = std::chrono::steady_clock::now() + duration;
  while (std::chrono::steady_clock::now() < until) {
    if (!condition()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return condition();
}

}  // namespace etcdisc::testing

#endif  // ETCDISC_TEST_SUPPORT_WAIT_H_
