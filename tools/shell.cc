#include "tools/shell.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "tools/child_process.h"
#include "tools/cli.h"

namespace etcdisc::cli {
namespace {

// A file in memory holding `input`, read from its start: the command's
// stdin. Written whole before the command starts, so that a command slow to
// read its stdin never holds up this process (nor the signals it passes on).
absl::StatusOr<int> InputFile(const std::string& input) {
  const int fd = ::memfd_create("etcdisc-exec-input", MFD_CLOEXEC);
  if (fd < 0) {
    return absl::InternalError(
        absl::StrCat("memfd_create: ", std::strerror(errno)));
  }
  size_t done = 0;
  while (done < input.size()) {
    const ssize_t n = ::write(fd, input.data() + done, input.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = errno;
      ::close(fd);
      return absl::InternalError(
          absl::StrCat("writing the command's input: ", std::strerror(error)));
    }
    done += static_cast<size_t>(n);
  }
  ::lseek(fd, 0, SEEK_SET);
  return fd;
}

}  // namespace

absl::StatusOr<ShellResult> RunShell(const std::string& command,
                                     const std::string& input) {
  auto stdin_fd = InputFile(input);
  if (!stdin_fd.ok()) return stdin_fd.status();
  auto child = ChildProcess::Start({"/bin/sh", "-c", command}, *stdin_fd);
  ::close(*stdin_fd);
  if (!child.ok()) return child.status();
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
