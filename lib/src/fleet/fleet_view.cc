// FleetView: the fleet in memory, from a watch of the host records and one of
// the health records, with a log of its changes for any number of readers.
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "discovery/client_access.h"
#include "discovery/keys.h"
#include "discovery/prefix_watch.h"
#include "discovery/records.h"
#include "etcdisc/fleet.h"
#include "fleet/fleet_read.h"
#include "fleet/health_record.h"
#include "util/log.h"
#include "util/mutex.h"
#include "util/status_macros.h"

namespace etcdisc {

using internal::FleetId;
using internal::HealthRecord;
using internal::KeyValue;
using internal::MutexLock;
using internal::PrefixSink;
using internal::PrefixSpec;
using internal::PrefixWatch;

// Locks: the watches call the sinks under their own locks, which so come
// before mu_; nothing here calls a watch with mu_ held.
struct FleetView::State : std::enable_shared_from_this<FleetView::State> {
  // Events kept for WaitChanges; a reader further behind is told it missed.
  static constexpr size_t kKeptEvents = 10000;
  // How long a host first seen by its health record alone waits for its
  // host record: the two watches deliver apart, and a host registers its
  // record before it writes its health, so a new host's health may come
  // first. Only after this is it shown as a host that is offline.
  static constexpr std::chrono::seconds kOfflineGrace{5};

  State(std::shared_ptr<internal::ClientCore> core, std::string service)
      : core_(std::move(core)), service_(std::move(service)) {}

  absl::Status Start();
  void Stop();
  FleetSnapshot Snapshot();
  FleetChanges Changes(uint64_t after, std::chrono::milliseconds timeout);
  absl::Status Status();

 private:
  std::shared_ptr<PrefixWatch> NewWatch(bool health);
  PrefixSink::Take Put(bool health, const KeyValue& kv);
  void Gone(bool health, const std::string& key);
  // Turns what a watch delivered since its last call into events.
  void Settle(bool health) ABSL_LOCKS_EXCLUDED(mu);
  void SettleLocked(const std::set<FleetId>& ids)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
  // Whether the change of `id` from `before` to `after` waits: a new host
  // known only by a health record that does not say it went, within
  // kOfflineGrace of when it was first seen.
  bool HoldLocked(const FleetId& id, const std::optional<FleetHost>& before,
                  const std::optional<FleetHost>& after)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
  // Settles the held hosts whose grace ended.
  void Release() ABSL_LOCKS_EXCLUDED(mu);
  void End(const absl::Status& why);
  void BuildLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
  std::optional<FleetHost> EntryLocked(const FleetId& id) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
  std::optional<FleetId> IdOf(bool health, const std::string& key) const;

  const std::shared_ptr<internal::ClientCore> core_;
  const std::string service_;  // Empty: all.
  std::shared_ptr<PrefixWatch> hosts_watch_;   // Set by Start().
  std::shared_ptr<PrefixWatch> health_watch_;  // Set by Start().

