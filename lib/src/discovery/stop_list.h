// The registrations and subscriptions of a client that are still alive, to
// stop them all, side by side, when the client shuts down.
#ifndef ETCDISC_DISCOVERY_STOP_LIST_H_
#define ETCDISC_DISCOVERY_STOP_LIST_H_

#include <chrono>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "discovery/stoppable.h"
#include "util/mutex.h"

namespace etcdisc::internal {

// Safe for concurrent use.
class StopList {
 public:
  // Adds `s` until it goes away; FailedPrecondition once closed.
  absl::Status Add(std::weak_ptr<Stoppable> s) ABSL_LOCKS_EXCLUDED(mu_);
  bool closed() const ABSL_LOCKS_EXCLUDED(mu_);
  // What is on the list and still alive.
  std::vector<std::shared_ptr<Stoppable>> Live() const ABSL_LOCKS_EXCLUDED(mu_);
  // Closes the list and stops everything on it, with at most 16 threads at
  // once, each stop given until `deadline`. Only the first call stops
  // anything; it returns false to the others.
  bool CloseAndStopAll(std::chrono::steady_clock::time_point deadline)
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable Mutex mu_;
  std::vector<std::weak_ptr<Stoppable>> live_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace etcdisc::internal

#endif  // ETCDISC_DISCOVERY_STOP_LIST_H_
