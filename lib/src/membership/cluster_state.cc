#include "membership/cluster_state.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "membership/member_record.h"
#include "util/log.h"
#include "util/status_macros.h"

namespace etcdisc::internal {

ClusterState::ClusterState(std::shared_ptr<ClientCore> core,
                           std::string cluster)
    : core_(std::move(core)),
      cluster_(std::move(cluster)),
      prefix_(core_->keys().NodesPrefix(cluster_)) {}

absl::Status ClusterState::Start() {
  PrefixSpec spec{prefix_, cluster_, absl::StrCat("cluster \"", cluster_, "\""),
                  core_->keys().AllClustersPrefix()};
  watch_ = std::make_shared<PrefixWatch>(core_, std::move(spec), MakeSink());
  ETCDISC_RETURN_IF_ERROR(core_->Track(watch_));
  absl::Status started = watch_->Start(/*existing=*/true);
  if (!started.ok()) Stop();
  return started;
}

PrefixSink ClusterState::MakeSink() {
  std::weak_ptr<ClusterState> weak = weak_from_this();
  PrefixSink sink;
  sink.kind = "members";
  sink.on_new = [weak](const KeyValue& kv) {
    auto self = weak.lock();
    return self ? self->Up(kv) : PrefixSink::Take::kClosed;
  };
  sink.on_update = [weak](const KeyValue& kv) {
    if (auto self = weak.lock()) self->Update(kv);
  };
  sink.on_gone = [weak](const std::string& key, int64_t) {
    if (auto self = weak.lock()) self->Gone(key);
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

void ClusterState::Stop() {
  {
    MutexLock lock(&mu_);
    if (closed_) return;
    closed_ = true;
    if (end_.ok()) {
      end_ = absl::CancelledError(
          absl::StrCat("the view of cluster \"", cluster_, "\" was closed"));
    }
  }
  if (watch_ != nullptr) watch_->Stop();
}

// ---- The watch's deliveries -------------------------------------------------

PrefixSink::Take ClusterState::Up(const KeyValue& kv) {
  auto record = MemberFromKeyValue(prefix_, kv);
  if (!record.ok()) {
    ETCDISC_LOG(kWarning, absl::StrCat("skipping ", record.status().message()));
    return PrefixSink::Take::kMalformed;
  }
  MutexLock lock(&mu_);
  const etcdisc::Member& member = record->member;
  members_[member.node] = member;
  by_revision_[member.revision] = member.node;
  EmitLocked(MembershipEvent::Kind::kUp, member);
  return PrefixSink::Take::kTaken;
}

void ClusterState::Update(const KeyValue& kv) {
  auto record = MemberFromKeyValue(prefix_, kv);
  if (!record.ok()) return;  // A malformed rewrite leaves it as it was.
  MutexLock lock(&mu_);
  auto it = members_.find(record->member.node);
  if (it != members_.end()) it->second = record->member;
}

void ClusterState::Gone(const std::string& key) {
  const std::string node = key.substr(prefix_.size());
  MutexLock lock(&mu_);
  auto it = members_.find(node);
  if (it == members_.end()) return;
  etcdisc::Member gone = std::move(it->second);
  members_.erase(it);
  by_revision_.erase(gone.revision);
  EmitLocked(MembershipEvent::Kind::kDown, std::move(gone));
}

void ClusterState::Settled(int64_t revision) {
  MutexLock lock(&mu_);
  revision_ = revision;
  std::optional<etcdisc::Member> leader = LeaderLocked();
  const std::string node = leader ? leader->node : "";
  const int64_t leader_revision = leader ? leader->revision : 0;
  if (node == leader_node_ && leader_revision == leader_revision_) return;
  leader_node_ = node;
  leader_revision_ = leader_revision;
  EmitLocked(MembershipEvent::Kind::kLeader,
             leader ? *leader : etcdisc::Member{});
}

void ClusterState::End(const absl::Status& why) {
  MutexLock lock(&mu_);
  if (end_.ok()) end_ = why;
}

// ---- Reading ----------------------------------------------------------------

std::optional<etcdisc::Member> ClusterState::LeaderLocked() const {
  if (by_revision_.empty()) return std::nullopt;
  return members_.at(by_revision_.begin()->second);
}

std::vector<etcdisc::Member> ClusterState::members() const {
  MutexLock lock(&mu_);
  std::vector<etcdisc::Member> out;
  out.reserve(members_.size());
  for (const auto& [revision, node] : by_revision_) {
    out.push_back(members_.at(node));
  }
  return out;
}

std::optional<etcdisc::Member> ClusterState::leader() const {
  MutexLock lock(&mu_);
  return LeaderLocked();
}

int64_t ClusterState::revision() const {
  MutexLock lock(&mu_);
  return revision_;
}

absl::Status ClusterState::status() const {
  MutexLock lock(&mu_);
  return end_;
}

// ---- Callbacks --------------------------------------------------------------

void ClusterState::EmitLocked(MembershipEvent::Kind kind,
                              etcdisc::Member member) {
  const uint64_t number = ++events_;
  if (callbacks_.empty()) return;  // Nobody to tell, now or later.
  MembershipEvent event{kind, cluster_, std::move(member)};
  std::weak_ptr<ClusterState> weak = weak_from_this();
  core_->callbacks().Post([weak, number, event = std::move(event)] {
    if (auto self = weak.lock()) self->Deliver(number, event);
  });
}

void ClusterState::Deliver(uint64_t number, const MembershipEvent& event) {
  std::vector<std::shared_ptr<Callback>> calls;
  {
    MutexLock lock(&mu_);
    if (closed_) return;
    for (const auto& [id, entry] : callbacks_) {
      if (entry->after < number) calls.push_back(entry);
    }
    if (calls.empty()) return;
    ++running_;
  }
  for (const auto& entry : calls) {
    if (!entry->removed) entry->fn(event);
  }
  calls.clear();  // Before the count: a waiter may then drop the callbacks.
  MutexLock lock(&mu_);
  --running_;
}

uint64_t ClusterState::AddCallback(ClusterView::EventCallback callback) {
  auto entry = std::make_shared<Callback>();
  entry->fn = std::move(callback);
  std::vector<MembershipEvent> now;
  MutexLock lock(&mu_);
  const uint64_t id = ++next_callback_;
  entry->after = events_;
  callbacks_[id] = entry;
  for (const auto& [revision, node] : by_revision_) {
    now.push_back({MembershipEvent::Kind::kUp, cluster_, members_.at(node)});
  }
  if (auto leader = LeaderLocked()) {
    now.push_back({MembershipEvent::Kind::kLeader, cluster_, *leader});
  }
  if (!now.empty()) {
    // Weak, so that a view destroyed first drops the callback at once.
    std::weak_ptr<ClusterState> weak = weak_from_this();
    std::weak_ptr<Callback> weak_entry = entry;
    core_->callbacks().Post([weak, weak_entry, now = std::move(now)] {
      auto self = weak.lock();
      auto first = weak_entry.lock();
      if (self && first) self->Replay(first, now);
    });
  }
  return id;
}

void ClusterState::Replay(const std::shared_ptr<Callback>& callback,
                          const std::vector<MembershipEvent>& events) {
  {
    MutexLock lock(&mu_);
    if (closed_ || callback->removed) return;
    ++running_;
  }
  for (const MembershipEvent& event : events) {
    if (callback->removed) break;
    callback->fn(event);
  }
  MutexLock lock(&mu_);
  --running_;
}

void ClusterState::RemoveCallback(uint64_t id) {
  MutexLock lock(&mu_);
  auto it = callbacks_.find(id);
  if (it == callbacks_.end()) return;
  it->second->removed = true;
  callbacks_.erase(it);
}

void ClusterState::AwaitCallbacksDone() {
  if (core_->callbacks().OnExecutorThread()) return;
  MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](ClusterState* s)
           ABSL_NO_THREAD_SAFETY_ANALYSIS { return s->running_ == 0; },
      this));
}

void ClusterState::ReleaseCallbacks() {
  std::map<uint64_t, std::shared_ptr<Callback>> callbacks;
  MutexLock lock(&mu_);
  callbacks.swap(callbacks_);
  for (auto& [id, entry] : callbacks) entry->removed = true;
  // `callbacks` goes after the lock: a callback's captures may do anything
  // when destroyed.
}

}  // namespace etcdisc::internal
