// Wall-clock times as etcdisc's JSON records write them: RFC 3339 in UTC
// with milliseconds, e.g. "2026-11-30T08:00:00.123Z".
#ifndef ETCDISC_UTIL_TIME_TEXT_H_
#define ETCDISC_UTIL_TIME_TEXT_H_

#include <chrono>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace etcdisc::internal {

std::string FormatUtcTime(std::chrono::system_clock::time_point t);
// An RFC 3339 time from 1970 to 2199; InvalidArgument saying what is wrong
// with `text`.
absl::StatusOr<std::chrono::system_clock::time_point> ParseUtcTime(
    absl::string_view text);

}  // namespace etcdisc::internal

#endif  // ETCDISC_UTIL_TIME_TEXT_H_
