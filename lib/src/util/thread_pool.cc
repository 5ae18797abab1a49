#include "util/thread_pool.h"

#include <algorithm>
#include <utility>

namespace etcdisc::internal {

ThreadPool::ThreadPool(int max_threads)
    : max_threads_(std::max(max_threads, 1)) {}

ThreadPool::~ThreadPool() { Shutdown(); }

bool ThreadPool::Post(std::function<void()> task) {
  MutexLock lock(&mu_);
  if (stopping_) return false;
  tasks_.push_back(std::move(task));
  // Idle threads will take what is queued; start one for what they cannot.
  if (tasks_.size() > static_cast<size_t>(idle_) &&
      static_cast<int>(threads_.size()) < max_threads_) {
    ++idle_;  // Counted from now, so the next Post does not start another.
    threads_.emplace_back([this] { Work(); });
  }
  return true;
}

int ThreadPool::threads() const {
  MutexLock lock(&mu_);
  return static_cast<int>(threads_.size());
}

void ThreadPool::Shutdown() {
  std::deque<std::function<void()>> dropped;
  std::vector<std::thread> threads;
  {
    MutexLock lock(&mu_);
    stopping_ = true;
    dropped.swap(tasks_);
    threads.swap(threads_);
  }
  dropped.clear();  // Outside the lock: tasks may own things that post.
  for (auto& t : threads) t.join();
}

void ThreadPool::Work() {
  while (true) {
    std::function<void()> task;
    {
      MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](ThreadPool* p) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return p->stopping_ || !p->tasks_.empty();
          },
          this));
      --idle_;
      if (stopping_) return;
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
    task = nullptr;
    MutexLock lock(&mu_);
    ++idle_;
  }
}

}  // namespace etcdisc::internal
