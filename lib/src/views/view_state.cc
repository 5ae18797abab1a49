#include "views/view_state.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "etcd/grpc_status.h"

namespace etcdisc::internal {
namespace {

// etcd refused the client's user, or the client shut down: reading again
// cannot help.
bool IsFinal(const absl::Status& status) {
  return IsRefusal(status) || absl::IsFailedPrecondition(status);
}

}  // namespace

ViewState::ViewState(std::shared_ptr<ClientCore> core, std::string service,
                     ViewOptions options)
    : core_(std::move(core)),
      service_(std::move(service)),
      options_(std::move(options)),
      list_(std::make_shared<const std::vector<Host>>()),
      backoff_(std::chrono::milliseconds(100), std::chrono::seconds(5)) {}

absl::Status ViewState::Start() {
  watch_ = NewHostWatch(core_, service_, MakeSink());
  absl::Status tracked = core_->Track(watch_);
  if (!tracked.ok()) return tracked;
  std::weak_ptr<ViewState> weak = weak_from_this();
  core_->watch_pool().Post([weak] {
    if (auto self = weak.lock()) self->TryStart();
  });
  return absl::OkStatus();
}

HostSink ViewState::MakeSink() {
  std::weak_ptr<ViewState> weak = weak_from_this();
  HostSink sink;
  sink.kind = "view";
  sink.on_new = [weak](const Host& host) {
    if (auto self = weak.lock()) self->Put(host);
    return true;
  };
  sink.on_update = [weak](const Host& host) {
    if (auto self = weak.lock()) self->Put(host);
  };
  sink.on_down = [weak](const std::string& uuid) {
    if (auto self = weak.lock()) self->Remove(uuid);
    return true;
  };
  sink.on_settled = [weak](int64_t revision) {
    if (auto self = weak.lock()) self->Settled(revision);
  };
  sink.on_end = [weak](const absl::Status& why) {
    if (auto self = weak.lock()) self->End(why);
  };
  sink.queue_depth = [] { return size_t{0}; };
  return sink;
}

void ViewState::Stop() {
  {
    MutexLock lock(&mu_);
    if (phase_ == Phase::kStopped) return;
    phase_ = Phase::kStopped;
    end_ = absl::CancelledError(
        absl::StrCat("the view of service \"", service_, "\" was closed"));
  }
  if (watch_ != nullptr) watch_->Stop();
}

// ---- The first read ---------------------------------------------------------

void ViewState::TryStart() {
  {
    MutexLock lock(&mu_);
    if (phase_ != Phase::kStarting) return;
  }
  // Reads, then watches; the read's hosts and revision arrive through the
  // sink (Put, Settled) before it returns.
  const absl::Status started = watch_->Start(/*existing=*/true);
  if (started.ok()) return;
  MutexLock lock(&mu_);
  if (phase_ != Phase::kStarting) return;
  last_error_ = started;
  if (IsFinal(started)) {
    phase_ = Phase::kStopped;
    end_ = started;
    return;
  }
  RetryStartLater();
}

void ViewState::RetryStartLater() {
  std::weak_ptr<ViewState> weak = weak_from_this();
  ThreadPool* pool = &core_->watch_pool();
  core_->RunAfter(backoff_.Next(), [weak, pool] {
    if (auto self = weak.lock()) {
      pool->Post([self] { self->TryStart(); });
    }
  });
}

// ---- What the watch delivers ------------------------------------------------

void ViewState::Put(const Host& host) {
  MutexLock lock(&mu_);
  auto [it, added] = hosts_.try_emplace(host.uuid, host);
  if (added) {
    changed_ |= ShowsLocked(host);
    return;
  }
  if (it->second == host) return;
  changed_ |= ShowsLocked(it->second) || ShowsLocked(host);
  it->second = host;
}

void ViewState::Remove(const std::string& uuid) {
  MutexLock lock(&mu_);
  auto it = hosts_.find(uuid);
  if (it == hosts_.end()) return;
  changed_ |= ShowsLocked(it->second);
  hosts_.erase(it);
}

bool ViewState::ShowsLocked(const Host& host) const {
  return options_.shard.empty() || host.shard == options_.shard;
}

void ViewState::Settled(int64_t revision) {
  MutexLock lock(&mu_);
  if (phase_ == Phase::kStopped) return;
  // Lower than before only when etcd's store went back (the re-read state
  // is at the lower revision); see HostSink::on_settled.
  revision_ = revision;
  const bool first = !ready_;
  ready_ = true;
  phase_ = Phase::kFollowing;
  if (!changed_ && !first) return;
  PublishLocked();
  PostRunLocked();
}

void ViewState::End(const absl::Status& why) {
  MutexLock lock(&mu_);
  if (phase_ == Phase::kStopped) return;
  phase_ = Phase::kStopped;
  end_ = why;
}

void ViewState::PublishLocked() {
  auto list = std::make_shared<std::vector<Host>>();
  list->reserve(hosts_.size());
  for (const auto& [uuid, host] : hosts_) {
    if (ShowsLocked(host)) list->push_back(host);
  }
  list_ = std::move(list);
  changed_ = false;
}

// ---- Reading ----------------------------------------------------------------

HostSnapshot ViewState::hosts() const {
  MutexLock lock(&mu_);
  return HostSnapshot(list_, revision_);
}

bool ViewState::ready() const {
  MutexLock lock(&mu_);
  return ready_;
}

absl::Status ViewState::WaitReady(std::chrono::milliseconds timeout) const {
  MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(
      absl::Condition(
          +[](const ViewState* s) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return s->ready_ || s->phase_ == Phase::kStopped;
          },
          this),
      absl::FromChrono(timeout));
  if (ready_) return absl::OkStatus();
  if (phase_ == Phase::kStopped) return end_;
  return absl::DeadlineExceededError(absl::StrCat(
      "service \"", service_, "\" is not read yet",
      last_error_.ok() ? std::string()
                       : absl::StrCat(": ", last_error_.message())));
}

