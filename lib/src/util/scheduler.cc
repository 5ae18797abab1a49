#include "util/scheduler.h"

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace etcdisc::internal {

Scheduler::Scheduler() : thread_([this] { Loop(); }) {}

Scheduler::~Scheduler() { Shutdown(); }

Scheduler::TaskId Scheduler::RunAfter(Clock::duration delay,
                                      std::function<void()> task) {
  MutexLock lock(&mu_);
  if (stopping_) return 0;
  const TaskId id = next_id_++;
  tasks_.emplace(std::make_pair(Clock::now() + delay, id), std::move(task));
  return id;
}

bool Scheduler::Cancel(TaskId id) {
  MutexLock lock(&mu_);
  for (auto it = tasks_.begin(); it != tasks_.end(); ++it) {
    if (it->first.second == id) {
      tasks_.erase(it);
      return true;
    }
  }
  return false;
}

void Scheduler::Shutdown() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
    tasks_.clear();
  }
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) {
    thread_.join();
  }
}

void Scheduler::Loop() {
  MutexLock lock(&mu_);
  while (!stopping_) {
    if (tasks_.empty()) {
      mu_.Await(absl::Condition(
          +[](Scheduler* s) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return s->stopping_ || !s->tasks_.empty();
          },
          this));
      continue;
    }
    const auto due = tasks_.begin()->first.first;
    const auto now = Clock::now();
    if (due > now) {
      // Wakes early when a sooner task arrives or on shutdown.
      const size_t count = tasks_.size();
      const auto first_id = tasks_.begin()->first.second;
      struct Args {
        Scheduler* self;
        size_t count;
        TaskId first_id;
      } args{this, count, first_id};
      mu_.AwaitWithTimeout(
          absl::Condition(
              +[](Args* a) ABSL_NO_THREAD_SAFETY_ANALYSIS {
                return a->self->stopping_ ||
                       a->self->tasks_.size() != a->count ||
                       a->self->tasks_.begin()->first.second != a->first_id;
              },
              &args),
          absl::FromChrono(due - now));
      continue;
    }
    auto task = std::move(tasks_.begin()->second);
    tasks_.erase(tasks_.begin());
    mu_.Unlock();
    task();
    mu_.Lock();
  }
}

}  // namespace etcdisc::internal
