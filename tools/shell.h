// Running a shell command from the CLI (`watch --exec`).
#ifndef ETCDISC_TOOLS_SHELL_H_
#define ETCDISC_TOOLS_SHELL_H_

#include <string>

#include "absl/status/statusor.h"

namespace etcdisc::cli {

struct ShellResult {
  int status = 0;            // Its exit status; 128 + N if killed by N.
  int forwarded_signal = 0;  // A SIGINT or SIGTERM passed on to it, or 0.
};

// Runs `/bin/sh -c command` with `input` on its stdin and this process's
// stdout and stderr, with SIGINT, SIGTERM and SIGPIPE as they are by default
// in it, in a process group of its own, and waits for it. A SIGINT or
// SIGTERM this process takes meanwhile (they must be blocked:
// BlockTerminationSignals) is passed on to that group.
// Internal when it could not be started.
absl::StatusOr<ShellResult> RunShell(const std::string& command,
                                     const std::string& input);

}  // namespace etcdisc::cli

#endif  // ETCDISC_TOOLS_SHELL_H_
