// The background life of one membership: its lease, its key, joining again
// after a loss, and leaving.
#ifndef ETCDISC_MEMBERSHIP_MEMBERSHIP_IMPL_H_
#define ETCDISC_MEMBERSHIP_MEMBERSHIP_IMPL_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "discovery/client_core.h"
#include "discovery/stoppable.h"
#include "etcdisc/membership.h"
#include "membership/node_key.h"
#include "util/backoff.h"
#include "util/mutex.h"

namespace etcdisc::internal {

// States (state_):
//
//   kJoining --key taken under lease_--> kMember
//   kJoining --a call failed--> kJoining (retried after a backoff)
//   kJoining --another process holds the id--> kDisplaced (final)
//   kJoining --etcd refused the user--> kRefused (final)
//   kMember  --etcd reports lease_ lost, or this incarnation's key went-->
//            kJoining (a new lease, the same id)
//   any      --Leave()--> kLeft (final)
//
// In kMember the key is in etcd under lease_ at revision_. A join attempt
// grants a lease, records it in lease_ at once (so that its loss during the
// Txn is seen), takes the key without the lock, and on the answer becomes a
// member only if lease_ is still the lease it took the key with: a loss
// meanwhile means another attempt. Safe for concurrent use.
class MembershipImpl final
    : public Stoppable,
      public std::enable_shared_from_this<MembershipImpl> {
 public:
  MembershipImpl(std::shared_ptr<ClientCore> core, std::string cluster,
                 std::string node, JoinOptions options);

  // The first join, on the caller's thread: its error, or OK as a member.
  absl::Status Join() ABSL_LOCKS_EXCLUDED(mu_);

  const std::string& cluster() const { return cluster_; }
  const std::string& node() const { return node_; }
  std::chrono::milliseconds ttl() const { return options_.ttl; }
  int64_t revision() const ABSL_LOCKS_EXCLUDED(mu_);
  // The lease of this incarnation while a member; 0 otherwise.
  int64_t lease() const ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status status() const ABSL_LOCKS_EXCLUDED(mu_);
  // Whether `leader` (the view's) is this incarnation, with its lease
  // surely held by etcd now.
  bool IsLeader(const std::optional<etcdisc::Member>& leader) const
      ABSL_LOCKS_EXCLUDED(mu_);
  // A member went down in the view: if it is this incarnation (its key
  // deleted while the lease lives, or the lease expired and etcd has not
  // said so on the keep-alive stream yet), join again.
  void OnDown(const etcdisc::Member& member) ABSL_LOCKS_EXCLUDED(mu_);

  // Leave(): Unavailable when etcd could not be told; calling it again
  // tries again.
  absl::Status Leave() ABSL_LOCKS_EXCLUDED(mu_);
  void StopBy(std::chrono::steady_clock::time_point deadline) override;
  void AddMetrics(ClientMetrics* /*out*/) const override {}

 private:
  enum class State { kJoining, kMember, kDisplaced, kRefused, kLeft };

  // One join attempt: OK as a member, or why not. With `retry`, a failure
  // that may pass is tried again after a backoff; without, every failure is
  // final (the first join, whose caller gets the error).
  absl::Status Attempt(bool retry) ABSL_LOCKS_EXCLUDED(mu_);
  // The key and the record of an incarnation joining now.
  NodeKey KeyNow() const;
  // A lease kept alive, its loss reported to OnLeaseLost.
  absl::StatusOr<int64_t> GrantLease();
  void OnLeaseLost(int64_t lease, const absl::Status& why)
      ABSL_LOCKS_EXCLUDED(mu_);
  void PostAttemptLocked(std::chrono::steady_clock::duration delay)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Release(int64_t lease, std::chrono::milliseconds timeout);
  absl::Status LeaveWithin(std::chrono::milliseconds timeout)
      ABSL_LOCKS_EXCLUDED(mu_);

  const std::shared_ptr<ClientCore> core_;
  const std::string cluster_;
  const std::string node_;
  const JoinOptions options_;
  const std::string process_;  // ThisProcessId().
  const std::string token_;    // MemberRecord::token: drawn at random.

  mutable Mutex mu_;
  State state_ ABSL_GUARDED_BY(mu_) = State::kJoining;
  int64_t lease_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t revision_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t unrevoked_ ABSL_GUARDED_BY(mu_) = 0;  // Leave() could not revoke.
  absl::Status last_error_ ABSL_GUARDED_BY(mu_);
  bool attempting_ ABSL_GUARDED_BY(mu_) = false;  // One attempt at a time.
  bool attempt_posted_ ABSL_GUARDED_BY(mu_) = false;
  Backoff backoff_ ABSL_GUARDED_BY(mu_);
};

}  // namespace etcdisc::internal

#endif  // ETCDISC_MEMBERSHIP_MEMBERSHIP_IMPL_H_
