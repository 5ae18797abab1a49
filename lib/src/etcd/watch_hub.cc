#include "etcd/watch_hub.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "etcd/proto_convert.h"

namespace etcdisc::internal {
namespace {

using Request = etcdserverpb::WatchRequest;
using Response = etcdserverpb::WatchResponse;

// etcd's watch id on answers that concern no watcher (a progress request's).
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

// The revision a watch resuming at `next` asks etcd for: one before it.
// etcd releases older than the fix of etcd issue 18089 (2024; Debian 12 has
// 3.4.23), compacting at a delete's revision, drop that delete's tombstone:
// a watch from exactly the compact revision skips the delete without a
// word. Asked from one revision earlier, etcd answers "compacted" instead,
// and the layer above reads again. The extra revision's events are dropped
// like any repeat (mod_revision < next).
int64_t AskedStart(int64_t next) { return next > 1 ? next - 1 : next; }

absl::Status EndStatus(const Response& response, const WatchOptions& options,
                       int64_t from) {
  if (response.compact_revision() > 0) {
    return absl::OutOfRangeError(absl::StrCat(
        "watch of \"", options.key, "\" from revision ", from, " (asked from ",
        AskedStart(from), "): etcd has compacted its history up to revision ",
        response.compact_revision()));
  }
  if (IsStaleToken(absl::UnknownError(response.cancel_reason()))) {
    // Refused for a token again, after a new one (a member behind on the
    // Authenticate): not a refusal of the user; a new watch may do.
    return absl::UnavailableError(absl::StrCat(
        "etcd refused the watch of \"", options.key, "\" for its token, twice: ",
        response.cancel_reason()));
  }
  if (IsRefusedWatch(response.cancel_reason())) {
    return absl::PermissionDeniedError(absl::StrCat(
        "etcd refused the watch of \"", options.key, "\": ",
        response.cancel_reason(), " (the etcd user needs read permission on "
        "that key or prefix)"));
  }
  return absl::CancelledError(absl::StrCat("etcd ended the watch of \"",
                                           options.key, "\": ",
                                           response.cancel_reason()));
}

}  // namespace

WatchHub::WatchHub(Connection* connection, Scheduler* scheduler, Timing timing)
    : StreamSupervisor(connection, scheduler, StreamKind::kWatch, &StartWatch,
                       std::chrono::seconds(5)),
      timing_(timing) {}

WatchHub::~WatchHub() { Shutdown(); }

WatchId WatchHub::Watch(WatchOptions options, WatchHandler handler) {
  MutexLock lock(&mu_);
  const WatchId id = next_id_++;
  Watcher& watcher = watchers_[id];
  watcher.next_revision = options.start_revision;
  watcher.options = std::move(options);
  watcher.handler = std::move(handler);
  if (stream_ != nullptr) {
    create_queue_.push_back(id);
    SendNextCreateLocked();
  } else {
    EnsureStreamLocked();  // Queues every watcher's create when it opens.
  }
  ScheduleProbeLocked();
  return id;
}

void WatchHub::Cancel(WatchId id) {
  {
    MutexLock lock(&mu_);
    auto it = watchers_.find(id);
    if (it == watchers_.end()) return;
    const int64_t server_id = it->second.server_id;
    watchers_.erase(it);
    // A create still queued is skipped; one in flight is cancelled when its
    // answer names etcd's id.
    if (server_id != kNoServerId) {
      by_server_id_.erase(server_id);
      SendCancelLocked(server_id);
    }
  }
  // Wait for a handler that may be running now (it may be this one's).
  if (!in_handler) MutexLock wait(&dispatch_mu_);
}

size_t WatchHub::size() const {
  MutexLock lock(&mu_);
  return watchers_.size();
}

size_t WatchHub::queued_creates() const {
  MutexLock lock(&mu_);
  return create_queue_.size();
}

void WatchHub::SetEventFilterForTesting(
    std::function<bool(const WatchEvent& event)> deliver) {
  MutexLock lock(&mu_);
  event_filter_ = std::move(deliver);
}

void WatchHub::ResetStreamStateLocked() {
  by_server_id_.clear();
  create_queue_.clear();
  creating_ = 0;
  for (auto& [id, watcher] : watchers_) watcher.server_id = kNoServerId;
  probe_outstanding_ = false;
  probing_ = true;
}

void WatchHub::OnStreamOpenedLocked() {
  ResetStreamStateLocked();
  for (const auto& [id, watcher] : watchers_) create_queue_.push_back(id);
  SendNextCreateLocked();
  ScheduleProbeLocked();
}

void WatchHub::OnStreamLostLocked() { ResetStreamStateLocked(); }

void WatchHub::SendNextCreateLocked() {
  if (stream_ == nullptr || creating_ != 0) return;
  while (!create_queue_.empty()) {
    const WatchId id = create_queue_.front();
    create_queue_.pop_front();
    auto it = watchers_.find(id);
    if (it == watchers_.end()) continue;  // Cancelled while queued.
    const Watcher& watcher = it->second;
    Request request;
    auto* create = request.mutable_create_request();
    create->set_key(watcher.options.key);
    create->set_range_end(watcher.options.range_end);
    create->set_start_revision(AskedStart(watcher.next_revision));
    create->set_prev_kv(watcher.options.prev_kv);
    create->set_progress_notify(watcher.options.progress_notify);
    stream_->Send(std::move(request));
    creating_ = id;
    return;
  }
}

void WatchHub::SendCancelLocked(int64_t server_id) {
  if (stream_ == nullptr) return;
  Request request;
  request.mutable_cancel_request()->set_watch_id(server_id);
  stream_->Send(std::move(request));
}

void WatchHub::OnStreamResponse(Stream* stream, const Response& response) {
  const auto received = std::chrono::steady_clock::now();
  MutexLock dispatch(&dispatch_mu_);
  Deliveries deliveries;
  {
    MutexLock lock(&mu_);
    if (stream != stream_) return;
    MarkHealthyLocked();
    probe_outstanding_ = false;  // Any answer shows the member is alive.
    TakeLocked(response, &deliveries);
  }
  Deliver(std::move(deliveries));
  if (response.events_size() > 0) {
    EtcdMetrics& metrics = connection_->metrics();
    const auto& last = response.events(response.events_size() - 1);
    metrics.RecordWatchLag(response.header().revision() -
                           last.kv().mod_revision());
    metrics.RecordWatchDelivery(std::chrono::steady_clock::now() - received);
  }
}

void WatchHub::DispatchForTesting(WatchId id, const Response& response) {
  MutexLock dispatch(&dispatch_mu_);
  Deliveries deliveries;
  {
    MutexLock lock(&mu_);
    if (!ClusterChangedLocked(response, &deliveries)) {
      auto it = watchers_.find(id);
      if (response.created() && it != watchers_.end()) {
        // A new create of the watcher, as after a reconnect.
        by_server_id_.erase(it->second.server_id);
        it->second.server_id = kNoServerId;
        creating_ = id;
        TakeCreatedLocked(response, &deliveries);
      } else {
        TakeForWatcherLocked(id, response, &deliveries);
      }
    }
  }
  Deliver(std::move(deliveries));
}

void WatchHub::Deliver(Deliveries deliveries) {
  in_handler = true;
  for (auto& [handler, update] : deliveries) handler(std::move(update));
  in_handler = false;
}

bool WatchHub::ClusterChangedLocked(const Response& response,
                                    Deliveries* out) {
  const uint64_t cluster = response.header().cluster_id();
  if (cluster == 0) return false;  // A gRPC proxy's own answers carry none.
  const uint64_t before = cluster_id_;
  cluster_id_ = cluster;
  if (before == 0 || before == cluster) return false;
  EndAllLocked(absl::AbortedError(absl::StrCat(
                   "etcd's cluster id changed from ", before, " to ", cluster,
                   ": the endpoints reach another cluster")),
               out);
  return true;
}

void WatchHub::TakeLocked(const Response& response, Deliveries* out) {
  if (ClusterChangedLocked(response, out)) {
    if (response.created()) {
      // The answer to the create in flight, whose watcher just ended: the
      // next create may go, and etcd's watch is not wanted.
      creating_ = 0;
      if (!response.canceled() && response.watch_id() >= 0) {
        SendCancelLocked(response.watch_id());
      }
      SendNextCreateLocked();
    }
    return;
  }
  if (response.created()) {
    TakeCreatedLocked(response, out);
    return;
  }
  if (response.watch_id() == kStreamWideId) {
    // The answer to a progress request: this member answers probes.
    probe_answerers_.insert(stream_member_);
    return;
  }
  auto by_id = by_server_id_.find(response.watch_id());
  if (by_id == by_server_id_.end()) return;  // Cancelled by us meanwhile.
  TakeForWatcherLocked(by_id->second, response, out);
}

void WatchHub::TakeCreatedLocked(const Response& response, Deliveries* out) {
  const WatchId id = creating_;
  creating_ = 0;
  SendNextCreateLocked();
  auto it = watchers_.find(id);
  const bool failed = response.canceled() || response.watch_id() < 0;
  if (it == watchers_.end()) {  // Cancelled while its create was in flight.
    if (!failed) SendCancelLocked(response.watch_id());
    return;
  }
  Watcher& watcher = it->second;
  if (failed && RenewTokenForLocked(&watcher, response)) return;
  if (failed) {
    WatchUpdate update;
    update.revision = response.header().revision();
    update.status = EndStatus(response, watcher.options, watcher.next_revision);
    update.compact_revision = response.compact_revision();
    EndLocked(it, std::move(update), out);
    return;
  }
  const int64_t revision = response.header().revision();
  // A watch "from now" starts after the revision etcd reports here.
  if (watcher.next_revision == 0) watcher.next_revision = revision + 1;
  if (revision + 1 < watcher.next_revision) {
    TakeBehindLocked(it, response, out);
    return;
  }
  watcher.behind_answers = 0;
  watcher.refused_generation = 0;
  ++watcher.ask_again;  // Any ask still pending is stale.
  watcher.server_id = response.watch_id();
  by_server_id_[watcher.server_id] = id;
  if (watcher.created_before) {
    WatchUpdate update;
    update.revision = revision;
    update.resumed = true;
    out->emplace_back(watcher.handler, std::move(update));
  }
  watcher.created_before = true;
}

bool WatchHub::RenewTokenForLocked(Watcher* watcher, const Response& response) {
  if (connection_->auth() == nullptr || response.compact_revision() > 0 ||
      !IsRefusedWatch(response.cancel_reason())) {
    return false;
  }
  const uint64_t generation = StreamTokenGenerationLocked();
  if (watcher->refused_generation != 0 &&
      generation > watcher->refused_generation) {
    return false;  // A new token did not help.
  }
  // Tokens up to the newest made so far may all be stale (a change to users
  // and roles): only a refusal on a token made after this one is final.
  watcher->refused_generation =
      std::max(generation, connection_->auth()->newest_generation());
  ReopenWithNewTokenLocked();
  return true;
}

void WatchHub::TakeBehindLocked(std::map<WatchId, Watcher>::iterator it,
                                const Response& response, Deliveries* out) {
  // etcd's watch is not wanted either way.
  SendCancelLocked(response.watch_id());
  Watcher& watcher = it->second;
  const int64_t revision = response.header().revision();
  if (++watcher.behind_answers <= kBehindRetries) {
    const auto pause =
        std::chrono::milliseconds(100 << (watcher.behind_answers - 1));
    const uint64_t ask = ++watcher.ask_again;
    scheduler_->RunAfter(pause, [this, id = it->first, ask] {
      MutexLock lock(&mu_);
      RequeueCreateLocked(id, ask);
    });
    return;
  }
  // Still behind: etcd lost its data or was restored from an old snapshot.
  // Waiting for the old revisions to come again would skip what happens
  // meanwhile, so the watch ends and the layer above re-reads.
  WatchUpdate update;
  update.revision = revision;
  update.status = absl::AbortedError(absl::StrCat(
      "watch of \"", watcher.options.key, "\": etcd is at revision ", revision,
      ", behind revision ", watcher.next_revision - 1,
      " already delivered (data lost or restored from an old snapshot)"));
  EndLocked(it, std::move(update), out);
}

void WatchHub::RequeueCreateLocked(WatchId id, uint64_t ask) {
  auto it = watchers_.find(id);
  if (StoppingLocked() || it == watchers_.end()) return;
  if (it->second.ask_again != ask) return;
  if (it->second.server_id != kNoServerId || creating_ == id) return;
  if (std::find(create_queue_.begin(), create_queue_.end(), id) !=
      create_queue_.end()) {
    return;
  }
  create_queue_.push_back(id);
  SendNextCreateLocked();
}

void WatchHub::TakeForWatcherLocked(WatchId id, const Response& response,
                                    Deliveries* out) {
  auto it = watchers_.find(id);
  if (it == watchers_.end()) return;
  Watcher& watcher = it->second;
  const int64_t revision = response.header().revision();
  WatchUpdate update;
  update.revision = revision;
  if (response.canceled() || response.compact_revision() > 0) {
    update.status = EndStatus(response, watcher.options, watcher.next_revision);
    update.compact_revision = response.compact_revision();
    EndLocked(it, std::move(update), out);
    return;
  }
  if (response.events_size() == 0) {
    // A progress notification for this watcher: etcd sends them only once it
    // has delivered everything up to `revision`.
    if (revision < watcher.next_revision) return;
    watcher.next_revision = revision + 1;
    out->emplace_back(watcher.handler, std::move(update));
    return;
  }
  int64_t last = 0;
  for (const auto& event : response.events()) {
    // After a resume etcd may repeat what it sent before the break; skip it.
    if (event.kv().mod_revision() < watcher.next_revision) continue;
    last = event.kv().mod_revision();
    WatchEvent converted = FromProto(event);
    if (event_filter_ && !event_filter_(converted)) continue;
    update.events.push_back(std::move(converted));
  }
  if (last == 0) return;
  watcher.next_revision = last + 1;
  if (update.events.empty()) return;  // Dropped by the test filter.
  out->emplace_back(watcher.handler, std::move(update));
}

void WatchHub::EndLocked(std::map<WatchId, Watcher>::iterator it,
                         WatchUpdate update, Deliveries* out) {
  const int64_t server_id = it->second.server_id;
  if (server_id != kNoServerId) {
    by_server_id_.erase(server_id);
    // etcd ended a canceled watch itself; one we end, we cancel.
    if (update.status.code() == absl::StatusCode::kAborted) {
      SendCancelLocked(server_id);
    }
  }
  out->emplace_back(std::move(it->second.handler), std::move(update));
  watchers_.erase(it);
}

void WatchHub::EndAllLocked(const absl::Status& why, Deliveries* out) {
  while (!watchers_.empty()) {
    WatchUpdate update;
    update.status = why;
    EndLocked(watchers_.begin(), std::move(update), out);
  }
}

void WatchHub::ScheduleProbeLocked() {
  if (probe_scheduled_ || StoppingLocked() || watchers_.empty()) return;
  probe_scheduled_ = true;
  scheduler_->RunAfter(timing_.probe_interval, [this] { Probe(); });
}

void WatchHub::Probe() {
  MutexLock lock(&mu_);
  probe_scheduled_ = false;
  if (StoppingLocked() || stream_ == nullptr) return;
  const auto now = std::chrono::steady_clock::now();
  if (probe_outstanding_) {
    if (now - probe_sent_ > timing_.probe_timeout) {
      if (probe_answerers_.count(stream_member_)) {
        AbandonStreamLocked();  // It answered before: it is stalled now.
      } else {
        // It never answered one (etcd's gRPC proxy drops them): stop asking
        // on this stream and leave dead connections to HTTP/2 pings.
        probing_ = false;
        probe_outstanding_ = false;
      }
    }
  } else if (probing_) {
    Request request;
    request.mutable_progress_request();
    stream_->Send(std::move(request));
    probe_outstanding_ = true;
    probe_sent_ = now;
  }
  ScheduleProbeLocked();
}

}  // namespace etcdisc::internal
