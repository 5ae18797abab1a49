#include "fleet/health_leases.h"

#include <algorithm>
#include <random>

#include "util/deadline.h"

namespace etcdisc::internal {
namespace {

using Clock = std::chrono::steady_clock;

// The live lease is refreshed this often, so that after its client dies the
// records under it end about one retention later.
constexpr auto kLiveRefresh = std::chrono::seconds(60);
constexpr auto kMaxRetiredWindow = std::chrono::seconds(60);

// How long a retired lease takes the records of further stops: a sixtieth
// of the retention, in whole seconds, at most a minute (0 under a minute:
// each stop has a lease of its own).
std::chrono::seconds RetiredWindow(std::chrono::seconds retention) {
  return std::min(retention / 60, std::chrono::seconds(kMaxRetiredWindow));
}

// A lease id of etcdisc's own choosing (see LeaseClient::Grant): positive
// and random.
int64_t NewHealthLeaseId() {
  static std::mt19937_64 random{std::random_device{}()};
  static Mutex mu;
  MutexLock lock(&mu);
  int64_t id = 0;
  while (id == 0) id = static_cast<int64_t>(random() >> 2);
  return id;
}

}  // namespace

absl::StatusOr<int64_t> HealthLeases::Live(std::chrono::seconds retention) {
  return Get(Kind::kLive, retention,
             Clock::now() + core_->options().call_timeout);
}

absl::StatusOr<int64_t> HealthLeases::Retired(std::chrono::seconds retention,
                                              Clock::time_point deadline) {
  return Get(Kind::kRetired, retention, deadline);
}

void HealthLeases::Gone(int64_t lease) {
  {
    MutexLock lock(&mu_);
    for (auto* slots : {&live_, &retired_}) {
      for (auto& [retention, slot] : *slots) {
        if (slot.lease == lease) slot.lease = 0;
      }
    }
  }
  core_->etcd().keeper().Forget(lease);  // No more refreshes of a lost lease.
}

HealthLeases::Slot& HealthLeases::SlotLocked(Kind kind,
                                             std::chrono::seconds retention) {
  return (kind == Kind::kLive ? live_ : retired_)[retention.count()];
}

bool HealthLeases::UsableLocked(const Slot& slot, Kind kind,
                                std::chrono::seconds retention) const {
  if (slot.lease == 0) return false;
  return kind == Kind::kLive ||
         Clock::now() - slot.granted_at < RetiredWindow(retention);
}

absl::StatusOr<int64_t> HealthLeases::Get(Kind kind,
                                          std::chrono::seconds retention,
                                          Clock::time_point deadline) {
  const bool shared = kind == Kind::kLive || RetiredWindow(retention).count() > 0;
  int64_t id = NewHealthLeaseId();
  Clock::time_point asked_at = Clock::now();
  if (shared) {
    MutexLock lock(&mu_);
    Slot& slot = SlotLocked(kind, retention);  // std::map: the address holds.
    if (!mu_.AwaitWithTimeout(
            absl::Condition(
                +[](Slot* s) ABSL_NO_THREAD_SAFETY_ANALYSIS {
                  return !s->granting;
                },
                &slot),
            absl::FromChrono(deadline - Clock::now()))) {
      return absl::DeadlineExceededError(
          "waiting for another call's grant of a health lease");
    }
    if (UsableLocked(slot, kind, retention)) return slot.lease;
    // A live lease is asked for again under the same id (a lost answer
    // leaves no second lease refreshed beside it), counting its TTL from the
    // first ask. A retired one under a new id: one granted but unheard of is
    // empty and ends by itself, and a new one's TTL starts now.
    if (kind == Kind::kLive && slot.asking != 0) {
      id = slot.asking;
      asked_at = slot.first_asked_at;
    }
    slot.asking = id;
    slot.first_asked_at = asked_at;
    slot.granting = true;
  }
  const std::chrono::seconds ttl =
      kind == Kind::kLive ? retention : retention + RetiredWindow(retention);
  auto grant = core_->etcd().lease().Grant(ttl, id, TimeLeft(deadline));
  if (grant.ok() && kind == Kind::kLive) {
    // Kept before anyone can write under it, so that its loss is heard.
    std::weak_ptr<HealthLeases> weak = weak_from_this();
    core_->etcd().keeper().Keep(
        id, grant->ttl_seconds,
        [weak, id](const absl::Status&) {
          if (auto self = weak.lock()) self->Gone(id);
        },
        asked_at, kLiveRefresh);
  }
  if (!shared) return grant.ok() ? absl::StatusOr<int64_t>(id) : grant.status();
  MutexLock lock(&mu_);
  Slot& slot = SlotLocked(kind, retention);
  slot.granting = false;
  if (!grant.ok()) return grant.status();
  slot.asking = 0;
  slot.lease = id;
  slot.granted_at = asked_at;
  return id;
}

}  // namespace etcdisc::internal
