// Follows the keys under one prefix (the hosts of a service, the members of
// a cluster): which appear, which go, with no gap and no repeat across
// reconnects and compaction.
#ifndef ETCDISC_DISCOVERY_PREFIX_WATCH_H_
#define ETCDISC_DISCOVERY_PREFIX_WATCH_H_

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "discovery/client_core.h"
#include "etcd/watch_hub.h"
#include "util/backoff.h"
#include "util/mutex.h"

namespace etcdisc::internal {

// What a PrefixWatch watches, and how it names it in logs and errors.
struct PrefixSpec {
  std::string prefix;  // Ends with '/'.
  // For logs, metrics and errors: the service or cluster name, and what it
  // is ("service \"web\"", "cluster \"jobs\"").
  std::string name;
  std::string what;
  // The key prefix a watcher's etcd role needs read on, named when etcd
  // refuses the read.
  std::string role_prefix;
};

// Where a PrefixWatch delivers. Called with the watch's lock held, one call
// at a time, in etcd's revision order; must not block (push to a queue).
// A delivery that returns kClosed / false (its queue closed) ends the watch.
struct PrefixSink {
  enum class Take { kTaken, kMalformed, kClosed };
  // A key appeared, or a key whose value was malformed was written again.
  // kMalformed: skipped (the sink says why in the log); its key is never
  // reported gone.
  std::function<Take(const KeyValue& kv)> on_new;
  // A key taken by on_new went (deleted, or its lease expired); with the
  // create revision it had.
  std::function<bool(const std::string& key, int64_t create_revision)> on_gone;
  // Optional. A key taken already was written again (its value changed in
  // place, or it was re-read unchanged after a re-read).
  std::function<void(const KeyValue& kv)> on_update;
  // Optional. Everything up to etcd revision `revision` is delivered: after
  // the first read, after each watch update, after each re-read. It never
  // goes back, except on a re-read after etcd's store itself went back.
  std::function<void(int64_t revision)> on_settled;
  // The watch ended for good (client shut down, or etcd refused this user
  // the read); called without the watch's lock.
  std::function<void(const absl::Status& why)> on_end;
  // For metrics: "new", "down", "events", "members", and how many events
  // wait.
  std::string kind;
  std::function<size_t()> queue_depth;
};

// Reads the prefix once, then watches it from the next revision. It
// remembers which keys are live, so that whenever it must read again - etcd
// compacted past the watch, etcd was wiped or replaced, or the periodic
// reconciliation found a difference - it delivers exactly the difference:
// on_new for keys that appeared, on_gone for keys that went. A key the sink
// finds malformed is never reported gone.
//
// Reconciliation (ClientOptions::reconcile_interval, and after every
// reconnect of the watch): a keys-only read compared with what it remembers.
// When they differ it waits a second for the watch to deliver what it may be
// delivering, compares again, and re-reads in full only if they still differ
// (counted in ClientStats::corrections when the re-read changed the view).
//
// Re-reads run on the client's watch pool; one that fails, or that keeps
// being needed, waits a growing backoff (up to 5 s) before the next. A watch
// or re-read that etcd refuses for this user's permissions ends the watch
// through on_end (PermissionDenied naming the prefix): never retried.
// Safe for concurrent use.
class PrefixWatch final : public Stoppable,
                          public std::enable_shared_from_this<PrefixWatch> {
 public:
  PrefixWatch(std::shared_ptr<ClientCore> core, PrefixSpec spec,
              PrefixSink sink);

  // Reads the current keys (delivering them to on_new if `existing`) and
  // starts watching. Unavailable / DeadlineExceeded if etcd cannot be read.
  absl::Status Start(bool existing) ABSL_LOCKS_EXCLUDED(mu_);
  // Ends the watch; nothing is delivered after this returns.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);
  void StopBy(std::chrono::steady_clock::time_point deadline) override;
  void AddMetrics(ClientMetrics* out) const override ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Known {
    int64_t create_revision = 0;
    bool announced = false;  // Taken by on_new (or live at the start).
  };
  enum class Reread { kAfterEnd, kCorrection };

  void OnUpdate(WatchUpdate update) ABSL_LOCKS_EXCLUDED(mu_);
  void Resync(Reread why) ABSL_LOCKS_EXCLUDED(mu_);
  // Delivers what the re-read `current` shows and watches on from it.
  void Apply(Reread why, const RangeResponse& current) ABSL_LOCKS_EXCLUDED(mu_);
  // `status` wrapped to name the prefix, if it is etcd refusing this user
  // (PermissionDenied, Unauthenticated); OK otherwise.
  absl::Status RefusalOf(const absl::Status& status) const;
  // On a refusal: stops for good and returns it, for the sink's on_end.
  absl::Status EndIfRefusedLocked(const absl::Status& status)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Compares a keys-only read with known_; on a difference, Verify()s it a
  // moment later. `periodic`: the one of reconcile_interval, which schedules
  // the next; otherwise a check after a reconnect.
  void Reconcile(bool periodic) ABSL_LOCKS_EXCLUDED(mu_);
  // Compares again; re-reads in full if known_ still differs from etcd.
  void Verify() ABSL_LOCKS_EXCLUDED(mu_);
  void PostReconcileLocked(bool periodic) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ScheduleResyncLocked(Reread why) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ScheduleReconcileLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether the keys (and create revisions) in `kvs` are what known_ holds.
  bool MatchesLocked(const std::vector<KeyValue>& kvs) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Delivers the difference between known_ and `kvs`.
  void ApplySnapshotLocked(const std::vector<KeyValue>& kvs)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WatchFromLocked(int64_t revision) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ApplyPutLocked(const KeyValue& kv) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ApplyDeleteLocked(const std::string& key)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Tells the sink that everything up to `revision` is delivered.
  void SettledLocked(int64_t revision) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Hands `kv` to on_new; returns whether the sink took it.
  bool AnnounceLocked(const KeyValue& kv) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The sink refused a delivery: end the watch (returned, to cancel unlocked).
  WatchId CloseLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::shared_ptr<ClientCore> core_;
  const PrefixSpec spec_;
  const PrefixSink sink_;

  mutable Mutex mu_;
  std::map<std::string, Known> known_ ABSL_GUARDED_BY(mu_);
  WatchId watch_ ABSL_GUARDED_BY(mu_) = 0;
  // The revision last told to the sink: watch updates never lower it; only a
  // re-read does, after etcd's store went back.
  int64_t settled_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  bool sink_closed_ ABSL_GUARDED_BY(mu_) = false;
  bool resync_pending_ ABSL_GUARDED_BY(mu_) = false;
  Backoff backoff_ ABSL_GUARDED_BY(mu_);
  std::chrono::steady_clock::time_point last_resync_ ABSL_GUARDED_BY(mu_);
};

}  // namespace etcdisc::internal

#endif  // ETCDISC_DISCOVERY_PREFIX_WATCH_H_
