// etcdisc's own logging, through the sink and level of etcdisc/log.h.
#ifndef ETCDISC_UTIL_LOG_H_
#define ETCDISC_UTIL_LOG_H_

#include <chrono>
#include <functional>

#include "absl/strings/string_view.h"
#include "etcdisc/log.h"

namespace etcdisc::internal {

// Logs `message` at `level` from `file`:`line`, unless below the level or
// over the repeat limit of that place. Thread-safe.
void Log(LogLevel level, const char* file, int line, absl::string_view message);

// For tests: the clock the repeat limit reads (nullptr: the steady clock),
// and forgetting every place's count.
void SetLogClockForTesting(
    std::function<std::chrono::steady_clock::time_point()> now);
void ResetLogLimitsForTesting();

}  // namespace etcdisc::internal

#define ETCDISC_LOG(level, message)                                       \
  ::etcdisc::internal::Log(::etcdisc::LogLevel::level, __FILE__, __LINE__, \
                           (message))

#endif  // ETCDISC_UTIL_LOG_H_
