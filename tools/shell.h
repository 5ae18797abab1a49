// Running a shell command from the CLI (`watch --exec`).
#ifndef ETCDISC_TOOLS_SHELL_H_
#define ETCDISC_TOOLS_SHELL_H_

#include <string>

#include "absl/status/statusor.h"

namespace etcdisc::cli {

// Runs `/bin/sh -c command` with `input` on its stdin and this process's
// stdout and stderr, with SIGINT and SIGTERM unblocked in it, and waits for
// it. Its exit status (128 + N when killed by signal N); Internal when it
// could not be started.
absl::StatusOr<int> RunShell(const std::string& command,
                             const std::string& input);

}  // namespace etcdisc::cli

#endif  // ETCDISC_TOOLS_SHELL_H_
