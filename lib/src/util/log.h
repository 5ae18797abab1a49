// Warnings about things etcdisc skips rather than fails on (a malformed record
// written by someone else, say). They go to stderr.
#ifndef ETCDISC_UTIL_LOG_H_
#define ETCDISC_UTIL_LOG_H_

#include "absl/strings/string_view.h"

namespace etcdisc::internal {

// Writes "etcdisc: warning: <message>" to stderr in one write. Thread-safe.
void LogWarning(absl::string_view message);

}  // namespace etcdisc::internal

#endif  // ETCDISC_UTIL_LOG_H_