  mutable internal::Mutex mu;
  std::map<FleetId, std::string> names_ ABSL_GUARDED_BY(mu);  // Online hosts.
  std::map<FleetId, HealthRecord> health_ ABSL_GUARDED_BY(mu);
  // What each watch delivered since its last on_settled ([0] hosts,
  // [1] health): a watch settles only its own, never the other's half-
  // delivered batch.
  std::set<FleetId> touched_[2] ABSL_GUARDED_BY(mu);
  // Held by HoldLocked, until when.
  std::map<FleetId, std::chrono::steady_clock::time_point> held_
      ABSL_GUARDED_BY(mu);
  std::map<FleetId, FleetHost> fleet_ ABSL_GUARDED_BY(mu);  // As published.
  bool ready_ ABSL_GUARDED_BY(mu) = false;  // Both first reads done.
  bool stopped_ ABSL_GUARDED_BY(mu) = false;
  absl::Status end_ ABSL_GUARDED_BY(mu);
  uint64_t sequence_ ABSL_GUARDED_BY(mu) = 0;  // Of the last event.
  std::deque<FleetEvent> events_ ABSL_GUARDED_BY(mu);
  // Of fleet_, rebuilt when read after a change.
  std::shared_ptr<const std::vector<FleetHost>> list_ ABSL_GUARDED_BY(mu);
};

std::shared_ptr<PrefixWatch> FleetView::State::NewWatch(bool health) {
  const internal::KeyLayout& keys = core_->keys();
  PrefixSpec spec;
  if (health) {
    spec.prefix = service_.empty() ? keys.AllHealthPrefix()
                                  : keys.HealthPrefix(service_);
    spec.role_prefix = keys.AllHealthPrefix();
  } else {
    spec.prefix = service_.empty() ? keys.AllHostsPrefix()
                                  : keys.HostsPrefix(service_);
    spec.role_prefix = keys.AllHostsPrefix();
  }
  spec.name = service_.empty() ? "fleet" : service_;
  spec.what = absl::StrCat(health ? "the health of " : "the hosts of ",
                           service_.empty() ? std::string("the fleet")
                                           : absl::StrCat("\"", service_, "\""));
  std::weak_ptr<State> weak = weak_from_this();
  PrefixSink sink;
  sink.kind = "fleet";
  sink.on_new = [weak, health](const KeyValue& kv) {
    auto self = weak.lock();
    return self ? self->Put(health, kv) : PrefixSink::Take::kClosed;
  };
  sink.on_update = [weak, health](const KeyValue& kv) {
    if (auto self = weak.lock()) self->Put(health, kv);
  };
  sink.on_gone = [weak, health](const std::string& key, int64_t) {
    if (auto self = weak.lock()) self->Gone(health, key);
    return true;
  };
  sink.on_settled = [weak, health](int64_t) {
    if (auto self = weak.lock()) self->Settle(health);
  };
  sink.on_end = [weak](const absl::Status& why) {
    if (auto self = weak.lock()) self->End(why);
  };
  sink.queue_depth = [] { return size_t{0}; };
  return std::make_shared<PrefixWatch>(core_, std::move(spec), std::move(sink));
}

absl::Status FleetView::State::Start() {
  hosts_watch_ = NewWatch(/*health=*/false);
  health_watch_ = NewWatch(/*health=*/true);
  ETCDISC_RETURN_IF_ERROR(core_->Track(hosts_watch_));
  ETCDISC_RETURN_IF_ERROR(core_->Track(health_watch_));
  absl::Status started = hosts_watch_->Start(/*existing=*/true);
  if (started.ok()) started = health_watch_->Start(/*existing=*/true);
  if (!started.ok()) {
    Stop();
    return started;
  }
  MutexLock lock(&mu);
  BuildLocked();
  ready_ = true;
  return absl::OkStatus();
}

void FleetView::State::Stop() {
  {
    MutexLock lock(&mu);
    stopped_ = true;
    if (end_.ok()) end_ = absl::CancelledError("the fleet view was closed");
  }
  // Both, also when one ended already (etcd refused it): the other must not
  // stay on the client's watch stream.
  if (hosts_watch_) hosts_watch_->Stop();
  if (health_watch_) health_watch_->Stop();
}

std::optional<FleetId> FleetView::State::IdOf(bool health,
                                              const std::string& key) const {
  const internal::KeyLayout& keys = core_->keys();
  auto parts = health ? keys.ParseHealthKey(key) : keys.ParseHostKey(key);
  if (!parts.ok()) return std::nullopt;
  return FleetId{parts->service, parts->uuid};
}

PrefixSink::Take FleetView::State::Put(bool health, const KeyValue& kv) {
  auto id = IdOf(health, kv.key);
  if (!id) return PrefixSink::Take::kMalformed;
  if (health) {
    auto record = internal::DecodeHealthRecord(kv.value);
    if (!record.ok()) {
      ETCDISC_LOG(kWarning,
                  absl::StrCat("skipping the malformed health record ", kv.key,
                               ": ", record.status().message()));
      return PrefixSink::Take::kMalformed;
    }
    MutexLock lock(&mu);
    health_[*id] = *std::move(record);
    touched_[1].insert(*id);
    return PrefixSink::Take::kTaken;
  }
  auto host = internal::HostFromKeyValue(core_->keys(), kv);
  if (!host.ok()) {
    ETCDISC_LOG(kWarning, absl::StrCat("skipping ", host.status().message()));
    return PrefixSink::Take::kMalformed;
  }
  MutexLock lock(&mu);
  names_[*id] = host->name;
  touched_[0].insert(*id);
  return PrefixSink::Take::kTaken;
}

void FleetView::State::Gone(bool health, const std::string& key) {
  auto id = IdOf(health, key);
  if (!id) return;
  MutexLock lock(&mu);
  if (health) {
    health_.erase(*id);
  } else {
    names_.erase(*id);
  }
  touched_[health ? 1 : 0].insert(*id);
}

std::optional<FleetHost> FleetView::State::EntryLocked(
    const FleetId& id) const {
  auto name = names_.find(id);
  auto record = health_.find(id);
  return internal::FleetHostOf(
      id, name == names_.end() ? nullptr : &name->second,
      record == health_.end() ? nullptr : &record->second);
}

void FleetView::State::BuildLocked() {
  fleet_.clear();
  for (const auto& [id, name] : names_) fleet_[id] = *EntryLocked(id);
  for (const auto& [id, record] : health_) {
    if (fleet_.count(id) == 0) fleet_[id] = *EntryLocked(id);
  }
  touched_[0].clear();
  touched_[1].clear();
  list_.reset();
}

void FleetView::State::Settle(bool health) {
  MutexLock lock(&mu);
  std::set<FleetId> ids;
  ids.swap(touched_[health ? 1 : 0]);
  SettleLocked(ids);
}

bool FleetView::State::HoldLocked(const FleetId& id,
                                  const std::optional<FleetHost>& before,
                                  const std::optional<FleetHost>& after) {
  auto record = health_.find(id);
  if (before || !after || after->online || record == health_.end() ||
      record->second.went_at) {
    held_.erase(id);
    return false;
  }
  const auto now = std::chrono::steady_clock::now();
  auto [it, added] = held_.try_emplace(id, now + kOfflineGrace);
  if (added) {
    std::weak_ptr<State> weak = weak_from_this();
    core_->RunAfter(kOfflineGrace, [weak] {
      if (auto self = weak.lock()) self->Release();
    });
  }
  return now < it->second;
}

void FleetView::State::Release() {
  MutexLock lock(&mu);
  const auto now = std::chrono::steady_clock::now();
  std::set<FleetId> ids;
  for (const auto& [id, until] : held_) {
    if (until <= now) ids.insert(id);
  }
  SettleLocked(ids);
}

void FleetView::State::SettleLocked(const std::set<FleetId>& ids) {
  if (!ready_ || stopped_) return;  // Start() builds from all it has.
  for (const FleetId& id : ids) {
    auto it = fleet_.find(id);
    std::optional<FleetHost> before;
    if (it != fleet_.end()) before = it->second;
    std::optional<FleetHost> after = EntryLocked(id);
    if (HoldLocked(id, before, after)) continue;
    auto kind = internal::ChangeOf(before, after);
    if (!kind) {
      // Nothing a reader is told of (gauges of a final record written with
      // the last sample's time): the snapshot still shows it.
      if (after) fleet_[id] = *std::move(after);
      list_.reset();
      continue;
    }
    FleetEvent event{*kind, ++sequence_, after ? *after : *before};
    if (after) {
      fleet_[id] = *std::move(after);
    } else {
      fleet_.erase(id);
    }
    events_.push_back(std::move(event));
    if (events_.size() > kKeptEvents) events_.pop_front();
    list_.reset();
  }
}

void FleetView::State::End(const absl::Status& why) {
  MutexLock lock(&mu);
  stopped_ = true;
  if (end_.ok()) end_ = why;
}

FleetSnapshot FleetView::State::Snapshot() {
  MutexLock lock(&mu);
  if (list_ == nullptr) {
    auto list = std::make_shared<std::vector<FleetHost>>();
    list->reserve(fleet_.size());
    for (const auto& [id, host] : fleet_) list->push_back(host);
    internal::SortFleet(list.get());
    list_ = std::move(list);
  }
  return FleetSnapshot{list_, sequence_};
}

FleetChanges FleetView::State::Changes(uint64_t after,
                                       std::chrono::milliseconds timeout) {
  MutexLock lock(&mu);
  struct Waiting {
    const State* state;
    uint64_t after;
  } waiting{this, after};
  mu.AwaitWithTimeout(
      absl::Condition(
          +[](Waiting* w) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return w->state->sequence_ != w->after || w->state->stopped_;
          },
          &waiting),
      absl::FromChrono(timeout));
  FleetChanges out;
  const uint64_t first =
      events_.empty() ? sequence_ + 1 : events_.front().sequence;
  // A cursor this view never gave, or events gone from the log.
  if (after > sequence_ || after + 1 < first) {
    out.missed = true;
    return out;
  }
  for (size_t i = after + 1 - first; i < events_.size(); ++i) {
    out.events.push_back(events_[i]);
  }
  return out;
}

