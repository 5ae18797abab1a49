// A command run by the CLI (`watch --exec`, `run`): in a process group of its
// own, with default signals, so that a signal passed on reaches all it started.
#ifndef ETCDISC_TOOLS_CHILD_PROCESS_H_
#define ETCDISC_TOOLS_CHILD_PROCESS_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace etcdisc::cli {

// Not thread-safe: one thread starts it, polls it and signals it.
class ChildProcess {
 public:
  // Starts argv[0] (looked up in PATH when it has no '/') with argv, this
  // process's environment, stdout and stderr, and `stdin_fd` as its stdin
  // (this process's stdin when -1). In it SIGINT, SIGTERM, SIGPIPE, SIGHUP
  // and SIGQUIT are as they are by default and no signal is blocked. It does
  // not get the terminal: a command that reads it is stopped. NotFound when argv[0] is
  // not there, Internal when it could not be started otherwise.
  static absl::StatusOr<ChildProcess> Start(
      const std::vector<std::string>& argv, int stdin_fd = -1);

  // Its exit status once it has ended (128 + N when killed by signal N);
  // nothing while it runs.
  std::optional<int> Poll();
  // Sends `signal` to its process group.
  void Signal(int signal);
  pid_t pid() const { return pid_; }

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  pid_t pid_;
  std::optional<int> status_;
};

}  // namespace etcdisc::cli

#endif  // ETCDISC_TOOLS_CHILD_PROCESS_H_
