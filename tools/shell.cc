#include "tools/shell.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "tools/child_process.h"
#include "tools/cli.h"

namespace etcdisc::cli {
namespace {

// Writes all of `input` to `fd`, then closes it. A command that does not
// read its stdin closes the pipe early: what it did not read is dropped.
void Feed(int fd, const std::string& input) {
  size_t done = 0;
  while (done < input.size()) {
    const ssize_t n = ::write(fd, input.data() + done, input.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  ::close(fd);
}

}  // namespace

absl::StatusOr<ShellResult> RunShell(const std::string& command,
                                     const std::string& input) {
  // A reader that goes away must not kill this process.
  signal(SIGPIPE, SIG_IGN);
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
  }
  auto child = ChildProcess::Start({"/bin/sh", "-c", command}, pipe_fds[0]);
  ::close(pipe_fds[0]);
  if (!child.ok()) {
    ::close(pipe_fds[1]);
    return child.status();
  }
  Feed(pipe_fds[1], input);
  ShellResult result;
  std::optional<int> status;
  while (!(status = child->Poll())) {
    const int taken = TakeTerminationSignal(std::chrono::milliseconds(50));
    if (taken != 0) {
      child->Signal(taken);
      result.forwarded_signal = taken;
    }
  }
  result.status = *status;
  return result;
}

}  // namespace etcdisc::cli
