// The node-down callbacks of one membership, and the claims in etcd that
// make a once-per-cluster one run on one member only.
#ifndef ETCDISC_MEMBERSHIP_CLEANUP_H_
#define ETCDISC_MEMBERSHIP_CLEANUP_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "discovery/client_core.h"
#include "etcdisc/membership.h"
#include "membership/membership_impl.h"
#include "util/mutex.h"

namespace etcdisc::internal {

// For each down member and once-per-cluster job, a claim goes:
//
//   TryClaim (registration pool): one Txn creates the claim key,
//     {"by":<node>,"state":"running"} under this membership's lease, or
//     reads it when it exists:
//     created             -> Run: the callback, on the callback thread
//                            -> Finish (pool): "done", if the key is still
//                               the one created; deleted after the
//                               retention. (Removed before it ran: the
//                               claim is deleted, for another member.)
//     held, "done"        -> nothing more
//     held under this member's lease (a try whose answer was lost) -> Run
//     held by another     -> AwaitHolder: watch the key; deleted (its
//                            claimant died or left first) -> TryClaim;
//                            "done" -> nothing more; watch ended -> TryClaim
//     not a member now, or etcd failed -> TryClaim again after a second
//   Run finds this member's lease changed since the claim (which went with
//   it) -> TryClaim again after a second
//
// Jobs of every member run their callback at once, on the callback thread.
// Safe for concurrent use.
class CleanupRunner final : public std::enable_shared_from_this<CleanupRunner> {
 public:
  CleanupRunner(std::shared_ptr<ClientCore> core,
                std::shared_ptr<MembershipImpl> membership);

  uint64_t Add(Membership::NodeDownCallback callback, NodeDownOptions options)
      ABSL_LOCKS_EXCLUDED(mu_);
  void Remove(uint64_t id) ABSL_LOCKS_EXCLUDED(mu_);
  // A member went down; called on the client's callback thread.
  void OnDown(const etcdisc::Member& down) ABSL_LOCKS_EXCLUDED(mu_);
  // No claim or callback from now on; ends the watches of claims held by
  // others. Does not wait for a callback running now.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);
  // Waits until no callback is running (at once on the callback thread).
  void AwaitCallbacksDone() ABSL_LOCKS_EXCLUDED(mu_);
  void ReleaseCallbacks() ABSL_LOCKS_EXCLUDED(mu_);

  // How often this member saw the claim at `key` to an end: run and marked
  // done, found done, freed, or dropped. For tests, which wait for it
  // before counting.
  int64_t claims_settled(const std::string& key) const
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Job {
    Membership::NodeDownCallback fn;
    NodeDownOptions options;
    std::atomic<bool> removed{false};
  };
  struct Claim {
    std::shared_ptr<Job> job;
    etcdisc::Member down;
    std::string key;
  };

  void TryClaim(const std::shared_ptr<Claim>& claim) ABSL_LOCKS_EXCLUDED(mu_);
  void PostTryClaim(const std::shared_ptr<Claim>& claim);
  void TryClaimLater(const std::shared_ptr<Claim>& claim)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Posts RunClaimed to the callback thread.
  void PostRunClaimed(const std::shared_ptr<Claim>& claim, int64_t claimed_at,
                      int64_t lease);
  // On the callback thread, for a claim made under `lease`: the callback,
  // then Finish on the pool; or, if that lease is no longer this member's,
  // a new try.
  void RunClaimed(const std::shared_ptr<Claim>& claim, int64_t claimed_at,
                  int64_t lease) ABSL_LOCKS_EXCLUDED(mu_);
  // Watches a claim held by another member from `revision` + 1.
  void AwaitHolder(const std::shared_ptr<Claim>& claim, int64_t revision)
      ABSL_LOCKS_EXCLUDED(mu_);
  void OnHolderUpdate(const std::shared_ptr<Claim>& claim,
                      const std::atomic<WatchId>& id, const WatchUpdate& update)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Calls the job's callback; false if it was removed, or this stopped.
  bool Run(const std::shared_ptr<Job>& job, const etcdisc::Member& down)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Marks the claim made at `claimed_at` done if the callback `ran`, or
  // frees it for another member.
  void Finish(const std::shared_ptr<Claim>& claim, int64_t claimed_at,
              int64_t lease, bool ran) ABSL_LOCKS_EXCLUDED(mu_);
  // Deletes the done claim at `key` after the retention.
  void ForgetLater(const std::string& key, int64_t done_at)
      ABSL_LOCKS_EXCLUDED(mu_);
  void Forget(const std::string& key, int64_t done_at);
  void Settled(const std::string& key) ABSL_LOCKS_EXCLUDED(mu_);
  bool stopped() const ABSL_LOCKS_EXCLUDED(mu_);

  const std::shared_ptr<ClientCore> core_;
  const std::shared_ptr<MembershipImpl> membership_;
  // How long a done claim stays: max(60 s, 10 TTLs).
  const std::chrono::milliseconds retention_;

  mutable Mutex mu_;
  std::map<uint64_t, std::shared_ptr<Job>> jobs_ ABSL_GUARDED_BY(mu_);
  uint64_t next_job_ ABSL_GUARDED_BY(mu_) = 0;
  std::set<WatchId> watches_ ABSL_GUARDED_BY(mu_);
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  int running_ ABSL_GUARDED_BY(mu_) = 0;  // Callbacks running now.
  std::map<std::string, int64_t> settled_ ABSL_GUARDED_BY(mu_);
};

}  // namespace etcdisc::internal

#endif  // ETCDISC_MEMBERSHIP_CLEANUP_H_