absl::Status FleetView::State::Status() {
  MutexLock lock(&mu);
  return stopped_ ? end_ : absl::OkStatus();
}

// ---- FleetView --------------------------------------------------------------

absl::StatusOr<std::unique_ptr<FleetView>> FleetView::Open(
    Client& client, absl::string_view service) {
  if (!service.empty()) {
    ETCDISC_RETURN_IF_ERROR(internal::ValidateServiceName(service));
  }
  auto state = std::make_shared<State>(
      internal::ClientAccess::SharedCore(client), std::string(service));
  ETCDISC_RETURN_IF_ERROR(state->Start());
  return std::unique_ptr<FleetView>(new FleetView(std::move(state)));
}

FleetView::FleetView(std::shared_ptr<State> state) : state_(std::move(state)) {}

FleetView::~FleetView() { state_->Stop(); }

FleetSnapshot FleetView::snapshot() const { return state_->Snapshot(); }

FleetChanges FleetView::WaitChanges(uint64_t after,
                                    std::chrono::milliseconds timeout) const {
  // Its own reference: a wait under way while the view is destroyed returns
  // (woken by Stop) from a State that still exists.
  std::shared_ptr<State> state = state_;
  return state->Changes(after, timeout);
}

absl::Status FleetView::status() const { return state_->Status(); }

}  // namespace etcdisc
