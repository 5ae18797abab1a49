#include "etcd/watch_hub.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "etcd/proto_convert.h"

namespace etcdisc::internal {
namespace {

using Request = etcdserverpb::WatchRequest;
using Response = etcdserverpb::WatchResponse;

// etcd's watch id on answers to a progress request, which concern no watcher.
constexpr int64_t kStreamWideId = -1;

// Set while this thread runs a watch handler, so that Cancel() called from a
// handler does not wait for the handler itself.
thread_local bool in_handler = false;

BidiStream<Request, Response>::StartFn StartWatch(const MemberStubs& member) {
  etcdserverpb::Watch::Stub* stub = member.watch.get();
  return [stub](grpc::ClientContext* context,
                grpc::ClientBidiReactor<Request, Response>* reactor) {
    stub->async()->Watch(context, reactor);
  };
}

absl::Status EndStatus(const Response& response, const WatchOptions& options,
                       int64_t from) {
  if (response.compact_revision() > 0) {
    return absl::OutOfRangeError(absl::StrCat(
        "watch of \"", options.key, "\" from revision ", from,
        ": that revision is compacted; the oldest one left is ",
        response.compact_revision()));
  }
  return absl::CancelledError(absl::StrCat("etcd ended the watch of \"",
                                           options.key, "\": ",
                                           response.cancel_reason()));
}

}  // namespace

WatchHub::WatchHub(Connection* connection, Scheduler* scheduler, Timing timing)
    : StreamSupervisor(connection, scheduler, &StartWatch), timing_(timing) {}

WatchHub::~WatchHub() { Shutdown(); }

WatchId WatchHub::Watch(WatchOptions options, WatchHandler handler) {
  MutexLock lock(&mu_);
  const WatchId id = next_id_++;
  Watcher& watcher = watchers_[id];
  watcher.next_revision = options.start_revision;
  watcher.options = std::move(options);
  watcher.handler = std::move(handler);
  if (stream_ != nullptr) {
    SendCreateLocked(id, &watcher);
  } else {
    EnsureStreamLocked();  // Sends every watcher's create when it opens.
  }
  ScheduleProbeLocked();
  return id;
}

void WatchHub::Cancel(WatchId id) {
  {
    MutexLock lock(&mu_);
    auto it = watchers_.find(id);
    if (it == watchers_.end()) return;
    const bool sent = it->second.sent;
    watchers_.erase(it);
    if (stream_ != nullptr && sent) {
      Request request;
      request.mutable_cancel_request()->set_watch_id(id);
      stream_->Send(std::move(request));
    }
  }
  // Wait for a handler that may be running now (it may be this one's).
  if (!in_handler) MutexLock wait(&dispatch_mu_);
}

size_t WatchHub::size() const {
  MutexLock lock(&mu_);
  return watchers_.size();
}

void WatchHub::OnStreamOpenedLocked() {
  for (auto& [id, watcher] : watchers_) {
    watcher.sent = false;
    SendCreateLocked(id, &watcher);
  }
  probe_outstanding_ = false;
  ScheduleProbeLocked();
}

void WatchHub::OnStreamLostLocked() {
  for (auto& [id, watcher] : watchers_) watcher.sent = false;
  probe_outstanding_ = false;
}

void WatchHub::SendCreateLocked(WatchId id, Watcher* watcher) {
  if (stream_ == nullptr || watcher->sent) return;
  Request request;
  auto* create = request.mutable_create_request();
  create->set_key(watcher->options.key);
  create->set_range_end(watcher->options.range_end);
  create->set_start_revision(watcher->next_revision);
  create->set_prev_kv(watcher->options.prev_kv);
  create->set_progress_notify(watcher->options.progress_notify);
  // Our own id, kept across streams, so that answers match without relying
  // on the order of creates (etcd 3.4 and later honour it).
  create->set_watch_id(id);
  stream_->Send(std::move(request));
  watcher->sent = true;
}

void WatchHub::OnStreamResponse(Stream* stream, const Response& response) {
  MutexLock dispatch(&dispatch_mu_);
  {
    MutexLock lock(&mu_);
    if (stream != stream_) return;
    MarkHealthyLocked();
    probe_outstanding_ = false;  // Any answer shows the member is alive.
  }
  Dispatch(response);
}

void WatchHub::DispatchForTesting(const Response& response) {
  MutexLock dispatch(&dispatch_mu_);
  Dispatch(response);
}

void WatchHub::Dispatch(const Response& response) {
  WatchHandler handler;
  WatchUpdate update;
  {
    MutexLock lock(&mu_);
    if (!TakeUpdateLocked(response, &handler, &update)) return;
  }
  in_handler = true;
  handler(std::move(update));
  in_handler = false;
}

bool WatchHub::TakeUpdateLocked(const Response& response,
                                WatchHandler* handler, WatchUpdate* update) {
  if (response.watch_id() == kStreamWideId) return false;
  auto it = watchers_.find(response.watch_id());
  if (it == watchers_.end()) return false;  // Cancelled by us meanwhile.
  Watcher& watcher = it->second;
  const int64_t revision = response.header().revision();
  update->revision = revision;

  if (response.canceled() || response.compact_revision() > 0) {
    update->status = EndStatus(response, watcher.options, watcher.next_revision);
    update->compact_revision = response.compact_revision();
    *handler = std::move(watcher.handler);
    watchers_.erase(it);
    return true;
  }
  if (response.created()) {
    // A watch "from now" starts after the revision etcd reports here.
    if (watcher.next_revision == 0) watcher.next_revision = revision + 1;
    if (revision + 1 >= watcher.next_revision) return false;
    // The store is behind what this watcher has seen: etcd lost its data or
    // was restored from an old snapshot (or the member lags). Waiting for the
    // old revisions to come again would skip what happens meanwhile, so the
    // watch ends and the layer above re-reads.
    update->status = absl::AbortedError(absl::StrCat(
        "watch of \"", watcher.options.key, "\": etcd is at revision ",
        revision, ", behind revision ", watcher.next_revision - 1,
        " already delivered (data lost or restored from an old snapshot)"));
    Request cancel;
    cancel.mutable_cancel_request()->set_watch_id(response.watch_id());
    if (stream_ != nullptr) stream_->Send(std::move(cancel));
    *handler = std::move(watcher.handler);
    watchers_.erase(it);
    return true;
  }
  if (response.events_size() == 0) {
    // A progress notification for this watcher: etcd sends them only once it
    // has delivered everything up to `revision`.
    if (revision < watcher.next_revision) return false;
    watcher.next_revision = revision + 1;
    *handler = watcher.handler;
    return true;
  }
  for (const auto& event : response.events()) {
    // After a resume etcd may repeat what it sent before the break; skip it.
    if (event.kv().mod_revision() < watcher.next_revision) continue;
    update->events.push_back(FromProto(event));
  }
  if (update->events.empty()) return false;
  watcher.next_revision = update->events.back().kv.mod_revision + 1;
  *handler = watcher.handler;
  return true;
}

void WatchHub::ScheduleProbeLocked() {
  if (probe_scheduled_ || stopping_ || watchers_.empty()) return;
  probe_scheduled_ = true;
  scheduler_->RunAfter(timing_.probe_interval, [this] { Probe(); });
}

void WatchHub::Probe() {
  MutexLock lock(&mu_);
  probe_scheduled_ = false;
  if (stopping_ || stream_ == nullptr) return;
  const auto now = std::chrono::steady_clock::now();
  if (probe_outstanding_) {
    if (now - probe_sent_ > timing_.probe_timeout) AbandonStreamLocked();
  } else {
    Request request;
    request.mutable_progress_request();
    stream_->Send(std::move(request));
    probe_outstanding_ = true;
    probe_sent_ = now;
  }
  ScheduleProbeLocked();
}

}  // namespace etcdisc::internal
