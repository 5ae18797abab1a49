// Keeps etcd leases alive over ONE LeaseKeepAlive stream per client.
#ifndef ETCDISC_ETCD_LEASE_KEEPER_H_
#define ETCDISC_ETCD_LEASE_KEEPER_H_

#include <chrono>
#include <deque>
#include <cstdint>
#include <functional>
#include <map>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "etcd/stream_supervisor.h"
#include "rpc.pb.h"

namespace etcdisc::internal {

// Why a kept lease ended without Forget().
using LeaseLostHandler = std::function<void(const absl::Status& why)>;

// Refreshes every kept lease every third of its TTL (or as asked) over one
// shared stream (answered or not), and tells a lease's owner once when etcd
// answers that the lease no longer exists (NotFound). Nothing else counts as a
// loss: a refresh answered late, or a stream that is down, leaves the lease
// kept; etcd's own answer on the next stream decides. (A client that guessed a
// loss from its own clock would replace leases that etcd still holds, and every
// watcher would see its host go down and come back.) A lost lease is forgotten.
//
// When the stream breaks, it reopens on the next member and refreshes every
// lease at once. With more than one member, a stream whose refresh stays
// unanswered for half the lease's TTL (a paused or cut-off member) is left
// for the next member, while the time left before expiry still allows a
// refresh there.
//
// Safe for concurrent use. Lost handlers run on a gRPC thread, never with the
// keeper's lock held; they must not block. Shutdown() before destruction, and
// the scheduler's shutdown between the two.
class LeaseKeeper final
    : public StreamSupervisor<etcdserverpb::LeaseKeepAliveRequest,
                              etcdserverpb::LeaseKeepAliveResponse> {
 public:
  using Clock = std::chrono::steady_clock;

  LeaseKeeper(Connection* connection, Scheduler* scheduler);
  ~LeaseKeeper() override;

  // Starts keeping `id`, granted with `ttl_seconds` just now. Keeping a lease
  // already kept replaces its handler. `asked_at`, when known, is when the
  // grant was asked for (see ValidUntil); the first refresh is counted from
  // it. `every`, when shorter than a third
  // of the TTL, is how often it is refreshed (a long lease that should end
  // soon after its keeper stops).
  void Keep(int64_t id, int64_t ttl_seconds, LeaseLostHandler on_lost,
            Clock::time_point asked_at = {}, Clock::duration every = {})
      ABSL_LOCKS_EXCLUDED(mu_);
  // Stops keeping `id`; its handler will not be called after this returns...
  // unless it is running now on another thread.
  void Forget(int64_t id) ABSL_LOCKS_EXCLUDED(mu_);
  // Whether `id` is kept (not reported lost, not forgotten).
  bool IsKept(int64_t id) const ABSL_LOCKS_EXCLUDED(mu_);
  // A time until which etcd surely holds `id`: the send time of the newest
  // request etcd answered for it (the grant's, or a refresh's) plus the TTL
  // in that answer, since etcd counts the TTL from when the request reached
  // it. The epoch (already past) when not kept or not yet known.
  Clock::time_point ValidUntil(int64_t id) const ABSL_LOCKS_EXCLUDED(mu_);

  // How many leases are kept now.
  size_t size() const ABSL_LOCKS_EXCLUDED(mu_);

  // For tests: answers for which `deliver(lease id)` is false are dropped as
  // if they never came (a member whose answers are late). nullptr: deliver
  // all.
  void SetAnswerFilterForTesting(std::function<bool(int64_t id)> deliver)
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Kept {
    Clock::duration ttl;
    Clock::duration every;  // Between refreshes.
    Clock::time_point next_send;
    Clock::time_point sent_at;  // Of the oldest unanswered request, if any.
    bool awaiting = false;
    // When each refresh not yet answered on this stream was sent, oldest
    // first (etcd answers them in order): for the round-trip metric.
    std::deque<Clock::time_point> unanswered;
    // Unanswered refreshes sent after those whose times are kept: counted,
    // not timed.
    int unrecorded = 0;
    Clock::time_point valid_until;  // See ValidUntil.
    LeaseLostHandler on_lost;
  };
  using Lost = std::vector<std::pair<LeaseLostHandler, absl::Status>>;

  void OnStreamOpenedLocked() override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnStreamLostLocked() override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnStreamResponse(Stream* stream,
                        const etcdserverpb::LeaseKeepAliveResponse& response)
      override ABSL_LOCKS_EXCLUDED(mu_);

  void Tick() ABSL_LOCKS_EXCLUDED(mu_);
  void ScheduleTickLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SendDueLocked(Clock::time_point now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool StalledLocked(Clock::time_point now) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static void RunLost(Lost lost);

  std::map<int64_t, Kept> leases_ ABSL_GUARDED_BY(mu_);
  bool tick_scheduled_ ABSL_GUARDED_BY(mu_) = false;
  std::function<bool(int64_t id)> answer_filter_ ABSL_GUARDED_BY(mu_);
};

}  // namespace etcdisc::internal

#endif  // ETCDISC_ETCD_LEASE_KEEPER_H_
