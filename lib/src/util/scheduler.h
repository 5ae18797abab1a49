// A single timer thread that runs delayed tasks in time order.
#ifndef ETCDISC_UTIL_SCHEDULER_H_
#define ETCDISC_UTIL_SCHEDULER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "util/mutex.h"

namespace etcdisc::internal {

// Runs tasks at or after a given time on one thread of its own. Tasks run one
// at a time and must not block for long: they share the thread with every
// other timer of the client. Safe for concurrent use. The destructor cancels
// tasks not yet started, waits for a running one, and joins the thread.
class Scheduler {
 public:
  using Clock = std::chrono::steady_clock;
  using TaskId = uint64_t;

  Scheduler();
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Runs `task` once, `delay` from now. Returns an id for Cancel(). After
  // Shutdown() the task is dropped and 0 is returned.
  TaskId RunAfter(Clock::duration delay, std::function<void()> task);
  // Cancels a task that has not started yet; returns whether it was pending.
  bool Cancel(TaskId id);
  // Drops pending tasks, waits for a running one, joins the thread. Idempotent.
  void Shutdown();

 private:
  void Loop();

  Mutex mu_;
  // Keyed by (due time, id) so that equal times keep their order.
  std::map<std::pair<Clock::time_point, TaskId>, std::function<void()>> tasks_
      ABSL_GUARDED_BY(mu_);
  TaskId next_id_ ABSL_GUARDED_BY(mu_) = 1;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace etcdisc::internal

#endif  // ETCDISC_UTIL_SCHEDULER_H_
