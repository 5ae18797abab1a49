// A fixed set of threads running posted tasks, for work that waits on etcd.
#ifndef ETCDISC_UTIL_THREAD_POOL_H_
#define ETCDISC_UTIL_THREAD_POOL_H_

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "util/mutex.h"

namespace etcdisc::internal {

// Safe for concurrent use. Shutdown() (or the destructor) drops tasks not yet
// started, waits for running ones and joins the threads; it must not be called
// from one of the pool's own tasks.
class ThreadPool {
 public:
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Queues `task`; returns false (and drops it) after Shutdown().
  bool Post(std::function<void()> task) ABSL_LOCKS_EXCLUDED(mu_);
  void Shutdown() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Work() ABSL_LOCKS_EXCLUDED(mu_);

  Mutex mu_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace etcdisc::internal

#endif  // ETCDISC_UTIL_THREAD_POOL_H_
