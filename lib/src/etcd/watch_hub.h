// ONE etcd Watch stream per client, multiplexing every watcher.
#ifndef ETCDISC_ETCD_WATCH_HUB_H_
#define ETCDISC_ETCD_WATCH_HUB_H_

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "util/mutex.h"
#include "etcd/stream_supervisor.h"
#include "etcd/types.h"
#include "rpc.pb.h"

namespace etcdisc::internal {

struct WatchOptions {
  std::string key;
  std::string range_end;    // Empty: just `key`. See PrefixRangeEnd().
  int64_t start_revision = 0;  // First revision to deliver; 0: from now.
  bool prev_kv = false;        // Deliver each key's previous value too.
  // Ask etcd for periodic empty updates while nothing changes, so that the
  // watcher's resume revision keeps up (fewer replays after a reconnect).
  bool progress_notify = false;
};

// What a watcher receives: events in revision order, a progress mark, or its
// end.
struct WatchUpdate {
  std::vector<WatchEvent> events;
  // The store's revision when etcd sent this update; every later event has a
  // higher one.
  int64_t revision = 0;
  // Not OK when the watch has ended for good and nothing more will come.
  // OutOfRange when its start revision was compacted (compact_revision is
  // then the oldest revision still available: re-read and watch again from
  // the read's revision + 1); Aborted when etcd's store went back behind the
  // revisions already delivered (wiped, restored from an old snapshot):
  // re-read too; Cancelled or another code when etcd ended it.
  absl::Status status;
  int64_t compact_revision = 0;
  // Set (with no events) when the watch was created again on a new stream,
  // after a reconnect: a watcher that keeps its own view may check it then,
  // since a member that lost its data can pass for one that did not.
  bool resumed = false;
};

using WatchHandler = std::function<void(WatchUpdate update)>;
using WatchId = int64_t;

// Multiplexes all watchers on one Watch stream. When the stream breaks, its
// member fails or loses its leader, or it stops answering progress requests,
// every watcher resumes on the next member from the revision after the last
// one it was given: nothing lost, nothing repeated.
//
// Watch ids are etcd's: creates go out one at a time and each takes the id in
// the answer to it (as etcd's Go client does). etcd's gRPC proxy ignores ids
// chosen by the client and never answers progress requests, so a member is
// left for not answering a probe only if it has answered one before (a
// member that never does is watched over by HTTP/2 keep-alive pings).
//
// When etcd reports another cluster id than before (the endpoints now reach
// a different or re-created cluster), every watcher ends with Aborted so that
// the layer above re-reads: revisions of the old cluster mean nothing there.
//
// Safe for concurrent use. Handlers run one at a time on a gRPC thread, in
// revision order per watcher; they must not block (hand work to another
// thread). A handler may call Cancel(). Shutdown() before destruction, and the
// scheduler's shutdown between the two.
class WatchHub final : public StreamSupervisor<etcdserverpb::WatchRequest,
                                               etcdserverpb::WatchResponse> {
 public:
  // How often an idle stream is asked for a progress report, and how long it
  // may take to answer before its member is taken as stalled.
  struct Timing {
    std::chrono::milliseconds probe_interval{};
    std::chrono::milliseconds probe_timeout{};
  };

  WatchHub(Connection* connection, Scheduler* scheduler, Timing timing);
  ~WatchHub() override;

  // Starts a watcher. Its handler receives updates until Cancel() or a
  // non-OK update.
  WatchId Watch(WatchOptions options, WatchHandler handler)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Ends a watcher. When this returns, its handler is not running and will
  // not run again (unless called from that handler, which may still finish).
  void Cancel(WatchId id) ABSL_LOCKS_EXCLUDED(mu_, dispatch_mu_);

  // The number of active watchers.
  size_t size() const ABSL_LOCKS_EXCLUDED(mu_);
  // Creates waiting to be sent (for tests).
  size_t queued_creates() const ABSL_LOCKS_EXCLUDED(mu_);

  // For benchmarks and tests, with no stream open: dispatches `response` to
  // watcher `id` as if a stream had received it for that watcher; a
  // `created` response as the answer to a new create of that watcher. A
  // response with another cluster id ends every watcher.
  void DispatchForTesting(WatchId id,
                          const etcdserverpb::WatchResponse& response)
      ABSL_LOCKS_EXCLUDED(mu_, dispatch_mu_);
  // For tests: events for which `deliver` is false are dropped, as a server
  // that lost them would (nullptr: deliver all).
  void SetEventFilterForTesting(
      std::function<bool(const WatchEvent& event)> deliver)
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // etcd's id of a watcher not created on the current stream.
  static constexpr int64_t kNoServerId = -1;

  struct Watcher {
    WatchOptions options;
    WatchHandler handler;
    int64_t next_revision = 0;  // Resume point; 0 until etcd confirms "now".
    int64_t server_id = kNoServerId;  // etcd's id on the current stream.
    bool created_before = false;      // On an earlier stream.
    // Create answers in a row from a member behind next_revision, and the
    // number of the one whose create is to be asked again (older pending
    // asks are stale).
    int behind_answers = 0;
    uint64_t ask_again = 0;
    // The generation of the token a create was last refused with (0: not
    // refused since the last create that succeeded).
    uint64_t refused_generation = 0;
  };

  // How often a create answered by a member behind what a watcher has seen
  // is asked again (after 100 ms, doubling) before the watch ends: a
  // follower that lags catches up within moments, a store that lost its data
  // never does.
  static constexpr int kBehindRetries = 5;
  using Deliveries = std::vector<std::pair<WatchHandler, WatchUpdate>>;

  // A create refused for the stream's token or the user's permissions (etcd
  // 3.4 says "permission denied" for both): the first time, or when refused
  // with the same token again, the stream is opened anew with a new token and
  // every watch resumes on it; returns true. Refused with a newer token too
  // (or with no etcd user), the user lacks permission: returns false and the
  // watch ends.
  bool RenewTokenForLocked(Watcher* watcher,
                           const etcdserverpb::WatchResponse& response)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnStreamOpenedLocked() override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnStreamLostLocked() override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnStreamResponse(Stream* stream,
                        const etcdserverpb::WatchResponse& response) override
      ABSL_LOCKS_EXCLUDED(mu_, dispatch_mu_);

  // Ends every watcher if `response` comes from another cluster than the
  // earlier ones; returns whether it did.
  bool ClusterChangedLocked(const etcdserverpb::WatchResponse& response,
                            Deliveries* out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Turns a response into what to deliver, under mu_.
  void TakeLocked(const etcdserverpb::WatchResponse& response,
                  Deliveries* out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void TakeCreatedLocked(const etcdserverpb::WatchResponse& response,
                         Deliveries* out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The member that answered watcher `it`'s create is behind it: ask again
  // later, or end the watch after kBehindRetries answers in a row.
  void TakeBehindLocked(std::map<WatchId, Watcher>::iterator it,
                        const etcdserverpb::WatchResponse& response,
                        Deliveries* out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Queues watcher `id`'s create again, unless `ask` is stale or the create
  // is queued, in flight or done on the current stream already.
  void RequeueCreateLocked(WatchId id, uint64_t ask)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void TakeForWatcherLocked(WatchId id,
                            const etcdserverpb::WatchResponse& response,
                            Deliveries* out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Ends every watcher: the cluster behind the endpoints changed.
  void EndAllLocked(const absl::Status& why, Deliveries* out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Removes watcher `it`, giving its handler `update` as the last one.
  void EndLocked(std::map<WatchId, Watcher>::iterator it, WatchUpdate update,
                 Deliveries* out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Deliver(Deliveries deliveries)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(dispatch_mu_) ABSL_LOCKS_EXCLUDED(mu_);
  void SendNextCreateLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SendCancelLocked(int64_t server_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ResetStreamStateLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Probe() ABSL_LOCKS_EXCLUDED(mu_);
  void ScheduleProbeLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Timing timing_;
  // Held while a handler runs, so that Cancel() can wait for it.
  Mutex dispatch_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  std::map<WatchId, Watcher> watchers_ ABSL_GUARDED_BY(mu_);
  WatchId next_id_ ABSL_GUARDED_BY(mu_) = 1;
  // Creates on the current stream: one in flight, the rest in order.
  std::map<int64_t, WatchId> by_server_id_ ABSL_GUARDED_BY(mu_);
  std::deque<WatchId> create_queue_ ABSL_GUARDED_BY(mu_);
  WatchId creating_ ABSL_GUARDED_BY(mu_) = 0;  // 0: none in flight.
  uint64_t cluster_id_ ABSL_GUARDED_BY(mu_) = 0;  // 0: not known yet.
  std::function<bool(const WatchEvent&)> event_filter_ ABSL_GUARDED_BY(mu_);
  // Progress probing of the open stream.
  bool probe_scheduled_ ABSL_GUARDED_BY(mu_) = false;
  bool probe_outstanding_ ABSL_GUARDED_BY(mu_) = false;
  bool probing_ ABSL_GUARDED_BY(mu_) = true;  // Off for a non-answering member.
  std::chrono::steady_clock::time_point probe_sent_ ABSL_GUARDED_BY(mu_);
  std::set<uint64_t> probe_answerers_ ABSL_GUARDED_BY(mu_);  // Member ids.
};

}  // namespace etcdisc::internal

#endif  // ETCDISC_ETCD_WATCH_HUB_H_
