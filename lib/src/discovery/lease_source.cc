#include "discovery/lease_source.h"

#include <vector>

#include "util/status_macros.h"

namespace etcdisc::internal {

absl::StatusOr<LeaseGrant> LeaseSource::Take(std::chrono::milliseconds ttl) {
  std::optional<LeaseGrant> spare;
  {
    MutexLock lock(&mu_);
    ++taken_[ttl.count()];
    auto it = spares_.find(ttl.count());
    if (it != spares_.end()) {
      spare = it->second;
      spares_.erase(it);
    }
  }
  if (spare) return *spare;
  const auto asked_at = std::chrono::steady_clock::now();
  ETCDISC_ASSIGN_OR_RETURN(auto grant, etcd_->lease().Grant(ttl));
  etcd_->keeper().Keep(grant.id, grant.ttl_seconds,
                       [](const absl::Status&) {}, asked_at);
  return grant;
}

void LeaseSource::RefillLater(std::chrono::milliseconds ttl) {
  {
    MutexLock lock(&mu_);
    if (taken_[ttl.count()] < 2) return;
  }
  pool_->Post([this, ttl] { Refill(ttl); });
}

void LeaseSource::Refill(std::chrono::milliseconds ttl) {
  {
    MutexLock lock(&mu_);
    if (shut_down_ || spares_.count(ttl.count()) || refilling_[ttl.count()]) {
      return;
    }
    refilling_[ttl.count()] = true;
  }
  const auto asked_at = std::chrono::steady_clock::now();
  auto grant = etcd_->lease().Grant(ttl);
  {
    MutexLock lock(&mu_);
    refilling_[ttl.count()] = false;
    // A failed refill is not retried: the next Take grants on demand and asks
    // for a refill again.
    if (!grant.ok()) return;
    if (!shut_down_) {
      const int64_t id = grant->id;
      spares_[ttl.count()] = *grant;
      etcd_->keeper().Keep(
          id, grant->ttl_seconds,
          [this, ttl, id](const absl::Status&) { Drop(ttl, id); }, asked_at);
      return;
    }
  }
  // Shut down while the grant was in flight: Shutdown() did not see this
  // lease, so it is revoked here (best effort, like Shutdown's).
  etcd_->lease().Revoke(grant->id).IgnoreError();
}

void LeaseSource::Drop(std::chrono::milliseconds ttl, int64_t id) {
  MutexLock lock(&mu_);
  auto it = spares_.find(ttl.count());
  if (it != spares_.end() && it->second.id == id) spares_.erase(it);
}

void LeaseSource::Shutdown() {
  std::vector<int64_t> ids;
  {
    MutexLock lock(&mu_);
    shut_down_ = true;
    for (const auto& [ttl, grant] : spares_) ids.push_back(grant.id);
    spares_.clear();
  }
  for (int64_t id : ids) {
    etcd_->keeper().Forget(id);
    etcd_->lease().Revoke(id).IgnoreError();
  }
}

}  // namespace etcdisc::internal
