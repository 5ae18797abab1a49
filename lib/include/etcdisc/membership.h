// Cluster membership: the processes of one application join a cluster
// under node ids unique among its live members, list the members, learn
// when one goes down, run the cleanup after it once in the whole cluster,
// and agree on a leader. No polling: a member is kept by a lease on the
// client's one keep-alive stream, and members are followed on its one watch
// stream.
//
//   auto member = etcdisc::Join(*client, "chat", "node1");
//   (*member)->OnNodeDown([&](const etcdisc::Member& gone) {
//     rooms.DropSocketsOf(gone.node);  // on one survivor only
//   });
//
// Keys, under ClientOptions::key_prefix, every one under a lease (a cluster
// whose members have all gone leaves nothing behind):
//   /clusters/<cluster>/nodes/<node>
//       a live member's record, JSON {"node","hostname","since","meta",
//       "process"}, under the member's lease;
//   /clusters/<cluster>/cleanup/<job>/<node>/<revision>
//       the claim of the cleanup `job` after the incarnation <revision> of
//       <node>, JSON {"by","state"} ("running", then "done"), under the
//       claimant's lease; a done claim is deleted after a retention period.
#ifndef ETCDISC_MEMBERSHIP_H_
#define ETCDISC_MEMBERSHIP_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "etcdisc/client.h"

namespace etcdisc {

namespace internal {
class CleanupRunner;
class ClusterState;
class MembershipImpl;
struct MembershipAccess;  // For etcdisc's own tests.
}  // namespace internal

// One live member of a cluster, as etcd holds it.
struct Member {
  std::string node;
  std::string hostname;  // The machine it joined from.
  // When it joined, by its own clock.
  std::chrono::system_clock::time_point since;
  std::map<std::string, std::string> meta;
  // The etcd revision that created its key. It orders the members by
  // joining (the lowest is the leader), tells incarnations of one node id
  // apart (a node that joins again gets a higher one), and is the leader's
  // fencing token.
  int64_t revision = 0;
};

struct MembershipEvent {
  enum class Kind {
    kUp,      // `member` joined.
    kDown,    // `member` left, or its lease expired: as it was last seen.
    kLeader,  // `member` is the leader now; node empty: no member left.
  };
  Kind kind = Kind::kUp;
  std::string cluster;
  Member member;
};

// The live members of one cluster, in memory, kept current by the client's
// one watch stream through reconnects, member failures and compaction: no
// up or down is lost or repeated. Reading it never waits on etcd. Safe for
// concurrent use.
//
// Event callbacks run on the client's callback thread (shared with
// registration and view callbacks; see ServiceView): one at a time, in etcd's
// order. A callback may remove itself or destroy the view.
class ClusterView {
 public:
  // Reads the cluster, then follows it. `cluster` empty: "default".
  // InvalidArgument for an invalid cluster name; Unavailable when etcd
  // cannot be read.
  static absl::StatusOr<std::unique_ptr<ClusterView>> Open(
      Client& client, absl::string_view cluster);
  // No callback of this view runs after this returns (unless called from
  // one: that call finishes). Waits for a call of its callbacks under way.
  ~ClusterView();
  ClusterView(const ClusterView&) = delete;
  ClusterView& operator=(const ClusterView&) = delete;

  const std::string& cluster() const;
  // The live members, oldest first (by revision).
  std::vector<Member> members() const;
  // The member with the lowest revision, if any. See Membership::IsLeader
  // for what a member may conclude about itself.
  std::optional<Member> leader() const;
  // The etcd revision the members are the state at.
  int64_t revision() const;
  // OK while following; otherwise why it stopped (the client shut down, or
  // etcd no longer lets the client's user read the cluster).
  absl::Status status() const;

  using EventCallback = std::function<void(const MembershipEvent& event)>;
  // Calls `callback` with kUp for each member present now and kLeader for
  // the leader now (if any), then with every change, in order. Returns an
  // id for RemoveCallback.
  uint64_t OnEvent(EventCallback callback);
  // After this returns `id`'s callback is not running and never runs again
  // (unless called from a callback: the call under way finishes).
  void RemoveCallback(uint64_t id);

 private:
  friend class Membership;
  explicit ClusterView(std::shared_ptr<internal::ClusterState> state);
  const std::shared_ptr<internal::ClusterState> state_;
};

struct JoinOptions {
  // Lifetime of the member's key without a refresh: a member that dies is
  // seen down by the others this long after its last refresh (plus etcd's
  // expiry scan, up to 0.5 s). Refreshed every ttl/3. Whole seconds, at
  // least etcd's minimum (2 s with etcd's defaults).
  std::chrono::milliseconds ttl{2000};
  // Published with the member: at most 64 entries, each key one to 64
  // bytes, 4 KiB in all.
  std::map<std::string, std::string> meta;
};

struct NodeDownOptions {
  // True: for each member that goes down, one live member of the cluster
  // runs the callback (see OnNodeDown). False: every member does.
  bool once_per_cluster = true;
  // The cleanup's name: members that register callbacks under one name
  // share their claims. One key segment.
  std::string job = "cleanup";
};

// This process's membership of a cluster, kept in the background: its lease
// is refreshed, and if etcd ever reports it gone (an expiry during a
// partition), it joins again under the same node id (a new incarnation:
// the others see down, then up). Safe for concurrent use.
//
// What status() says: OK while a member; Unavailable while joining again
// after a loss (and why); AlreadyExists when, meanwhile, another process
// took the node id (no more tries); PermissionDenied when etcd refused this
// user the writes; FailedPrecondition after Leave().
class Membership {
 public:
  // Leaves (see Leave()).
  ~Membership();
  Membership(const Membership&) = delete;
  Membership& operator=(const Membership&) = delete;

