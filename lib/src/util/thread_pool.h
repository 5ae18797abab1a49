// Threads that run posted tasks, for work that waits on etcd.
#ifndef ETCDISC_UTIL_THREAD_POOL_H_
#define ETCDISC_UTIL_THREAD_POOL_H_

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "util/mutex.h"

namespace etcdisc::internal {

// Starts a thread when a task is posted and every thread is busy, up to
// `max_threads`; past that, tasks wait in order. So a few tasks blocked on a
// slow etcd hold back others only once `max_threads` are blocked. Threads
// stay until Shutdown.
//
// Safe for concurrent use. Shutdown() (or the destructor) drops tasks not yet
// started, waits for running ones and joins the threads; it must not be called
// from one of the pool's own tasks.
class ThreadPool {
 public:
  explicit ThreadPool(int max_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Queues `task`; returns false (and drops it) after Shutdown().
  bool Post(std::function<void()> task) ABSL_LOCKS_EXCLUDED(mu_);
  void Shutdown() ABSL_LOCKS_EXCLUDED(mu_);
  // Threads started so far.
  int threads() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Work() ABSL_LOCKS_EXCLUDED(mu_);

  const int max_threads_;
  mutable Mutex mu_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  int idle_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(mu_);
};

}  // namespace etcdisc::internal

#endif  // ETCDISC_UTIL_THREAD_POOL_H_
