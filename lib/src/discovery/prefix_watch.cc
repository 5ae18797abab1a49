#include "discovery/prefix_watch.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "etcd/grpc_status.h"
#include "util/log.h"
#include "util/status_macros.h"

namespace etcdisc::internal {
namespace {

using Clock = std::chrono::steady_clock;

// Re-reads further apart than this start again from the shortest backoff.
constexpr auto kCalmAfter = std::chrono::seconds(30);
// How long a reconciliation that found a difference gives the watch to
// deliver the events behind it before it re-reads.
constexpr auto kSettle = std::chrono::seconds(1);

}  // namespace

PrefixWatch::PrefixWatch(std::shared_ptr<ClientCore> core, PrefixSpec spec,
                         PrefixSink sink)
    : core_(std::move(core)),
      spec_(std::move(spec)),
      sink_(std::move(sink)),
      backoff_(std::chrono::milliseconds(100), std::chrono::seconds(5)) {}

absl::Status PrefixWatch::Start(bool existing) {
  ETCDISC_ASSIGN_OR_RETURN(auto current, core_->etcd().kv().Range(RangeRequest::Prefix(spec_.prefix)));
  WatchId cancel = 0;
  {
    MutexLock lock(&mu_);
    if (stopped_) {
      return absl::FailedPreconditionError("the etcdisc client shut down");
    }
    for (const KeyValue& kv : current.kvs) {
      Known& known = known_[kv.key];
      known.create_revision = kv.create_revision;
      // Without `existing`, present keys are live but not delivered: their
      // going is still reported.
      known.announced = existing ? AnnounceLocked(kv) : true;
    }
    WatchFromLocked(current.revision + 1);
    ScheduleReconcileLocked();
    SettledLocked(current.revision);
    if (sink_closed_) cancel = CloseLocked();
  }
  if (cancel != 0) core_->etcd().watch().Cancel(cancel);
  return absl::OkStatus();
}

void PrefixWatch::Stop() {
  WatchId watch = 0;
  {
    MutexLock lock(&mu_);
    stopped_ = true;
    std::swap(watch, watch_);
  }
  if (watch != 0) core_->etcd().watch().Cancel(watch);
}

void PrefixWatch::StopBy(Clock::time_point /*deadline*/) {
  Stop();
  sink_.on_end(absl::FailedPreconditionError("the etcdisc client shut down"));
}

void PrefixWatch::AddMetrics(ClientMetrics* out) const {
  SubscriptionMetrics m;
  m.service = spec_.name;
  m.kind = sink_.kind;
  m.queue_depth = sink_.queue_depth ? sink_.queue_depth() : 0;
  MutexLock lock(&mu_);
  for (const auto& [key, known] : known_) m.hosts += known.announced ? 1 : 0;
  out->subscriptions.push_back(std::move(m));
}

WatchId PrefixWatch::CloseLocked() {
  stopped_ = true;
  WatchId watch = 0;
  std::swap(watch, watch_);
  return watch;
}

void PrefixWatch::WatchFromLocked(int64_t revision) {
  WatchOptions options;
  options.key = spec_.prefix;
  options.range_end = PrefixRangeEnd(spec_.prefix);
  options.start_revision = revision;
  options.progress_notify = true;
  std::weak_ptr<PrefixWatch> weak = weak_from_this();
  watch_ = core_->etcd().watch().Watch(options, [weak](WatchUpdate update) {
    if (auto self = weak.lock()) self->OnUpdate(std::move(update));
  });
}

absl::Status PrefixWatch::RefusalOf(const absl::Status& status) const {
  if (!IsRefusal(status)) return absl::OkStatus();
  return absl::Status(
      status.code(),
      absl::StrCat("etcd no longer lets this client's user read ", spec_.prefix,
                   " (", status.message(), "): a watcher's role needs read "
                   "on the key prefix ", spec_.role_prefix,
                   "; the watch has ended"));
}

absl::Status PrefixWatch::EndIfRefusedLocked(const absl::Status& status) {
  absl::Status refused = RefusalOf(status);
  if (!refused.ok()) stopped_ = true;
  return refused;
}

void PrefixWatch::OnUpdate(WatchUpdate update) {
  WatchId cancel = 0;
  absl::Status refused;
  {
    MutexLock lock(&mu_);
    if (stopped_) return;
    if (update.resumed) {
      // After a reconnect the member may hold another history than the one
      // watched so far (etcd wiped and refilled past our revision): check.
      PostReconcileLocked(/*periodic=*/false);
      return;
    }
    for (const WatchEvent& event : update.events) {
      if (event.type == WatchEvent::Type::kDelete) {
        ApplyDeleteLocked(event.kv.key);
      } else {
        ApplyPutLocked(event.kv);
      }
    }
    // A stream resumed on a member behind the last one stamps its updates
    // with a lower revision than seen already; the state is no older for it.
    if (update.status.ok()) SettledLocked(std::max(update.revision, settled_));
    if (sink_closed_) {
      cancel = CloseLocked();
    } else if (!update.status.ok()) {
      // Compacted past our resume point, or etcd's store went back: what
      // happened in between is gone from the history, so compare the
      // present with what we know.
      // A watch etcd refused (the user lost read permission) ends the
      // subscription: no re-read can succeed, so none is tried.
      watch_ = 0;
      refused = EndIfRefusedLocked(update.status);
      if (refused.ok()) ScheduleResyncLocked(Reread::kAfterEnd);
    }
  }
  // From inside the watch handler: Cancel does not wait for it.
  if (cancel != 0) core_->etcd().watch().Cancel(cancel);
  if (!refused.ok()) sink_.on_end(refused);
}

void PrefixWatch::ApplyPutLocked(const KeyValue& kv) {
  auto it = known_.find(kv.key);
  if (it != known_.end() && it->second.create_revision != kv.create_revision) {
    // Deleted and created again without us seeing the delete.
    ApplyDeleteLocked(kv.key);
    it = known_.end();
  }
  if (it == known_.end()) {
    Known& known = known_[kv.key];
    known.create_revision = kv.create_revision;
    known.announced = AnnounceLocked(kv);
  } else if (!it->second.announced) {
    // A malformed record fixed in place counts as appearing now.
    it->second.announced = AnnounceLocked(kv);
  } else if (sink_.on_update && !sink_closed_) {
    sink_.on_update(kv);
  }
}

void PrefixWatch::SettledLocked(int64_t revision) {
  settled_ = revision;
  if (sink_.on_settled && !sink_closed_) sink_.on_settled(revision);
}

void PrefixWatch::ApplyDeleteLocked(const std::string& key) {
  auto it = known_.find(key);
  if (it == known_.end()) return;
  const Known gone = it->second;
  known_.erase(it);
  if (!gone.announced || sink_closed_) return;
  if (!sink_.on_gone(key, gone.create_revision)) sink_closed_ = true;
}

bool PrefixWatch::AnnounceLocked(const KeyValue& kv) {
  if (sink_closed_) return true;  // Ending: nothing more is delivered.
  switch (sink_.on_new(kv)) {
    case PrefixSink::Take::kMalformed:
      return false;
    case PrefixSink::Take::kClosed:
      sink_closed_ = true;
      break;
    case PrefixSink::Take::kTaken:
      break;
  }
  return true;
}

bool PrefixWatch::MatchesLocked(const std::vector<KeyValue>& kvs) const {
  if (kvs.size() != known_.size()) return false;
  for (const KeyValue& kv : kvs) {
    auto it = known_.find(kv.key);
    if (it == known_.end() || it->second.create_revision != kv.create_revision) {
      return false;
    }
  }
  return true;
}

void PrefixWatch::ApplySnapshotLocked(const std::vector<KeyValue>& kvs) {
  std::set<std::string> present;
  for (const KeyValue& kv : kvs) present.insert(kv.key);
  std::vector<std::string> gone;
  for (const auto& [key, known] : known_) {
    if (!present.count(key)) gone.push_back(key);
  }
  for (const std::string& key : gone) ApplyDeleteLocked(key);
  for (const KeyValue& kv : kvs) ApplyPutLocked(kv);
}

void PrefixWatch::ScheduleResyncLocked(Reread why) {
  if (resync_pending_ || stopped_) return;
  resync_pending_ = true;
  // The first re-read in a while goes at once; one needed again soon after
  // (a member that keeps refusing the watch, a failing read) backs off.
  Clock::duration delay = Clock::duration::zero();
  if (Clock::now() - last_resync_ > kCalmAfter) {
    backoff_.Reset();
  } else {
    delay = backoff_.Next();
  }
  std::weak_ptr<PrefixWatch> weak = weak_from_this();
  ThreadPool* pool = &core_->watch_pool();
  auto post = [weak, pool, why] {
    if (auto self = weak.lock()) {
      pool->Post([self, why] { self->Resync(why); });
    }
  };
  if (delay == Clock::duration::zero()) {
    post();
  } else {
    core_->RunAfter(delay, post);
  }
}

void PrefixWatch::Resync(Reread why) {
  WatchId old = 0;
  {
    MutexLock lock(&mu_);
    if (stopped_) return;
    last_resync_ = Clock::now();
    std::swap(old, watch_);
  }
  // A correction replaces a running watch: end it first, so that nothing it
  // delivers crosses the re-read (which then covers it).
  if (old != 0) core_->etcd().watch().Cancel(old);
  auto current = core_->etcd().kv().Range(RangeRequest::Prefix(spec_.prefix));
  if (current.ok()) {
    Apply(why, *current);
    return;
  }
  absl::Status refused;
  {
    MutexLock lock(&mu_);
    resync_pending_ = false;
    if (stopped_) return;
    refused = EndIfRefusedLocked(current.status());
    if (refused.ok()) ScheduleResyncLocked(why);
  }
  if (!refused.ok()) sink_.on_end(refused);
}

void PrefixWatch::Apply(Reread why, const RangeResponse& current) {
  WatchId cancel = 0;
  {
    MutexLock lock(&mu_);
    resync_pending_ = false;
    if (stopped_) return;
    core_->CountResync();
    // Counted before the corrections are delivered, so that whoever sees
    // one also sees it counted.
    if (why == Reread::kCorrection && !MatchesLocked(current.kvs)) {
      core_->CountCorrection();
      ETCDISC_LOG(kWarning, absl::StrCat(spec_.what, ": a re-read found ",
                                         "keys that the watch had not ",
                                         "reported; corrected"));
    }
    ApplySnapshotLocked(current.kvs);
    SettledLocked(current.revision);
    if (sink_closed_) {
      cancel = CloseLocked();
    } else {
      WatchFromLocked(current.revision + 1);
    }
  }
  if (cancel != 0) core_->etcd().watch().Cancel(cancel);
}

void PrefixWatch::ScheduleReconcileLocked() {
  const auto interval = core_->options().reconcile_interval;
  if (interval.count() <= 0 || stopped_) return;
  std::weak_ptr<PrefixWatch> weak = weak_from_this();
  ThreadPool* pool = &core_->watch_pool();
  core_->RunAfter(interval, [weak, pool] {
    if (auto self = weak.lock()) {
      pool->Post([self] { self->Reconcile(/*periodic=*/true); });
    }
  });
}

void PrefixWatch::PostReconcileLocked(bool periodic) {
  core_->watch_pool().Post(
      [self = shared_from_this(), periodic] { self->Reconcile(periodic); });
}

void PrefixWatch::Reconcile(bool periodic) {
  {
    MutexLock lock(&mu_);
    if (stopped_) return;
    if (watch_ == 0 || resync_pending_) {  // A re-read is under way anyway.
      if (periodic) ScheduleReconcileLocked();
      return;
    }
  }
  // Keys and create revisions only: equal to what we hold unless something
  // changed since (its events on their way) or an event was lost.
  RangeRequest read = RangeRequest::Prefix(spec_.prefix);
  read.keys_only = true;
  auto snapshot = core_->etcd().kv().Range(read);
  MutexLock lock(&mu_);
  if (stopped_) return;
  if (periodic) ScheduleReconcileLocked();
  if (!snapshot.ok()) {
    // A check after a reconnect must not be skipped: re-read instead.
    if (!periodic) ScheduleResyncLocked(Reread::kCorrection);
    return;
  }
  if (MatchesLocked(snapshot->kvs)) return;
  // Look again once the watch has had the time to deliver what it may be
  // delivering now.
  std::weak_ptr<PrefixWatch> weak = weak_from_this();
  ThreadPool* pool = &core_->watch_pool();
  core_->RunAfter(kSettle, [weak, pool] {
    if (auto self = weak.lock()) pool->Post([self] { self->Verify(); });
  });
}

void PrefixWatch::Verify() {
  {
    MutexLock lock(&mu_);
    if (stopped_ || watch_ == 0 || resync_pending_) return;
  }
  RangeRequest read = RangeRequest::Prefix(spec_.prefix);
  read.keys_only = true;
  auto snapshot = core_->etcd().kv().Range(read);
  MutexLock lock(&mu_);
  if (stopped_ || watch_ == 0 || resync_pending_) return;
  // Still different a second later: an event is lost (or the service
  // changes all the time); a re-read settles both.
  if (!snapshot.ok() || !MatchesLocked(snapshot->kvs)) {
    ScheduleResyncLocked(Reread::kCorrection);
  }
}

}  // namespace etcdisc::internal
