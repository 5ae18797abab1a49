#include "discovery/service_record_watches.h"

#include <algorithm>
#include <utility>

namespace etcdisc::internal {

int64_t ServiceRecordWatches::Join(const std::string& key, int64_t from,
                                   std::optional<KeyValue> known,
                                   RecordListener listener) {
  int64_t ticket = 0;
  uint64_t token = 0;  // Set when this call starts the watch.
  {
    MutexLock lock(&mu_);
    ticket = ++next_ticket_;
    auto [it, fresh] = shared_.try_emplace(key);
    Shared& shared = it->second;
    if (fresh) {
      shared.token = token = ++next_token_;
      shared.record = std::move(known);
      shared.revision = from - 1;
    } else if (shared.revision >= from) {
      // The watch knows the record at a later revision than the caller.
      listener.on_change(shared.record ? &*shared.record : nullptr);
    }
    shared.listeners.emplace(ticket, Listener{std::move(listener), from});
  }
  if (token == 0) return ticket;

  WatchOptions options;
  options.key = key;
  options.start_revision = from;
  const WatchId id =
      start_(std::move(options), [this, key, token](WatchUpdate update) {
        OnUpdate(key, token, std::move(update));
      });
  {
    MutexLock lock(&mu_);
    auto it = shared_.find(key);
    if (it != shared_.end() && it->second.token == token) {
      it->second.id = id;
      return ticket;
    }
  }
  // Everyone left, or the watch ended, before its start returned.
  cancel_(id);
  return ticket;
}

void ServiceRecordWatches::Leave(const std::string& key, int64_t ticket) {
  WatchId last = 0;
  {
    MutexLock lock(&mu_);
    auto it = shared_.find(key);
    if (it == shared_.end() || it->second.listeners.erase(ticket) == 0) return;
    if (!it->second.listeners.empty()) return;
    last = it->second.id;  // 0 while its start runs: the starter cancels it.
    shared_.erase(it);
  }
  if (last != 0) cancel_(last);
}

void ServiceRecordWatches::OnUpdate(const std::string& key, uint64_t token,
                                    WatchUpdate update) {
  MutexLock lock(&mu_);
  auto it = shared_.find(key);
  if (it == shared_.end() || it->second.token != token) return;
  Shared& shared = it->second;
  for (WatchEvent& event : update.events) {
    const int64_t revision = event.kv.mod_revision;
    if (event.type == WatchEvent::Type::kDelete) {
      shared.record.reset();
    } else {
      shared.record = std::move(event.kv);
    }
    shared.revision = std::max(shared.revision, revision);
    const KeyValue* now = shared.record ? &*shared.record : nullptr;
    for (auto& [ticket, listener] : shared.listeners) {
      if (revision >= listener.from) listener.calls.on_change(now);
    }
  }
  if (update.status.ok()) return;
  // Ended for good: each listener reads the record and joins again.
  std::map<int64_t, Listener> ended = std::move(shared.listeners);
  shared_.erase(it);
  for (auto& [ticket, listener] : ended) listener.calls.on_end();
}

size_t ServiceRecordWatches::watches() const {
  MutexLock lock(&mu_);
  return shared_.size();
}

size_t ServiceRecordWatches::listeners() const {
  MutexLock lock(&mu_);
  size_t n = 0;
  for (const auto& [key, shared] : shared_) n += shared.listeners.size();
  return n;
}

}  // namespace etcdisc::internal
