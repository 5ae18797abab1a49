#include "etcd/lease_keeper.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace etcdisc::internal {
namespace {

using Request = etcdserverpb::LeaseKeepAliveRequest;
using Response = etcdserverpb::LeaseKeepAliveResponse;

// How often the keeper looks for leases to refresh or stalled answers.
constexpr auto kTick = std::chrono::milliseconds(100);
// Send times kept per lease for the round-trip metric.
constexpr size_t kMaxUnanswered = 16;

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
    // Reconnects at least every 500 ms: a lease of 2 s (etcd's shortest
    // with default settings) must be refreshed within its TTL of the
    // member coming back.
    : StreamSupervisor(connection, scheduler, StreamKind::kKeepAlive,
                       &StartKeepAlive,
                       std::chrono::milliseconds(500)) {}

LeaseKeeper::~LeaseKeeper() { Shutdown(); }

void LeaseKeeper::Keep(int64_t id, int64_t ttl_seconds,
                       LeaseLostHandler on_lost, Clock::time_point asked_at,
                       Clock::duration every) {
  MutexLock lock(&mu_);
  const auto now = Clock::now();
  Kept& kept = leases_[id];
  kept.ttl = std::chrono::seconds(std::max<int64_t>(ttl_seconds, 1));
  if (asked_at != Clock::time_point{}) {
    kept.valid_until = std::max(kept.valid_until, asked_at + kept.ttl);
  }
  kept.every = every > Clock::duration::zero() && every < kept.ttl / 3
                   ? every
                   : kept.ttl / 3;
  // Counted from the ask when known: a lease asked for long ago (a grant
  // retried under the same id) has less of its TTL left.
  kept.next_send =
      std::min(now, asked_at == Clock::time_point{} ? now : asked_at) +
      kept.every;
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

LeaseKeeper::Clock::time_point LeaseKeeper::ValidUntil(int64_t id) const {
  MutexLock lock(&mu_);
  auto it = leases_.find(id);
  return it == leases_.end() ? Clock::time_point{} : it->second.valid_until;
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
    kept.unanswered.clear();
    kept.unrecorded = 0;
    kept.next_send = now;
  }
  SendDueLocked(now);
}

void LeaseKeeper::OnStreamLostLocked() {
  for (auto& [id, kept] : leases_) {
    kept.awaiting = false;
    kept.unanswered.clear();
    kept.unrecorded = 0;
  }
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
    } else {
      kept.awaiting = false;
      if (kept.unanswered.empty()) {
        if (kept.unrecorded > 0) --kept.unrecorded;  // Its send time is unknown.
      } else {
        const Clock::time_point sent = kept.unanswered.front();
        connection_->metrics().RecordKeepAliveRoundTrip(Clock::now() - sent);
        kept.valid_until = std::max(
            kept.valid_until, sent + std::chrono::seconds(response.ttl()));
        kept.unanswered.pop_front();
      }
    }
  }
  RunLost(std::move(lost));
}

void LeaseKeeper::Tick() {
  MutexLock lock(&mu_);
  tick_scheduled_ = false;
  if (StoppingLocked()) return;
  const auto now = Clock::now();
  if (StalledLocked(now)) AbandonStreamLocked();
  EnsureStreamLocked();
  SendDueLocked(now);
  ScheduleTickLocked();
}

void LeaseKeeper::ScheduleTickLocked() {
  if (tick_scheduled_ || leases_.empty() || StoppingLocked()) return;
  tick_scheduled_ = true;
  scheduler_->RunAfter(kTick, [this] { Tick(); });
}

void LeaseKeeper::SendDueLocked(Clock::time_point now) {
  if (stream_ == nullptr) return;
  for (auto& [id, kept] : leases_) {
    if (now < kept.next_send) continue;
    // Sent again while an earlier refresh is unanswered: a slow member may
    // still apply this one in time, and each applied one renews the lease.
    Request request;
    request.set_id(id);
    stream_->Send(std::move(request));
    if (!kept.awaiting) kept.sent_at = now;  // The oldest unanswered one.
    kept.awaiting = true;
    // The times kept are those of the oldest unanswered refreshes; past the
    // cap, later ones are only counted, so that each answer (in order)
    // still meets its own send time.
    if (kept.unrecorded == 0 && kept.unanswered.size() < kMaxUnanswered) {
      kept.unanswered.push_back(now);
    } else {
      ++kept.unrecorded;
    }
    kept.next_send = now + kept.every;
  }
}

bool LeaseKeeper::StalledLocked(Clock::time_point now) const {
  // With one member there is nowhere better to go: a slow answer is still
  // the best one to wait for (a dead connection is found by HTTP/2 pings).
  if (stream_ == nullptr || connection_->size() < 2) return false;
  for (const auto& [id, kept] : leases_) {
    // Sent at a third of the TTL (or sooner), so half the TTL later leaves
    // at least a sixth of it for the next member to refresh the lease.
    if (kept.awaiting && now - kept.sent_at > kept.ttl / 2) return true;
  }
  return false;
}

void LeaseKeeper::RunLost(Lost lost) {
  for (auto& [handler, why] : lost) {
    if (handler) handler(why);
  }
}

}  // namespace etcdisc::internal
