// RegistrationImpl's stopping: Stop(), and letting go of its leases (a
// revoke of its own, or a delete of its keys under a shared one). The rest
// of the class is in registration_impl.cc.
#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "discovery/registration_impl.h"
#include "etcd/grpc_status.h"
#include "util/deadline.h"

namespace etcdisc::internal {

using Clock = std::chrono::steady_clock;

// A shared registration's keys that Stop() could not delete are tried again
// after this, then twice as long each time, up to the last.
constexpr std::chrono::milliseconds kFirstDeleteRetry{200};
constexpr std::chrono::milliseconds kLastDeleteRetry{5000};

// ---- Stopping -------------------------------------------------------------

absl::Status RegistrationImpl::Stop() {
  StopBy(Clock::now() + env_->call_timeout());
  MutexLock lock(&mu_);
  if (unrevoked_.empty()) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat(
      "registration ", uuid_, " is stopped but etcd could not be told: ",
      UntoldDetail(), "; Stop() again to retry"));
}

std::string RegistrationImpl::UntoldDetail() const {
  if (shared()) {
    return "its keys are deleted in the background once etcd answers, and "
           "go with the shared lease when its last registration stops";
  }
  return absl::StrCat("its keys expire within their TTL of ",
                      options_.ttl.count(), "ms");
}

void RegistrationImpl::StopBy(Clock::time_point deadline) {
  std::vector<int64_t> leases;
  WatchId host_watch = 0;
  int64_t service_ticket = 0;
  bool first = false;
  bool in_flight = false;
  {
    MutexLock lock(&mu_);
    // Another Stop() may be revoking: wait for its outcome, then retry what
    // it could not do.
    mu_.Await(absl::Condition(
        +[](RegistrationImpl* r) ABSL_NO_THREAD_SAFETY_ANALYSIS {
          return r->revoking_ == 0;
        },
        this));
    first = state_ != State::kStopped;
    // A handle that outlives its client is inert: no more calls to etcd.
    if (!first && env_->shut_down()) return;
    state_ = State::kStopped;
    leases.swap(unrevoked_);
    if (lease_ != 0) leases.push_back(lease_);
    lease_ = 0;
    host_watch = std::exchange(host_watch_.id, 0);
    service_ticket = std::exchange(service_watch_.id, 0);
    ++revoking_;
    // A write in flight under a shared lease would bring back keys deleted
    // before its answer: its step ends first (the loop does nothing more
    // once stopped). If it outlasts the deadline, the loop deletes after it.
    if (shared()) {
      in_flight = !mu_.AwaitWithTimeout(
          absl::Condition(
              +[](RegistrationImpl* r) ABSL_NO_THREAD_SAFETY_ANALYSIS {
                return !r->running_;
              },
              this),
          absl::FromChrono(TimeLeft(deadline)));
      if (in_flight) {
        // The loop lets them go when its step ends (TakeLateReleaseLocked).
        release_after_step_ = true;
        unrevoked_.insert(unrevoked_.end(), leases.begin(), leases.end());
        leases.clear();
      }
    }
  }
  // A step in flight finds state_ kStopped on its answer and records nothing;
  // a lease it took after this point it lets go of itself (TakeLease).
  DropWatches(host_watch, service_ticket);
  std::vector<int64_t> failed = Release(std::move(leases), deadline);
  {
    MutexLock lock(&mu_);
    --revoking_;
    unrevoked_.insert(unrevoked_.end(), failed.begin(), failed.end());
    if (first) {
      EmitLocked(RegistrationEvent::Kind::kStopped,
                 failed.empty() && !in_flight
                     ? absl::OkStatus()
                     : absl::UnavailableError(absl::StrCat(
                           "etcd could not be told: ", UntoldDetail())));
    }
  }
  // What describes the host stops once the host is down, within the same
  // deadline.
  std::shared_ptr<Stoppable> companion;
  {
    MutexLock lock(&mu_);
    companion = companion_;
  }
  if (companion != nullptr) companion->StopBy(deadline);
  // After Stop() returns no callback of this registration runs (unless Stop
  // was called from one: the rest then follows it).
  env_->FlushCallbacks();
}

void RegistrationImpl::StopAfterward(std::shared_ptr<Stoppable> companion) {
  MutexLock lock(&mu_);
  companion_ = std::move(companion);
}

std::vector<int64_t> RegistrationImpl::Release(std::vector<int64_t> leases,
                                               Clock::time_point deadline) {
  std::vector<int64_t> failed;
  for (int64_t lease : leases) {
    if (shared()) {
      const absl::Status deleted = DeleteKeys(lease, deadline);
      if (!deleted.ok()) {
        failed.push_back(lease);
        if (!IsRefusal(deleted)) DeleteLater(lease, kFirstDeleteRetry);
      }
      // Left even when the delete failed, so that the lease is not held for
      // keys that should be gone: its last holder's revoke takes them.
      env_->LeaveSharedLease(lease, holder_, TimeLeft(deadline));
      continue;
    }
    env_->ForgetLease(lease);
    absl::Status status = env_->RevokeLease(lease, TimeLeft(deadline));
    if (!status.ok() && !absl::IsNotFound(status)) failed.push_back(lease);
  }
  return failed;
}

absl::Status RegistrationImpl::DeleteKeys(int64_t lease,
                                          Clock::time_point deadline) {
  // Only as written by this registration, under `lease`.
  TxnRequest txn;
  txn.compares.push_back(
      Compare::Lease(host_key_, Compare::Result::kEqual, lease));
  txn.success.push_back(TxnOp::Delete({host_key_, "", false}));
  if (go_endpoint_) {
    txn.success.push_back(TxnOp::Delete({go_endpoint_->key, "", false}));
  }
  return env_->Txn(txn, TimeLeft(deadline)).status();
}

void RegistrationImpl::DeleteLater(int64_t lease, Clock::duration delay) {
  // Holds the registration until it is done, or the client shuts down
  // (which drops the task).
  env_->RunAfter(delay, [self = shared_from_this(), lease, delay] {
    self->env_->Post([self, lease, delay] {
      if (self->env_->shut_down()) return;
      const absl::Status deleted = self->DeleteKeys(
          lease, Clock::now() + self->env_->call_timeout());
      if (deleted.ok() || IsRefusal(deleted)) return;
      self->DeleteLater(lease, std::min<Clock::duration>(2 * delay,
                                                         kLastDeleteRetry));
    });
  });
}

}  // namespace etcdisc::internal