absl::Status ViewState::status() const {
  MutexLock lock(&mu_);
  return phase_ == Phase::kStopped ? end_ : absl::OkStatus();
}

// ---- Callbacks --------------------------------------------------------------

uint64_t ViewState::AddCallback(ServiceView::ChangeCallback callback) {
  auto entry = std::make_shared<Callback>();
  entry->fn = std::move(callback);
  MutexLock lock(&mu_);
  const uint64_t id = ++next_callback_;
  callbacks_[id] = entry;
  // Ready already: this callback's first call, with the hosts as they are
  // when it runs - unless a run that will call it is waiting already.
  if (phase_ == Phase::kFollowing && !run_pending_) {
    // Weak, so that a view destroyed first drops the callback (and what it
    // holds) at once, not when this task comes up.
    std::weak_ptr<ViewState> weak = weak_from_this();
    std::weak_ptr<Callback> weak_entry = entry;
    core_->callbacks().Post([weak, weak_entry] {
      auto self = weak.lock();
      auto first = weak_entry.lock();
      if (self && first) self->Run(first);
    });
  }
  return id;
}

void ViewState::RemoveCallback(uint64_t id) {
  MutexLock lock(&mu_);
  auto it = callbacks_.find(id);
  if (it == callbacks_.end()) return;
  it->second->removed = true;
  callbacks_.erase(it);
}

void ViewState::PostRunLocked() {
  if (run_pending_ || callbacks_.empty()) return;
  run_pending_ = true;
  std::weak_ptr<ViewState> weak = weak_from_this();
  core_->callbacks().Post([weak] {
    if (auto self = weak.lock()) self->Run(nullptr);
  });
}

void ViewState::Run(const std::shared_ptr<Callback>& only) {
  std::vector<std::shared_ptr<Callback>> calls;
  HostSnapshot snapshot;
  {
    MutexLock lock(&mu_);
    if (only == nullptr) run_pending_ = false;
    if (phase_ != Phase::kFollowing) return;
    ++running_;
    snapshot = HostSnapshot(list_, revision_);
    if (only != nullptr) {
      calls.push_back(only);
    } else {
      for (const auto& [id, entry] : callbacks_) calls.push_back(entry);
    }
  }
  for (const auto& entry : calls) {
    // Removed meanwhile (by an earlier callback of this run, perhaps).
    if (entry->removed) continue;
    entry->fn(snapshot);
    // The callback may have stopped the view.
    if (!status().ok()) break;
  }
  calls.clear();  // Before the count: a waiter may then drop the callbacks.
  MutexLock lock(&mu_);
  --running_;
}

void ViewState::AwaitCallbacksDone() {
  if (core_->callbacks().OnExecutorThread()) return;
  MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](ViewState* s) ABSL_NO_THREAD_SAFETY_ANALYSIS {
        return s->running_ == 0;
      },
      this));
}

void ViewState::ReleaseCallbacks() {
  std::map<uint64_t, std::shared_ptr<Callback>> callbacks;
  MutexLock lock(&mu_);
  callbacks.swap(callbacks_);
  for (auto& [id, entry] : callbacks) entry->removed = true;
  // `callbacks` goes after the lock: a callback's captures may do anything
  // when destroyed.
}

}  // namespace etcdisc::internal
