// The background life of one registered host.
#ifndef ETCDISC_DISCOVERY_REGISTRATION_IMPL_H_
#define ETCDISC_DISCOVERY_REGISTRATION_IMPL_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "discovery/go_endpoint.h"
#include "discovery/registration_env.h"
#include "discovery/stoppable.h"
#include "etcd/watch_hub.h"
#include "etcdisc/client.h"
#include "util/backoff.h"
#include "util/mutex.h"

namespace etcdisc::internal {

// Keeps one host registered: writes its keys in one Txn under its own lease
// (or under the client's shared lease of its TTL, with
// RegisterOptions::share_lease),
// writes them again (same uuid) when etcd reports the lease gone, puts its
// host key back if someone deletes it, puts the service record back when it
// disappears, and adopts credentials changed in the service record for a
// public host. It watches its host key itself; the service record through
// the client's one watch of it, shared by the service's registrations
// (ServiceRecordWatches).
//
// States (state_) and what moves between them:
//
//   kUnregistered --Write answered OK, lease_ still the one written--> kRegistered
//   kUnregistered --Write failed--> kUnregistered (kAttemptFailed, retried)
//   kRegistered   --etcd reports lease_ gone--> kUnregistered (kLost)
//   kUnregistered or kRegistered --a step refused (PermissionDenied,
//                 Unauthenticated)--> kRefused (lease revoked, no more tries)
//   any           --Stop()--> kStopped (final)
//
// In kRegistered the keys are in etcd under lease_ (never 0). Work pending in
// that state is a pair of counters, "wanted" and "written": host_version_ /
// host_written_ (the host record changed, or its key was deleted) and
// service_gone_ / service_restored_ (the service record was deleted). A
// step captures the counter, the host and the lease under the lock, calls
// etcd without it, and on the answer records only what it captured, and only
// if lease_ is still the lease it wrote with: whatever changed during the
// call stays pending and is done next.
//
// Everything outside goes through a RegistrationEnv: the client's, or a
// unit test's. All calls to etcd run in Run() on the env's workers (the
// client's registration pool), one Run() at a time per registration. Other threads (keep-alive answers, watch
// updates, Stop) change state under the lock and Kick(). Events are queued
// under the lock, in state order, and delivered on the client's callback
// thread. Safe for concurrent use.
class RegistrationImpl final
    : public Stoppable,
      public std::enable_shared_from_this<RegistrationImpl> {
 public:
  RegistrationImpl(std::shared_ptr<RegistrationEnv> env, std::string service,
                   Host host, RegisterOptions options,
                   RegistrationCallback on_event);

  // Starts the background work; call once, right after construction.
  void Start() ABSL_LOCKS_EXCLUDED(mu_);
  // `companion` (the host's health publisher) is stopped by every stop of
  // this registration, after its lease is revoked and within its deadline.
  void StopAfterward(std::shared_ptr<Stoppable> companion)
      ABSL_LOCKS_EXCLUDED(mu_);

  bool Ready() const ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status WaitRegistration(std::chrono::milliseconds timeout)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<Credentials> credentials() const ABSL_LOCKS_EXCLUDED(mu_);
  std::string UUID() const { return uuid_; }
  Host host() const ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status LastError() const ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status Stop() ABSL_LOCKS_EXCLUDED(mu_);
  // Stops, giving the revoke until `deadline`.
  void StopBy(std::chrono::steady_clock::time_point deadline) override;
  void AddMetrics(ClientMetrics* out) const override ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // kUnregistered --written--> kRegistered --lease lost--> kUnregistered;
  // kUnregistered or kRegistered --etcd refused the user or its
  // permission--> kRefused (no more tries; its lease is revoked at once);
  // any --Stop--> kStopped.
  enum class State { kUnregistered, kRegistered, kRefused, kStopped };
  enum class Step {
    kNone,
    kWrite,
    kWatchHost,
    kWatchService,
    kRewriteHost,
    kRestoreService
  };
  // One watched key: `id` 0 means the watch must be (re)started, from
  // revision `from`, or after reading the key when `from` is 0. `token` names
  // the watch being started or running; updates of any other are stale. For
  // the host key `id` is the etcd layer's watch; for the service record, the
  // ticket of the client's shared watch (ServiceRecordWatches).
  struct KeyWatch {
    int64_t id = 0;  // A WatchId, or a ServiceRecordWatches ticket.
    int64_t from = 0;
    uint64_t token = 0;
  };
  // What a step captured under the lock before its call.
  struct Plan {
    Step step = Step::kNone;
    Host host;
    int64_t lease = 0;
    uint64_t host_version = 0;
    uint64_t service_gone = 0;
    int64_t watch_from = 0;
  };

  void Kick() ABSL_LOCKS_EXCLUDED(mu_);
  void Run() ABSL_LOCKS_EXCLUDED(mu_);
  Plan NextPlanLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // PerformStep, with a PermissionDenied that names the keys and the role.
  absl::Status Perform(const Plan& plan) ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status PerformStep(const Plan& plan) ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status Write(Plan plan) ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status RewriteHost(const Plan& plan) ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status RestoreService(const Plan& plan) ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status WatchHostKey(int64_t from) ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status WatchServiceRecord(int64_t from) ABSL_LOCKS_EXCLUDED(mu_);
  void RetryLaterLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // What a refusal takes away, to release without the lock.
  struct Refusal {
    int64_t lease = 0;
    WatchId host_watch = 0;
    int64_t service_ticket = 0;
  };
  // Records a failed step: retries later, or on a refusal moves to kRefused
  // and returns the lease and watches it held, for ReleaseRefused.
  Refusal AttemptFailedLocked(const absl::Status& status)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Cancels the watches and revokes the lease (what fails, Stop() retries).
  void ReleaseRefused(const Refusal& refusal) ABSL_LOCKS_EXCLUDED(mu_);
  // Takes a fresh lease (or joins the shared one) into lease_, kept alive;
  // Cancelled if the registration stopped meanwhile (the lease is then let
  // go, Release).
  absl::StatusOr<int64_t> TakeLease() ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<int64_t> TakeOwnLease() ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<int64_t> JoinSharedLease() ABSL_LOCKS_EXCLUDED(mu_);
  bool shared() const { return options_.share_lease; }
  // A write under `lease` was refused because etcd no longer has the lease:
  // LeaseGoneLocked, and every other holder of a shared lease hears it.
  void LeaseGone(int64_t lease, const absl::Status& why)
      ABSL_LOCKS_EXCLUDED(mu_);
  // A write under `lease` was refused because etcd no longer has the lease.
  void LeaseGoneLocked(int64_t lease, const absl::Status& why)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Records that the host record of `version` is in etcd at `revision`.
  void HostWrittenLocked(uint64_t version, int64_t revision)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  void OnLeaseLost(int64_t lease, const absl::Status& why)
      ABSL_LOCKS_EXCLUDED(mu_);
  void OnHostKeyUpdate(uint64_t token, WatchUpdate update)
      ABSL_LOCKS_EXCLUDED(mu_);
  void OnServiceRecord(uint64_t token, const KeyValue* record)
      ABSL_LOCKS_EXCLUDED(mu_);
  void OnServiceWatchEnded(uint64_t token) ABSL_LOCKS_EXCLUDED(mu_);
  // Lets go of the watches a Stop() or a refusal took.
  void DropWatches(WatchId host_watch, int64_t service_ticket)
      ABSL_LOCKS_EXCLUDED(mu_);
  void ApplyHostKeyLocked(const KeyValue* kv, int64_t revision)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ApplyServiceRecordLocked(const KeyValue* record)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Queues an event for the callback thread.
  void EmitLocked(RegistrationEvent::Kind kind, absl::Status detail)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Lets go of the leases Stop() or a refusal collected: revokes its own;
  // deletes the host's keys and leaves a shared one. Returns those it could
  // not let go of.
  std::vector<int64_t> Release(std::vector<int64_t> leases,
                               std::chrono::steady_clock::time_point deadline)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Deletes the host's keys if still under `lease` (shared: the lease stays
  // for the others).
  absl::Status DeleteKeys(int64_t lease,
                          std::chrono::steady_clock::time_point deadline)
      ABSL_LOCKS_EXCLUDED(mu_);
  // DeleteKeys after `delay`, and again (the delay doubled) until done,
  // refused, or the client shuts down.
  void DeleteLater(int64_t lease, std::chrono::steady_clock::duration delay)
      ABSL_LOCKS_EXCLUDED(mu_);
  // The leases a Stop() that timed out waiting for the loop left to it
  // (release_after_step_), counted in revoking_; none otherwise.
  std::vector<int64_t> TakeLateReleaseLocked()
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReleaseLate(std::vector<int64_t> leases) ABSL_LOCKS_EXCLUDED(mu_);
  // What Stop() says when etcd could not be told.
  std::string UntoldDetail() const;

  const std::shared_ptr<RegistrationEnv> env_;
  const std::string service_;
  const std::string uuid_;
  const uint64_t holder_;  // Its name among a shared lease's holders.
  const std::string host_key_;
  const std::string service_key_;
  const RegisterOptions options_;
  // Written with the host key when the options ask for it.
  const std::optional<GoEndpoint> go_endpoint_;
  const std::shared_ptr<const RegistrationCallback> on_event_;

  mutable Mutex mu_;
  State state_ ABSL_GUARDED_BY(mu_) = State::kUnregistered;
  Host host_ ABSL_GUARDED_BY(mu_);  // What should be in etcd.
  int64_t lease_ ABSL_GUARDED_BY(mu_) = 0;
  bool ever_registered_ ABSL_GUARDED_BY(mu_) = false;
  Credentials announced_ ABSL_GUARDED_BY(mu_);  // Last written credentials.
  uint64_t host_version_ ABSL_GUARDED_BY(mu_) = 1;
  uint64_t host_written_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t host_revision_ ABSL_GUARDED_BY(mu_) = 0;  // Of our last host write.
  uint64_t service_gone_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t service_restored_ ABSL_GUARDED_BY(mu_) = 0;
  KeyWatch host_watch_ ABSL_GUARDED_BY(mu_);
  KeyWatch service_watch_ ABSL_GUARDED_BY(mu_);
  // The service record as this registration's last Write left it in etcd
  // (compared equal, or put): what it joins the shared watch with when that
  // Write set service_watch_.from.
  std::string service_written_ ABSL_GUARDED_BY(mu_);
  uint64_t watch_tokens_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status last_error_ ABSL_GUARDED_BY(mu_);
  int64_t failed_attempts_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t lease_losses_ ABSL_GUARDED_BY(mu_) = 0;
  // Leases Stop() or a refusal could not let go of yet (Release); the next
  // Stop() tries again.
  std::vector<int64_t> unrevoked_ ABSL_GUARDED_BY(mu_);
  // Revokes under way (Stop() calls, a refusal's, the loop's late one).
  int revoking_ ABSL_GUARDED_BY(mu_) = 0;
  // A Stop() of a shared registration gave up waiting for the loop's step:
  // the loop releases unrevoked_ when that step ends.
  bool release_after_step_ ABSL_GUARDED_BY(mu_) = false;
  std::shared_ptr<Stoppable> companion_ ABSL_GUARDED_BY(mu_);
  // Run() bookkeeping.
  bool running_ ABSL_GUARDED_BY(mu_) = false;
  bool retry_pending_ ABSL_GUARDED_BY(mu_) = false;
  Backoff backoff_ ABSL_GUARDED_BY(mu_);
};

}  // namespace etcdisc::internal

#endif  // ETCDISC_DISCOVERY_REGISTRATION_IMPL_H_
