// Runs a program as a child process for end-to-end tests: to completion, or in
// the background with its output read line by line.
#ifndef ETCDISC_TEST_SUPPORT_PROCESS_H_
#define ETCDISC_TEST_SUPPORT_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace etcdisc::testing {

struct ProcessResult {
  int exit_code = -1;  // -1 if killed by a signal.
  std::string out;
  std::string err;
};

// Runs `argv` with `env` added to the environment, waits for it (killing it
// after `timeout`), and returns its exit code and output.
ProcessResult RunProcess(const std::vector<std::string>& argv,
                         const std::map<std::string, std::string>& env = {},
                         std::chrono::milliseconds timeout =
                             std::chrono::seconds(30));

// A child process whose stdout is read line by line; its stderr is the
// test's, and its stdin this process's unless `with_stdin` gives it a pipe
// for WriteLine. Not thread-safe. The destructor kills it (SIGKILL) if it
// still runs.
class BackgroundProcess {
 public:
  explicit BackgroundProcess(const std::vector<std::string>& argv,
                             const std::map<std::string, std::string>& env = {},
                             bool with_stdin = false);
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  // The next line of stdout, without its newline; nothing on timeout or EOF.
  std::optional<std::string> ReadLine(std::chrono::milliseconds timeout);
  // The whole lines of stdout that have arrived, without waiting.
  std::vector<std::string> TakeLines();
  // Writes `line` and a newline to its stdin (made `with_stdin`); false
  // when that fails.
  bool WriteLine(const std::string& line);
  void Signal(int signal);
  // Waits for the process to end; its exit code, or -1 when killed by a
  // signal or not ended within `timeout`.
  int Wait(std::chrono::milliseconds timeout);
  // Without waiting: "running", "exited with N" or "killed by signal N".
  std::string HowItEnded();
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int in_fd_ = -1;
  std::string buffer_;
  bool exited_ = false;
};

// How `process` is, for a failure message: how it ended, or "running" with
// its threads' stacks (when gdb is installed).
std::string DescribeProcess(BackgroundProcess& process);

}  // namespace etcdisc::testing

#endif  // ETCDISC_TEST_SUPPORT_PROCESS_H_
