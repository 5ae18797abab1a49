#include "etcd/lease_keeper.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace etcdisc::internal {
namespace {

using Request = etcdserverpb::LeaseKeepAliveRequest;
using Response = etcdserverpb::LeaseKeepAliveResponse;

// How often the keeper looks for leases to refresh or declare lost.
constexpr auto kTick = std::chrono::milliseconds(100);
// A stream with a request unanswered this long is taken as stalled: its member
// is paused or cut off, and another member must take over before the lease
// runs out.
constexpr auto kStallTimeout = std::chrono::milliseconds(1000);

BidiStream<Request, Response>::StartFn StartKeepAlive(
    const MemberStubs& member) {
  etcdserverpb::Lease::Stub* stub = member.lease.get();
  return [stub](grpc::ClientContext* context,
                grpc::ClientBidiReactor<Request, Response>* reactor) {
    stub->async()->LeaseKeepAlive(context, reactor);
  };
}

}  // namespace

LeaseKeeper::LeaseKeeper(Connection* connection, Scheduler* scheduler)
    : StreamSupervisor(connection, scheduler, &StartKeepAlive) {}

LeaseKeeper::~LeaseKeeper() { Shutdown(); }

void LeaseKeeper::Keep(int64_t id, int64_t ttl_seconds,
                       LeaseLostHandler on_lost) {
  MutexLock lock(&mu_);
  const auto now = Clock::now();
  Kept& kept = leases_[id];
  kept.ttl = std::chrono::seconds(std::max<int64_t>(ttl_seconds, 1));
  kept.next_send = now + kept.ttl / 3;
  kept.expires = now + kept.ttl;
  kept.awaiting = false;
  kept.on_lost = std::move(on_lost);
  EnsureStreamLocked();
  ScheduleTickLocked();
}

void LeaseKeeper::Forget(int64_t id) {
  MutexLock lock(&mu_);
  leases_.erase(id);
}

bool LeaseKeeper::IsKept(int64_t id) const {
  MutexLock lock(&mu_);
  return leases_.count(id) > 0;
}

void LeaseKeeper::SetAnswerFilterForTesting(
    std::function<bool(int64_t id)> deliver) {
  MutexLock lock(&mu_);
  answer_filter_ = std::move(deliver);
}

size_t LeaseKeeper::size() const {
  MutexLock lock(&mu_);
  return leases_.size();
}

void LeaseKeeper::OnStreamOpenedLocked() {
  // A new stream may follow a long gap: refresh everything at once.
  const auto now = Clock::now();
  for (auto& [id, kept] : leases_) {
    kept.awaiting = false;
    kept.next_send = now;
  }
  SendDueLocked(now);
}

void LeaseKeeper::OnStreamLostLocked() {
  for (auto& [id, kept] : leases_) kept.awaiting = false;
}

void LeaseKeeper::OnStreamResponse(Stream* stream, const Response& response) {
  Lost lost;
  {
    MutexLock lock(&mu_);
    if (stream != stream_) return;
    if (answer_filter_ && !answer_filter_(response.id())) return;
    MarkHealthyLocked();
    auto it = leases_.find(response.id());
    if (it == leases_.end()) return;
    Kept& kept = it->second;
    if (response.ttl() <= 0) {
      lost.emplace_back(std::move(kept.on_lost),
                        absl::NotFoundError(absl::StrCat(
                            "lease ", response.id(), " no longer exists")));
      leases_.erase(it);
    } else if (kept.awaiting) {
      kept.awaiting = false;
      kept.expires = kept.sent_at + std::chrono::seconds(response.ttl());
    }
  }
  RunLost(std::move(lost));
}

void LeaseKeeper::Tick() {
  Lost lost;
  {
    MutexLock lock(&mu_);
    tick_scheduled_ = false;
    if (stopping_) return;
    const auto now = Clock::now();
    ExpireLocked(now, &lost);
    if (StalledLocked(now)) AbandonStreamLocked();
    EnsureStreamLocked();
    SendDueLocked(now);
    ScheduleTickLocked();
  }
  RunLost(std::move(lost));
}

void LeaseKeeper::ScheduleTickLocked() {
  if (tick_scheduled_ || leases_.empty() || stopping_) return;
  tick_scheduled_ = true;
  scheduler_->RunAfter(kTick, [this] { Tick(); });
}

void LeaseKeeper::SendDueLocked(Clock::time_point now) {
  if (stream_ == nullptr) return;
  for (auto& [id, kept] : leases_) {
    if (kept.awaiting || now < kept.next_send) continue;
    Request request;
    request.set_id(id);
    stream_->Send(std::move(request));
    kept.awaiting = true;
    kept.sent_at = now;
    kept.next_send = now + kept.ttl / 3;
  }
}

void LeaseKeeper::ExpireLocked(Clock::time_point now, Lost* lost) {
  for (auto it = leases_.begin(); it != leases_.end();) {
    if (now < it->second.expires) {
      ++it;
      continue;
    }
    lost->emplace_back(
        std::move(it->second.on_lost),
        absl::DeadlineExceededError(absl::StrCat(
            "lease ", it->first, " could not be refreshed before it expired")));
    it = leases_.erase(it);
  }
}

bool LeaseKeeper::StalledLocked(Clock::time_point now) const {
  if (stream_ == nullptr) return false;
  for (const auto& [id, kept] : leases_) {
    if (kept.awaiting && now - kept.sent_at > kStallTimeout) return true;
  }
  return false;
}

void LeaseKeeper::RunLost(Lost lost) {
  for (auto& [handler, why] : lost) {
    if (handler) handler(why);
  }
}

}  // namespace etcdisc::internal
