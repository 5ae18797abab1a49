#include "tools/child_process.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

extern char** environ;

namespace etcdisc::cli {
namespace {

// Default signals, none blocked, and a process group of its own.
void SetChildSignals(posix_spawnattr_t* attr) {
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(attr, &none);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int signal_number : {SIGINT, SIGTERM, SIGPIPE, SIGHUP, SIGQUIT}) {
    sigaddset(&defaults, signal_number);
  }
  posix_spawnattr_setsigdefault(attr, &defaults);
  posix_spawnattr_setpgroup(attr, 0);
  posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGMASK |
                                     POSIX_SPAWN_SETSIGDEF |
                                     POSIX_SPAWN_SETPGROUP);
}

}  // namespace

absl::StatusOr<ChildProcess> ChildProcess::Start(
    const std::vector<std::string>& argv, int stdin_fd) {
  if (argv.empty()) return absl::InvalidArgumentError("no command to run");
  std::vector<std::string> copies = argv;
  std::vector<char*> args;
  for (std::string& arg : copies) args.push_back(arg.data());
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (stdin_fd >= 0) {
    posix_spawn_file_actions_adddup2(&actions, stdin_fd, STDIN_FILENO);
  }
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  SetChildSignals(&attr);
  pid_t pid = -1;
  const int spawned =
      posix_spawnp(&pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (spawned == ENOENT) {
    return absl::NotFoundError(
        absl::StrCat("cannot run ", argv[0], ": no such command"));
  }
  if (spawned != 0) {
    return absl::InternalError(
        absl::StrCat("cannot run ", argv[0], ": ", std::strerror(spawned)));
  }
  return ChildProcess(pid);
}

std::optional<int> ChildProcess::Poll() {
  if (status_) return status_;
  int status = 0;
  pid_t done;
  do {
    done = ::waitpid(pid_, &status, WNOHANG);
  } while (done < 0 && errno == EINTR);
  if (done == 0) return std::nullopt;
  if (done < 0) {
    status_ = 127;  // Not our child any more: nothing to wait for.
  } else {
    status_ =
        WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
  }
  return status_;
}

void ChildProcess::Signal(int signal) {
  if (!status_) ::kill(-pid_, signal);
}

}  // namespace etcdisc::cli
