// One thread that runs posted tasks one at a time, in the order posted: the
// thread on which etcdisc calls applications back.
#ifndef ETCDISC_UTIL_SERIAL_EXECUTOR_H_
#define ETCDISC_UTIL_SERIAL_EXECUTOR_H_

#include <deque>
#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "util/mutex.h"

namespace etcdisc::internal {

// Safe for concurrent use. A task may Post() more tasks; a task that blocks
// delays every task after it. Shutdown() (or the destructor) runs the tasks
// already posted, then joins the thread; it must not be called from a task.
class SerialExecutor {
 public:
  SerialExecutor();
  ~SerialExecutor();
  SerialExecutor(const SerialExecutor&) = delete;
  SerialExecutor& operator=(const SerialExecutor&) = delete;

  // Queues `task`; false (and dropped) after Shutdown().
  bool Post(std::function<void()> task) ABSL_LOCKS_EXCLUDED(mu_);
  // Waits until every task posted before this call has run. Returns at once
  // when called from a task (which would wait for itself) or after Shutdown.
  void Flush() ABSL_LOCKS_EXCLUDED(mu_);
  // Whether the caller is running on the executor's thread.
  bool OnExecutorThread() const;
  void Shutdown() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Loop() ABSL_LOCKS_EXCLUDED(mu_);

  Mutex mu_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  uint64_t posted_ ABSL_GUARDED_BY(mu_) = 0;    // Tasks ever posted.
  uint64_t finished_ ABSL_GUARDED_BY(mu_) = 0;  // Tasks that have run.
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace etcdisc::internal

#endif  // ETCDISC_UTIL_SERIAL_EXECUTOR_H_
