// The examples' duration flags: "5ms", "10s", "1m".
#ifndef ETCDISC_EXAMPLES_GRPC_DURATION_FLAG_H_
#define ETCDISC_EXAMPLES_GRPC_DURATION_FLAG_H_

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/time/time.h"

// `text` as a duration, or exits with status 2 naming the bad value.
inline std::chrono::milliseconds DurationFlag(const char* program,
                                              const char* flag,
                                              const std::string& text) {
  absl::Duration d;
  if (!absl::ParseDuration(text, &d) || d < absl::ZeroDuration()) {
    std::fprintf(stderr, "%s: invalid --%s \"%s\"\n", program, flag,
                 text.c_str());
    std::exit(2);
  }
  return absl::ToChronoMilliseconds(d);
}

#endif  // ETCDISC_EXAMPLES_GRPC_DURATION_FLAG_H_
