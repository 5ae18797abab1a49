#include "discovery/shared_leases.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "util/deadline.h"

namespace etcdisc::internal {

using Clock = std::chrono::steady_clock;

absl::StatusOr<int64_t> SharedLeases::Join(const std::string& service,
                                           std::chrono::milliseconds ttl,
                                           uint64_t holder,
                                           SharedLeaseLost on_lost,
                                           std::chrono::milliseconds timeout) {
  MutexLock lock(&mu_);
  // Never erased: the reference stays valid while the lock is let go.
  Slot& slot = slots_[{service, ttl.count()}];
  absl::StatusOr<int64_t> lease = GrantOrWaitLocked(slot, ttl, timeout);
  if (lease.ok()) slot.holders[holder] = std::move(on_lost);
  return lease;
}

absl::StatusOr<int64_t> SharedLeases::GrantOrWaitLocked(
    Slot& slot, std::chrono::milliseconds ttl,
    std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  while (true) {
    if (shut_down_) {
      return absl::FailedPreconditionError("the client is shut down");
    }
    if (slot.lease != 0) return slot.lease;
    if (!slot.granting) break;
    // Someone else is granting it: wait for the outcome.
    const bool settled = mu_.AwaitWithTimeout(
        absl::Condition(
            +[](Slot* s) { return s->lease != 0 || !s->granting; }, &slot),
        absl::FromChrono(TimeLeft(deadline)));
    if (!settled) {
      return absl::DeadlineExceededError(absl::StrCat(
          "no shared lease of ", ttl.count(), "ms granted within ",
          timeout.count(), "ms"));
    }
  }
  slot.granting = true;
  const Clock::time_point asked_at = Clock::now();
  mu_.Unlock();
  absl::StatusOr<LeaseGrant> grant =
      etcd_->lease().Grant(ttl, 0, TimeLeft(deadline));
  mu_.Lock();
  slot.granting = false;
  if (!grant.ok()) return grant.status();
  if (shut_down_) {
    // Shutdown() did not see this lease: it is revoked here.
    mu_.Unlock();
    etcd_->lease().Revoke(grant->id).IgnoreError();
    mu_.Lock();
    return absl::FailedPreconditionError("the client is shut down");
  }
  const int64_t id = grant->id;
  slot.lease = id;
  etcd_->keeper().Keep(
      id, grant->ttl_seconds,
      [this, id](const absl::Status& why) { Lost(id, why); }, asked_at);
  return id;
}

void SharedLeases::Leave(int64_t lease, uint64_t holder,
                         std::chrono::milliseconds timeout) {
  {
    MutexLock lock(&mu_);
    bool last = false;
    for (auto& [key, slot] : slots_) {
      if (slot.lease != lease) continue;
      slot.holders.erase(holder);
      if (slot.holders.empty()) {
        slot.lease = 0;  // The next Join grants another.
        last = true;
      }
      break;
    }
    if (!last) return;
  }
  etcd_->keeper().Forget(lease);
  etcd_->lease().Revoke(lease, timeout).IgnoreError();
}

void SharedLeases::Gone(int64_t lease, const absl::Status& why) {
  etcd_->keeper().Forget(lease);
  Lost(lease, why);
}

void SharedLeases::Lost(int64_t lease, const absl::Status& why) {
  std::map<uint64_t, SharedLeaseLost> holders;
  {
    MutexLock lock(&mu_);
    for (auto& [key, slot] : slots_) {
      if (slot.lease != lease) continue;
      slot.lease = 0;
      holders.swap(slot.holders);
      break;
    }
  }
  for (auto& [holder, on_lost] : holders) on_lost(lease, why);
}

void SharedLeases::Shutdown() {
  std::vector<int64_t> leases;
  {
    MutexLock lock(&mu_);
    shut_down_ = true;
    for (auto& [key, slot] : slots_) {
      if (slot.lease != 0) leases.push_back(slot.lease);
      slot.lease = 0;
      slot.holders.clear();
    }
  }
  for (int64_t lease : leases) {
    etcd_->keeper().Forget(lease);
    etcd_->lease().Revoke(lease).IgnoreError();
  }
}

}  // namespace etcdisc::internal
