#include "discovery/host_watch.h"

#include "absl/strings/str_cat.h"
#include "discovery/records.h"
#include "util/log.h"

namespace etcdisc::internal {

HostWatch::HostWatch(std::shared_ptr<ClientCore> core, std::string service,
                     HostSink sink)
    : core_(std::move(core)),
      service_(std::move(service)),
      prefix_(core_->keys().HostsPrefix(service_)),
      sink_(std::move(sink)),
      backoff_(std::chrono::milliseconds(100), std::chrono::seconds(5)) {}

absl::Status HostWatch::Start(bool existing) {
  auto current = core_->etcd().kv().Range(RangeRequest::Prefix(prefix_));
  if (!current.ok()) return current.status();
  MutexLock lock(&mu_);
  for (const KeyValue& kv : current->kvs) {
    Known& known = known_[kv.key];
    known.create_revision = kv.create_revision;
    // Without `existing`, present hosts are live but not delivered: their
    // later Down is still reported.
    known.announced = existing ? AnnounceLocked(kv) : true;
  }
  WatchFromLocked(current->revision + 1);
  return absl::OkStatus();
}

void HostWatch::Stop() {
  WatchId watch = 0;
  {
    MutexLock lock(&mu_);
    stopped_ = true;
    std::swap(watch, watch_);
  }
  if (watch != 0) core_->etcd().watch().Cancel(watch);
}

void HostWatch::StopForShutdown() {
  Stop();
  sink_.on_end(absl::FailedPreconditionError("the etcdisc client shut down"));
}

void HostWatch::WatchFromLocked(int64_t revision) {
  WatchOptions options;
  options.key = prefix_;
  options.range_end = PrefixRangeEnd(prefix_);
  options.start_revision = revision;
  options.progress_notify = true;
  std::weak_ptr<HostWatch> weak = weak_from_this();
  watch_ = core_->etcd().watch().Watch(options, [weak](WatchUpdate update) {
    if (auto self = weak.lock()) self->OnUpdate(std::move(update));
  });
}

void HostWatch::OnUpdate(WatchUpdate update) {
  MutexLock lock(&mu_);
  if (stopped_) return;
  for (const WatchEvent& event : update.events) {
    if (event.type == WatchEvent::Type::kDelete) {
      ApplyDeleteLocked(event.kv.key);
    } else {
      ApplyPutLocked(event.kv);
    }
  }
  if (!update.status.ok()) {
    // Compacted past our resume point: what happened in between is gone from
    // the history, so compare the present with what we know.
    watch_ = 0;
    if (!core_->pool().Post([self = shared_from_this()] { self->Resync(); })) {
      stopped_ = true;
    }
  }
}

void HostWatch::ApplyPutLocked(const KeyValue& kv) {
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
  }
}

void HostWatch::ApplyDeleteLocked(const std::string& key) {
  auto it = known_.find(key);
  if (it == known_.end()) return;
  const bool announced = it->second.announced;
  known_.erase(it);
  if (!announced) return;
  auto parts = core_->keys().ParseHostKey(key);
  if (parts.ok()) sink_.on_down(parts->uuid);
}

bool HostWatch::AnnounceLocked(const KeyValue& kv) {
  auto host = HostFromKeyValue(core_->keys(), kv);
  if (!host.ok()) {
    LogWarning(absl::StrCat("skipping ", host.status().message()));
    return false;
  }
  sink_.on_new(*host);
  return true;
}

void HostWatch::Resync() {
  auto current = core_->etcd().kv().Range(RangeRequest::Prefix(prefix_));
  MutexLock lock(&mu_);
  if (stopped_) return;
  if (!current.ok()) {
    RetryResyncLater();
    return;
  }
  backoff_.Reset();
  core_->CountResync();
  std::set<std::string> present;
  for (const KeyValue& kv : current->kvs) present.insert(kv.key);
  std::vector<std::string> gone;
  for (const auto& [key, known] : known_) {
    if (!present.count(key)) gone.push_back(key);
  }
  for (const std::string& key : gone) ApplyDeleteLocked(key);
  for (const KeyValue& kv : current->kvs) ApplyPutLocked(kv);
  WatchFromLocked(current->revision + 1);
}

void HostWatch::RetryResyncLater() {
  std::weak_ptr<HostWatch> weak = weak_from_this();
  ThreadPool* pool = &core_->pool();
  core_->etcd().scheduler().RunAfter(backoff_.Next(), [weak, pool] {
    if (auto self = weak.lock()) {
      pool->Post([self] { self->Resync(); });
    }
  });
}

}  // namespace etcdisc::internal
