#include "util/log.h"

#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"

namespace etcdisc::internal {

void LogWarning(absl::string_view message) {
  const std::string line = absl::StrCat("etcdisc: warning: ", message, "\n");
  // One write() so lines from several threads do not interleave.
  const ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

}  // namespace etcdisc::internal
