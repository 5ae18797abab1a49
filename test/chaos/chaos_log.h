// The line format chaos processes log in, and a writer that flushes each line
// (a process may be killed at any time).
//   START <ms> <pid>               a registrar started; signals now wait for it
//   REG <ms> <service> <uuid>      registered (WaitRegistration returned OK)
//   STOP <ms> <service> <uuid> <ok|error>
//   LIVE <service> <uuid>          still registered when told to go quiet
//   QUIET                          stopped churning
//   NEW <ms> <service> <uuid>      a subscriber saw a host appear
//   DOWN <ms> <service> <uuid>     a subscriber saw a host go
//   RESYNCS <n>                    re-reads after compaction, at exit
//   JOINED <ms> <node> <revision>  a registrar joined the cluster "chaos"
//   CLEANUP <ms> <node> <revision> a registrar ran the cleanup after a member
//   MSTATUS <ms> <revision> <status...>  a registrar's Membership changed
//   VSTATUS <ms> <view> <status...>  a subscriber's view's status() changed
//   MEMBER <ms> up|down <node> <revision>  a subscriber's view of "chaos"
// <ms> is wall-clock milliseconds since the epoch: all processes share it.
#ifndef ETCDISC_TEST_CHAOS_CHAOS_LOG_H_
#define ETCDISC_TEST_CHAOS_CHAOS_LOG_H_

#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>

namespace etcdisc::chaos {

inline int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class LogWriter {
 public:
  // Appends: a process started again after a kill goes on with its log.
  explicit LogWriter(const std::string& path) : file_(std::fopen(path.c_str(), "a")) {}
  ~LogWriter() {
    if (file_) std::fclose(file_);
  }
  bool ok() const { return file_ != nullptr; }
  void Line(const std::string& line) {
    std::lock_guard<std::mutex> lock(mu_);
    std::fprintf(file_, "%s\n", line.c_str());
    std::fflush(file_);
  }

 private:
  std::mutex mu_;
  FILE* file_;
};

}  // namespace etcdisc::chaos

#endif  // ETCDISC_TEST_CHAOS_CHAOS_LOG_H_
