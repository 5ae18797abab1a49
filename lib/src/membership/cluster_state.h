// What a ClusterView holds: the live members of one cluster as a prefix
// watch reports them, the leader, and the callbacks to call on each event.
#ifndef ETCDISC_MEMBERSHIP_CLUSTER_STATE_H_
#define ETCDISC_MEMBERSHIP_CLUSTER_STATE_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "discovery/client_core.h"
#include "discovery/prefix_watch.h"
#include "etcdisc/membership.h"
#include "util/mutex.h"

namespace etcdisc::internal {

// Events are numbered as they happen and each is posted, in order, to the
// client's serial callback thread, where it is passed to every callback
// added before it happened. A callback added later first gets the state
// at its adding (kUp for each member, kLeader), posted before any event
// after it, so that it sees each change exactly once.
//
// Leader events are decided when the watch has delivered a whole update
// (on_settled), so that a re-read delivering many changes at once yields
// one leader event, not the leaders in between.
//
// Locks: the watch calls the sink under its own lock, which so comes before
// mu_; nothing here calls the watch with mu_ held. Safe for concurrent use.
class ClusterState final : public std::enable_shared_from_this<ClusterState> {
 public:
  ClusterState(std::shared_ptr<ClientCore> core, std::string cluster);

  // Reads the cluster and starts following it. Unavailable when etcd
  // cannot be read; FailedPrecondition after the client shut down.
  absl::Status Start() ABSL_LOCKS_EXCLUDED(mu_);
  // Stops following; no event is delivered after this. Does not wait for a
  // callback running now: see AwaitCallbacksDone.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);
  // Waits until no callback of this view is running (at once on the
  // client's callback thread, where that one would be this caller).
  void AwaitCallbacksDone() ABSL_LOCKS_EXCLUDED(mu_);
  // Drops every callback (and what they captured) here.
  void ReleaseCallbacks() ABSL_LOCKS_EXCLUDED(mu_);

  const std::string& cluster() const { return cluster_; }
  std::vector<etcdisc::Member> members() const ABSL_LOCKS_EXCLUDED(mu_);
  std::optional<etcdisc::Member> leader() const ABSL_LOCKS_EXCLUDED(mu_);
  int64_t revision() const ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status status() const ABSL_LOCKS_EXCLUDED(mu_);

  uint64_t AddCallback(ClusterView::EventCallback callback)
      ABSL_LOCKS_EXCLUDED(mu_);
  void RemoveCallback(uint64_t id) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Callback {
    ClusterView::EventCallback fn;
    uint64_t after = 0;  // Gets the events numbered above this.
    std::atomic<bool> removed{false};
  };

  PrefixSink MakeSink();
  // The watch's deliveries.
  PrefixSink::Take Up(const KeyValue& kv) ABSL_LOCKS_EXCLUDED(mu_);
  void Update(const KeyValue& kv) ABSL_LOCKS_EXCLUDED(mu_);
  void Gone(const std::string& key) ABSL_LOCKS_EXCLUDED(mu_);
  void Settled(int64_t revision) ABSL_LOCKS_EXCLUDED(mu_);
  void End(const absl::Status& why) ABSL_LOCKS_EXCLUDED(mu_);

  std::optional<etcdisc::Member> LeaderLocked() const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Numbers `event` and posts its delivery.
  void EmitLocked(MembershipEvent::Kind kind, etcdisc::Member member)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Deliver(uint64_t number, const MembershipEvent& event)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Calls `callback` with `events` unless it was removed meanwhile.
  void Replay(const std::shared_ptr<Callback>& callback,
              const std::vector<MembershipEvent>& events)
      ABSL_LOCKS_EXCLUDED(mu_);

  const std::shared_ptr<ClientCore> core_;
  const std::string cluster_;
  const std::string prefix_;
  std::shared_ptr<PrefixWatch> watch_;  // Set by Start(), then unchanged.

  mutable Mutex mu_;
  std::map<std::string, etcdisc::Member> members_
      ABSL_GUARDED_BY(mu_);  // By node.
  std::map<int64_t, std::string> by_revision_ ABSL_GUARDED_BY(mu_);
  // The leader last announced: node and revision ("" and 0: none).
  std::string leader_node_ ABSL_GUARDED_BY(mu_);
  int64_t leader_revision_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t revision_ ABSL_GUARDED_BY(mu_) = 0;
  // Stop() ran: nothing more is delivered. (When etcd ends the watch, the
  // events that came before are still delivered.)
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status end_ ABSL_GUARDED_BY(mu_);
  uint64_t events_ ABSL_GUARDED_BY(mu_) = 0;  // Numbered so far.
  std::map<uint64_t, std::shared_ptr<Callback>> callbacks_ ABSL_GUARDED_BY(mu_);
  uint64_t next_callback_ ABSL_GUARDED_BY(mu_) = 0;
  int running_ ABSL_GUARDED_BY(mu_) = 0;  // Deliveries calling back now.
};

}  // namespace etcdisc::internal

#endif  // ETCDISC_MEMBERSHIP_CLUSTER_STATE_H_
