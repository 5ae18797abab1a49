// What is left of a deadline, as a call's timeout.
#ifndef ETCDISC_UTIL_DEADLINE_H_
#define ETCDISC_UTIL_DEADLINE_H_

#include <algorithm>
#include <chrono>

namespace etcdisc::internal {

// The time from now until `deadline`, and at least 1 ms, so that a call made
// at or after its deadline still gets a timeout (and fails on its own)
// rather than none.
inline std::chrono::milliseconds TimeLeft(
    std::chrono::steady_clock::time_point deadline) {
  return std::max(std::chrono::duration_cast<std::chrono::milliseconds>(
                      deadline - std::chrono::steady_clock::now()),
                  std::chrono::milliseconds(1));
}

}  // namespace etcdisc::internal

#endif  // ETCDISC_UTIL_DEADLINE_H_
