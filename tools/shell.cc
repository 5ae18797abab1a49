#include "tools/shell.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "tools/cli.h"

extern char** environ;

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
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[0], STDIN_FILENO);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int signal_number : {SIGINT, SIGTERM, SIGPIPE}) {
    sigaddset(&defaults, signal_number);
  }
  posix_spawnattr_setsigdefault(&attr, &defaults);
  // Its own process group, so that a signal passed on reaches what the
  // shell started as well.
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF |
                                      POSIX_SPAWN_SETPGROUP);
  std::string sh = "/bin/sh";
  std::string dash_c = "-c";
  std::string text = command;
  char* argv[] = {sh.data(), dash_c.data(), text.data(), nullptr};
  pid_t pid = -1;
  const int spawned =
      posix_spawn(&pid, "/bin/sh", &actions, &attr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(pipe_fds[0]);
  if (spawned != 0) {
    ::close(pipe_fds[1]);
    return absl::InternalError(
        absl::StrCat("cannot run /bin/sh: ", std::strerror(spawned)));
  }
  Feed(pipe_fds[1], input);
  ShellResult result;
  int status = 0;
  while (true) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid || (done < 0 && errno != EINTR)) break;
    const int taken = TakeTerminationSignal(std::chrono::milliseconds(50));
    if (taken != 0) {
      ::kill(-pid, taken);
      result.forwarded_signal = taken;
    }
  }
  result.status =
      WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
  return result;
}

}  // namespace etcdisc::cli
