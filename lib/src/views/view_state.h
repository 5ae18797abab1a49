// What a ServiceView holds: the hosts of one service as a host watch reports
// them, the snapshot readers get, and the callbacks to call on a change.
#ifndef ETCDISC_VIEWS_VIEW_STATE_H_
#define ETCDISC_VIEWS_VIEW_STATE_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "discovery/client_core.h"
#include "discovery/host_watch.h"
#include "etcdisc/view.h"
#include "util/backoff.h"
#include "util/mutex.h"

namespace etcdisc::internal {

// Life: kStarting (first read not done; tried again after a backoff while it
// fails) --first read--> kFollowing --Stop, client shutdown, refusal-->
// kStopped. Callbacks are posted to the client's callback thread: at most
// one run pending per view (a burst of changes coalesces into it), and each
// run reads the snapshot when it starts, so the last run sees the latest.
//
// Locks: the host watch calls the sink under its own lock, which so comes
// before mu_; nothing here calls the watch with mu_ held. Safe for
// concurrent use.
class ViewState final : public std::enable_shared_from_this<ViewState> {
 public:
  ViewState(std::shared_ptr<ClientCore> core, std::string service,
            ViewOptions options);

  // Starts the first read on the client's watch pool. FailedPrecondition
  // after the client shut down.
  absl::Status Start() ABSL_LOCKS_EXCLUDED(mu_);
  // Stops following; callbacks posted already run no more. Does not wait
  // for one that is running: see AwaitCallbacksDone.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);
  // Waits until no callback of this view is running (at once on the
  // client's callback thread, where that one would be this caller).
  void AwaitCallbacksDone() ABSL_LOCKS_EXCLUDED(mu_);
  // Drops every callback (and what they captured) here, not on a pool
  // thread that still holds this state.
  void ReleaseCallbacks() ABSL_LOCKS_EXCLUDED(mu_);

  const std::string& service() const { return service_; }
  HostSnapshot hosts() const ABSL_LOCKS_EXCLUDED(mu_);
  bool ready() const ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status WaitReady(std::chrono::milliseconds timeout) const
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status status() const ABSL_LOCKS_EXCLUDED(mu_);

  uint64_t AddCallback(ServiceView::ChangeCallback callback)
      ABSL_LOCKS_EXCLUDED(mu_);
  void RemoveCallback(uint64_t id) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  enum class Phase { kStarting, kFollowing, kStopped };
  struct Callback {
    ServiceView::ChangeCallback fn;
    std::atomic<bool> removed{false};
  };

  HostSink MakeSink();
  // One attempt at the first read; on failure, the next after a backoff.
  void TryStart() ABSL_LOCKS_EXCLUDED(mu_);
  void RetryStartLater() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The host watch's deliveries.
  void Put(const Host& host) ABSL_LOCKS_EXCLUDED(mu_);
  void Remove(const std::string& uuid) ABSL_LOCKS_EXCLUDED(mu_);
  void Settled(int64_t revision) ABSL_LOCKS_EXCLUDED(mu_);
  void End(const absl::Status& why) ABSL_LOCKS_EXCLUDED(mu_);
  // Whether `host` is one this view shows (its shard, with a shard).
  bool ShowsLocked(const Host& host) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // A new snapshot of the hosts it shows.
  void PublishLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PostRunLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Calls `only`, or every callback when null, with the snapshot now.
  void Run(const std::shared_ptr<Callback>& only) ABSL_LOCKS_EXCLUDED(mu_);

  const std::shared_ptr<ClientCore> core_;
  const std::string service_;
  const ViewOptions options_;
  std::shared_ptr<PrefixWatch> watch_;  // Set by Start(), then unchanged.

  mutable Mutex mu_;
  Phase phase_ ABSL_GUARDED_BY(mu_) = Phase::kStarting;
  std::map<std::string, Host> hosts_ ABSL_GUARDED_BY(mu_);  // By uuid.
  bool changed_ ABSL_GUARDED_BY(mu_) = false;  // Since the last snapshot.
  std::shared_ptr<const std::vector<Host>> list_ ABSL_GUARDED_BY(mu_);
  int64_t revision_ ABSL_GUARDED_BY(mu_) = 0;  // As etcd last said.
  bool ready_ ABSL_GUARDED_BY(mu_) = false;    // First read done.
  absl::Status last_error_ ABSL_GUARDED_BY(mu_);  // Of the first read.
  absl::Status end_ ABSL_GUARDED_BY(mu_);         // Why it stopped.
  Backoff backoff_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, std::shared_ptr<Callback>> callbacks_ ABSL_GUARDED_BY(mu_);
  uint64_t next_callback_ ABSL_GUARDED_BY(mu_) = 0;
  bool run_pending_ ABSL_GUARDED_BY(mu_) = false;
  int running_ ABSL_GUARDED_BY(mu_) = 0;  // Runs calling back now.
};

}  // namespace etcdisc::internal

#endif  // ETCDISC_VIEWS_VIEW_STATE_H_
