#include "util/serial_executor.h"

#include <utility>

namespace etcdisc::internal {

SerialExecutor::SerialExecutor() : thread_([this] { Loop(); }) {}

SerialExecutor::~SerialExecutor() { Shutdown(); }

bool SerialExecutor::Post(std::function<void()> task) {
  MutexLock lock(&mu_);
  if (stopping_) return false;
  tasks_.push_back(std::move(task));
  ++posted_;
  return true;
}

void SerialExecutor::Flush() {
  if (OnExecutorThread()) return;
  MutexLock lock(&mu_);
  struct Wait {
    SerialExecutor* self;
    uint64_t target;
  } wait{this, posted_};
  mu_.Await(absl::Condition(
      +[](Wait* w) ABSL_NO_THREAD_SAFETY_ANALYSIS {
        return w->self->finished_ >= w->target;
      },
      &wait));
}

bool SerialExecutor::OnExecutorThread() const {
  return std::this_thread::get_id() == thread_.get_id();
}

void SerialExecutor::Shutdown() {
  {
    MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  if (thread_.joinable() && !OnExecutorThread()) thread_.join();
}

void SerialExecutor::Loop() {
  while (true) {
    std::function<void()> task;
    {
      MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](SerialExecutor* e) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return e->stopping_ || !e->tasks_.empty();
          },
          this));
      if (tasks_.empty()) return;  // Stopping, and everything has run.
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
    task = nullptr;  // Before counting it done: it may own what a waiter frees.
    MutexLock lock(&mu_);
    ++finished_;
  }
}

}  // namespace etcdisc::internal
