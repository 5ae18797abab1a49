#include "support/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>

namespace etcdisc::testing {
namespace {

using Clock = std::chrono::steady_clock;

// The environment of this process with `env` added (or replacing), as
// "KEY=VALUE" strings.
std::vector<std::string> EnvironmentWith(
    const std::map<std::string, std::string>& env) {
  std::vector<std::string> out;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    const std::string key = entry.substr(0, entry.find('='));
    if (env.count(key) == 0) out.push_back(entry);
  }
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

std::vector<char*> Pointers(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (const auto& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

// Forks and execs `argv` with stdout and stderr to the given descriptors, and
// stdin from `in_fd` unless it is -1.
// Everything is allocated before the fork: the child of a process with
// threads only calls what is safe there.
pid_t Spawn(const std::vector<std::string>& argv,
            const std::map<std::string, std::string>& env, int in_fd,
            int out_fd, int err_fd) {
  std::vector<char*> args = Pointers(argv);
  const std::vector<std::string> environment = EnvironmentWith(env);
  std::vector<char*> envp = Pointers(environment);
  const std::string failed = "cannot run " + argv.at(0) + "\n";
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  if (in_fd >= 0) ::dup2(in_fd, STDIN_FILENO);
  ::dup2(out_fd, STDOUT_FILENO);
  if (err_fd != STDERR_FILENO) ::dup2(err_fd, STDERR_FILENO);
  // Signals blocked by the test runner must not stay blocked in the child.
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::execve(args[0], args.data(), envp.data());
  [[maybe_unused]] ssize_t n = ::write(STDERR_FILENO, failed.data(), failed.size());
  ::_exit(127);
}

int ExitCodeOf(int wstatus) {
  return WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
}

}  // namespace

ProcessResult RunProcess(const std::vector<std::string>& argv,
                         const std::map<std::string, std::string>& env,
                         std::chrono::milliseconds timeout) {
  int out[2], err[2];
  ProcessResult result;
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
    return result;
  }
  const pid_t pid = Spawn(argv, env, -1, out[1], err[1]);
  ::close(out[1]);
  ::close(err[1]);
  const auto until = Clock::now() + timeout;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open_fds = 2;
  while (open_fds > 0 && Clock::now() < until) {
    if (::poll(fds, 2, 50) <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
      char chunk[4096];
      const ssize_t n = ::read(fds[i].fd, chunk, sizeof(chunk));
      if (n <= 0) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      } else {
        (i == 0 ? result.out : result.err).append(chunk, n);
      }
    }
  }
  for (auto& f : fds) {
    if (f.fd >= 0) ::close(f.fd);
  }
  if (open_fds > 0) ::kill(pid, SIGKILL);
  int wstatus = 0;
  ::waitpid(pid, &wstatus, 0);
  result.exit_code = ExitCodeOf(wstatus);
  return result;
}

BackgroundProcess::BackgroundProcess(
    const std::vector<std::string>& argv,
    const std::map<std::string, std::string>& env, bool with_stdin) {
  int out[2], in[2] = {-1, -1};
  if (::pipe2(out, O_CLOEXEC) != 0) return;
  if (with_stdin && ::pipe2(in, O_CLOEXEC) != 0) return;
  // Its stderr goes to the test's, where a failure's log shows it.
  pid_ = Spawn(argv, env, in[0], out[1], STDERR_FILENO);
  ::close(out[1]);
  out_fd_ = out[0];
  if (with_stdin) {
    ::close(in[0]);
    in_fd_ = in[1];
  }
}

BackgroundProcess::~BackgroundProcess() {
  if (pid_ > 0 && !exited_) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  if (out_fd_ >= 0) ::close(out_fd_);
  if (in_fd_ >= 0) ::close(in_fd_);
}

bool BackgroundProcess::WriteLine(const std::string& line) {
  const std::string text = line + "\n";
  size_t done = 0;
  while (in_fd_ >= 0 && done < text.size()) {
    const ssize_t n = ::write(in_fd_, text.data() + done, text.size() - done);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return done == text.size();
}

std::optional<std::string> BackgroundProcess::ReadLine(
    std::chrono::milliseconds timeout) {
  const auto until = Clock::now() + timeout;
  while (true) {
    const size_t newline = buffer_.find('\n');
    if (newline != std::string::npos) {
      std::string line = buffer_.substr(0, newline);
      buffer_.erase(0, newline + 1);
      return line;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - Clock::now());
    if (left.count() <= 0 || out_fd_ < 0) return std::nullopt;
    pollfd fd{out_fd_, POLLIN, 0};
    if (::poll(&fd, 1, static_cast<int>(left.count())) <= 0) continue;
    char chunk[4096];
    const ssize_t n = ::read(out_fd_, chunk, sizeof(chunk));
    if (n <= 0) return std::nullopt;
    buffer_.append(chunk, n);
  }
}

std::vector<std::string> BackgroundProcess::TakeLines() {
  while (out_fd_ >= 0) {
    pollfd fd{out_fd_, POLLIN, 0};
    if (::poll(&fd, 1, 0) <= 0) break;
    char chunk[4096];
    const ssize_t n = ::read(out_fd_, chunk, sizeof(chunk));
    if (n <= 0) break;
    buffer_.append(chunk, n);
  }
  std::vector<std::string> lines;
  for (size_t newline; (newline = buffer_.find('\n')) != std::string::npos;) {
    lines.push_back(buffer_.substr(0, newline));
    buffer_.erase(0, newline + 1);
  }
  return lines;
}

void BackgroundProcess::Signal(int signal) {
  if (pid_ > 0 && !exited_) ::kill(pid_, signal);
}

int BackgroundProcess::Wait(std::chrono::milliseconds timeout) {
  const auto until = Clock::now() + timeout;
  while (Clock::now() < until) {
    int wstatus = 0;
    if (::waitpid(pid_, &wstatus, WNOHANG) == pid_) {
      exited_ = true;
      return ExitCodeOf(wstatus);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return -1;
}

std::string BackgroundProcess::HowItEnded() {
  if (exited_) return "ended (already waited for)";
  int wstatus = 0;
  if (::waitpid(pid_, &wstatus, WNOHANG) != pid_) return "running";
  exited_ = true;
  if (WIFSIGNALED(wstatus)) {
    return "killed by signal " + std::to_string(WTERMSIG(wstatus)) +
           (WCOREDUMP(wstatus) ? " (core dumped)" : "");
  }
  return "exited with " + std::to_string(WEXITSTATUS(wstatus));
}

std::string DescribeProcess(BackgroundProcess& process) {
  const std::string state = process.HowItEnded();
  if (state != "running") return state;
  if (::access("/usr/bin/gdb", X_OK) != 0) {
    return "running (install gdb to see its threads)";
  }
  const ProcessResult gdb =
      RunProcess({"/usr/bin/gdb", "-p", std::to_string(process.pid()),
                  "-batch", "-ex", "thread apply all bt"});
  return "running; its threads:\n" + gdb.out;
}

}  // namespace etcdisc::testing
