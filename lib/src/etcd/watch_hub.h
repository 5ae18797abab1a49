// ONE etcd Watch stream per client, multiplexing every watcher.
#ifndef ETCDISC_ETCD_WATCH_HUB_H_
#define ETCDISC_ETCD_WATCH_HUB_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
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
};

using WatchHandler = std::function<void(WatchUpdate update)>;
using WatchId = int64_t;

// Multiplexes all watchers on one Watch stream. When the stream breaks, its
// member fails or loses its leader, or it stops answering progress requests,
// every watcher resumes on the next member from the revision after the last
// one it was given: nothing lost, nothing repeated.
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
    std::chrono::milliseconds probe_interval{2000};
    std::chrono::milliseconds probe_timeout{3000};
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

  // For benchmarks and tests: dispatches `response` as if the open stream
  // had received it (no stream needs to be open).
  void DispatchForTesting(const etcdserverpb::WatchResponse& response)
      ABSL_LOCKS_EXCLUDED(mu_, dispatch_mu_);

 private:
  struct Watcher {
    WatchOptions options;
    WatchHandler handler;
    int64_t next_revision = 0;  // Resume point; 0 until etcd confirms "now".
    bool sent = false;          // Create request sent on the current stream.
  };

  void OnStreamOpenedLocked() override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnStreamLostLocked() override ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnStreamResponse(Stream* stream,
                        const etcdserverpb::WatchResponse& response) override
      ABSL_LOCKS_EXCLUDED(mu_, dispatch_mu_);

  void Dispatch(const etcdserverpb::WatchResponse& response)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(dispatch_mu_) ABSL_LOCKS_EXCLUDED(mu_);
  void SendCreateLocked(WatchId id, Watcher* watcher)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Turns a response into the update for its watcher, or nothing.
  bool TakeUpdateLocked(const etcdserverpb::WatchResponse& response,
                        WatchHandler* handler, WatchUpdate* update)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Probe() ABSL_LOCKS_EXCLUDED(mu_);
  void ScheduleProbeLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Timing timing_;
  // Held while a handler runs, so that Cancel() can wait for it.
  Mutex dispatch_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  std::map<WatchId, Watcher> watchers_ ABSL_GUARDED_BY(mu_);
  WatchId next_id_ ABSL_GUARDED_BY(mu_) = 1;
  // Progress probing of the open stream.
  bool probe_scheduled_ ABSL_GUARDED_BY(mu_) = false;
  bool probe_outstanding_ ABSL_GUARDED_BY(mu_) = false;
  std::chrono::steady_clock::time_point probe_sent_ ABSL_GUARDED_BY(mu_);
};

}  // namespace etcdisc::internal

#endif  // ETCDISC_ETCD_WATCH_HUB_H_
