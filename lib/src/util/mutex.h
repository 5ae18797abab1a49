// The mutex etcdisc's internals lock with: absl::Mutex, except in a
// ThreadSanitizer build (ETCDISC_STD_MUTEX), where it is a std::mutex that
// the sanitizer can see. Debian's abseil is not built for ThreadSanitizer, so
// the sanitizer cannot see absl::Mutex hand data from thread to thread and
// would report every guarded field as a race.
#ifndef ETCDISC_UTIL_MUTEX_H_
#define ETCDISC_UTIL_MUTEX_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

#ifdef ETCDISC_STD_MUTEX
#include <condition_variable>
#include <mutex>

#include "absl/time/time.h"
#endif

namespace etcdisc::internal {

#ifndef ETCDISC_STD_MUTEX

using Mutex = absl::Mutex;
using MutexLock = absl::MutexLock;

#else

// The subset of absl::Mutex that etcdisc uses. Every Unlock wakes the
// waiters of Await, which re-check their condition, as absl::Mutex does.
class ABSL_LOCKABLE Mutex {
 public:
  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mu_.lock(); }
  void Unlock() ABSL_UNLOCK_FUNCTION() {
    // Notify before unlocking: once unlocked, a waiter may return and destroy
    // this mutex.
    cv_.notify_all();
    mu_.unlock();
  }
  void Await(const absl::Condition& condition)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(this) {
    std::unique_lock<std::mutex> lock(mu_, std::adopt_lock);
    cv_.wait(lock, [&] { return condition.Eval(); });
    lock.release();
  }
  bool AwaitWithTimeout(const absl::Condition& condition,
                        absl::Duration timeout)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(this) {
    std::unique_lock<std::mutex> lock(mu_, std::adopt_lock);
    const bool met = cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                                  [&] { return condition.Eval(); });
    lock.release();
    return met;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
};

class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) {
    mu_->Lock();
  }
  ~MutexLock() ABSL_UNLOCK_FUNCTION() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

#endif

}  // namespace etcdisc::internal

#endif  // ETCDISC_UTIL_MUTEX_H_