  const std::string& cluster() const;
  const std::string& node() const;
  // This incarnation's revision (Member::revision); it changes when the
  // membership joins again after a loss.
  int64_t revision() const;
  absl::Status status() const;
  // The cluster as this member sees it.
  ClusterView& view();

  // Whether this member is the leader now: the live member with the lowest
  // revision in the view, and its lease surely still held by etcd. Its lease
  // is taken as lost from the send time of the last refresh etcd answered
  // plus the TTL, which is before etcd can expire it: so a leader whose
  // lease runs out stops being leader here before any other member can see
  // its key go, and so before any becomes leader. The limit: a leader that
  // is paused after checking (a long GC, SIGSTOP) may act on a stale answer;
  // and when a leader's key is deleted by hand while its lease lives, the
  // next member may become leader before this one's view sees the delete.
  // Fence such actions with the leader's revision (Member::revision), which
  // only grows from one leader to the next.
  bool IsLeader() const;

  using NodeDownCallback = std::function<void(const Member& down)>;
  // Calls `callback` for each member that goes down from now on, on the
  // client's callback thread. With once_per_cluster, the members that share
  // the job claim each down in etcd (a key under the claimant's lease): one
  // runs the callback, then marks the claim done. If the claimant dies or
  // leaves before it is done, its claim goes with its lease and another
  // member claims and runs it: at least once, and exactly once when no
  // claimant dies or leaves meanwhile (a done claim goes with its
  // claimant's lease) and every member learns of the down within the
  // retention of a done claim (the larger of 60 s and ten TTLs). Returns an
  // id for RemoveCallback. InvalidArgument for an invalid job name.
  absl::StatusOr<uint64_t> OnNodeDown(NodeDownCallback callback,
                                      NodeDownOptions options = {});
  void RemoveCallback(uint64_t id);

  // Revokes the lease, so that the others see this member down at once, and
  // stops the background work; the view keeps following the cluster until
  // destroyed. Waits at most the client's call timeout; Unavailable if etcd
  // could not be told (the key then expires with its TTL).
  absl::Status Leave();

 private:
  friend struct internal::MembershipAccess;
  friend absl::StatusOr<std::unique_ptr<Membership>> Join(
      Client&, absl::string_view, absl::string_view, JoinOptions);
  Membership(std::shared_ptr<internal::MembershipImpl> impl,
             std::shared_ptr<internal::CleanupRunner> cleanup,
             std::unique_ptr<ClusterView> view);
  const std::shared_ptr<internal::MembershipImpl> impl_;
  const std::shared_ptr<internal::CleanupRunner> cleanup_;
  const std::unique_ptr<ClusterView> view_;
};

// Joins `cluster` ("": "default") as `node` ("": DefaultNodeId()). One Txn
// creates the member's key if no live member holds the id, so of two
// processes joining under one id at once exactly one succeeds.
//
// When the key is held already, the holder is judged by the process that
// wrote it (named in its record):
//   - a process of this machine (same kernel boot and PID namespace) that
//     is still running: AlreadyExists at once, naming the id, the cluster
//     and the holder's PID;
//   - a process of this machine that is gone (a crashed node restarting
//     quickly): its lease is revoked, so the others see the old incarnation
//     down at once, and Join takes the id;
//   - a process elsewhere: Join watches the key for as long as the holder's
//     lease can last without a refresh (its remaining TTL, plus 1.5 s for
//     etcd's expiry scan and rounding). Gone by then: Join takes the id.
//     Still there: the holder refreshed it, and Join fails with
//     AlreadyExists naming the id, the cluster and the holder's hostname.
// Either way the others see down for the old incarnation before up for the
// new one.
//
// InvalidArgument, naming the value, for an invalid cluster name or node id
// (one key segment: no '/', whitespace or control characters, 1 to 255
// bytes), a TTL below 1 s, or meta out of bounds; Unavailable or
// DeadlineExceeded when etcd cannot be reached.
absl::StatusOr<std::unique_ptr<Membership>> Join(Client& client,
                                                 absl::string_view cluster,
                                                 absl::string_view node = "",
                                                 JoinOptions options = {});

// The live members of `cluster`, oldest first, read in one round trip.
// A malformed record is skipped with a warning.
absl::StatusOr<std::vector<Member>> Members(Client& client,
                                            absl::string_view cluster);

// clusterix's default node id: "<hostname>:<PORT>" from the client's
// private hostname and the PORT environment variable, or "<hostname>" when
// PORT is unset or empty.
std::string DefaultNodeId(const Client& client);

}  // namespace etcdisc

#endif  // ETCDISC_MEMBERSHIP_H_
