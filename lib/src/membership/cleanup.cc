#include "membership/cleanup.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "discovery/json.h"
#include "util/log.h"

namespace etcdisc::internal {
namespace {

constexpr auto kRetryAfter = std::chrono::seconds(1);

std::string ClaimValue(absl::string_view by, absl::string_view state) {
  std::string out = "{\"by\":";
  AppendJsonString(&out, by);
  out.append(",\"state\":");
  AppendJsonString(&out, state);
  out.push_back('}');
  return out;
}

// Whether a claim's value says its cleanup is done. A value that is not a
// claim counts as running: its key goes with its lease.
bool IsDone(const std::string& value) {
  auto claim = ParseJson(value);
  if (!claim.ok()) return false;
  const JsonValue* state = claim->Find("state");
  return state != nullptr && state->type == JsonValue::Type::kString &&
         state->text == "done";
}

}  // namespace

CleanupRunner::CleanupRunner(std::shared_ptr<ClientCore> core,
                             std::shared_ptr<MembershipImpl> membership)
    : core_(std::move(core)),
      membership_(std::move(membership)),
      retention_(std::max<std::chrono::milliseconds>(
          std::chrono::seconds(60), 10 * membership_->ttl())) {}

uint64_t CleanupRunner::Add(Membership::NodeDownCallback callback,
                            NodeDownOptions options) {
  auto job = std::make_shared<Job>();
  job->fn = std::move(callback);
  job->options = std::move(options);
  MutexLock lock(&mu_);
  const uint64_t id = ++next_job_;
  jobs_[id] = std::move(job);
  return id;
}

void CleanupRunner::Remove(uint64_t id) {
  MutexLock lock(&mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return;
  it->second->removed = true;
  jobs_.erase(it);
}

void CleanupRunner::OnDown(const etcdisc::Member& down) {
  std::vector<std::shared_ptr<Job>> jobs;
  {
    MutexLock lock(&mu_);
    if (stopped_) return;
    for (const auto& [id, job] : jobs_) jobs.push_back(job);
  }
  const KeyLayout& keys = core_->keys();
  for (const auto& job : jobs) {
    if (!job->options.once_per_cluster) {
      Run(job, down);
      continue;
    }
    auto claim = std::make_shared<Claim>();
    claim->job = job;
    claim->down = down;
    claim->key = keys.CleanupKey(membership_->cluster(), job->options.job,
                                 down.node, down.revision);
    PostTryClaim(claim);
  }
}

void CleanupRunner::TryClaim(const std::shared_ptr<Claim>& claim) {
  if (stopped() || claim->job->removed) {
    Settled(claim->key);
    return;
  }
  // Claims are made by a member only, under its lease, so that they go if
  // it dies.
  const int64_t lease = membership_->lease();
  if (lease == 0) {
    TryClaimLater(claim);
    return;
  }
  TxnRequest txn;
  txn.compares.push_back(Compare::Missing(claim->key));
  txn.success.push_back(TxnOp::Put(
      {claim->key, ClaimValue(membership_->node(), "running"), lease, false}));
  RangeRequest read;
  read.key = claim->key;
  txn.failure.push_back(TxnOp::Range(read));
  auto answer = core_->etcd().kv().Txn(txn);
  if (!answer.ok()) {
    TryClaimLater(claim);
    return;
  }
  if (answer->succeeded) {
    PostRunClaimed(claim, answer->revision, lease);
    return;
  }
  const auto& held = answer->responses;
  if (held.empty() || held[0].range.kvs.empty()) {
    TryClaimLater(claim);
    return;
  }
  const KeyValue& holder = held[0].range.kvs[0];
  if (IsDone(holder.value)) {
    Settled(claim->key);
    return;
  }
  if (holder.lease == lease) {
    // Our own claim, made by a try whose answer was lost.
    PostRunClaimed(claim, holder.mod_revision, lease);
    return;
  }
  AwaitHolder(claim, answer->revision);
}

void CleanupRunner::PostRunClaimed(const std::shared_ptr<Claim>& claim,
                                   int64_t claimed_at, int64_t lease) {
  std::weak_ptr<CleanupRunner> weak = weak_from_this();
  core_->callbacks().Post([weak, claim, claimed_at, lease] {
    if (auto runner = weak.lock()) runner->RunClaimed(claim, claimed_at, lease);
  });
}

void CleanupRunner::RunClaimed(const std::shared_ptr<Claim>& claim,
                               int64_t claimed_at, int64_t lease) {
  if (membership_->lease() != lease) {
    // The lease went meanwhile, and the claim with it: claim again (under
    // the next lease, if no other member has claimed it by then).
    TryClaimLater(claim);
    return;
  }
  const bool ran = Run(claim->job, claim->down);
  std::weak_ptr<CleanupRunner> weak = weak_from_this();
  core_->registration_pool().Post([weak, claim, claimed_at, lease, ran] {
    if (auto runner = weak.lock()) runner->Finish(claim, claimed_at, lease, ran);
  });
}

void CleanupRunner::PostTryClaim(const std::shared_ptr<Claim>& claim) {
  std::weak_ptr<CleanupRunner> weak = weak_from_this();
  core_->registration_pool().Post([weak, claim] {
    if (auto runner = weak.lock()) runner->TryClaim(claim);
  });
}

void CleanupRunner::TryClaimLater(const std::shared_ptr<Claim>& claim) {
  if (stopped()) return;
  std::weak_ptr<CleanupRunner> weak = weak_from_this();
  core_->RunAfter(kRetryAfter, [weak, claim] {
    if (auto runner = weak.lock()) runner->PostTryClaim(claim);
  });
}

void CleanupRunner::AwaitHolder(const std::shared_ptr<Claim>& claim,
                                int64_t revision) {
  WatchOptions options;
  options.key = claim->key;
  options.start_revision = revision + 1;
  std::weak_ptr<CleanupRunner> weak = weak_from_this();
  auto id = std::make_shared<std::atomic<WatchId>>(0);
  MutexLock lock(&mu_);
  if (stopped_) return;
  *id = core_->etcd().watch().Watch(
      options, [weak, claim, id](WatchUpdate update) {
        if (auto runner = weak.lock())
          runner->OnHolderUpdate(claim, *id, update);
      });
  watches_.insert(id->load());
}

void CleanupRunner::OnHolderUpdate(const std::shared_ptr<Claim>& claim,
                                   const std::atomic<WatchId>& id,
                                   const WatchUpdate& update) {
  // On a gRPC thread: it only decides, and posts a claim.
  bool again = !update.status.ok();
  bool done = false;
  for (const WatchEvent& event : update.events) {
    if (event.type == WatchEvent::Type::kDelete) again = true;
    if (event.type == WatchEvent::Type::kPut && IsDone(event.kv.value)) {
      done = true;
    }
  }
  if (!again && !done) return;
  WatchId mine = 0;
  {
    // Under the lock, which AwaitHolder held until it stored the id.
    MutexLock lock(&mu_);
    mine = id.load();
    // Already ended (Stop, or an earlier update of this watch).
    if (watches_.erase(mine) == 0) return;
  }
  core_->etcd().watch().Cancel(mine);
  if (done) {
    Settled(claim->key);
  } else {
    PostTryClaim(claim);
  }
}

bool CleanupRunner::Run(const std::shared_ptr<Job>& job,
                        const etcdisc::Member& down) {
  {
    MutexLock lock(&mu_);
    if (stopped_ || job->removed) return false;
    ++running_;
  }
  job->fn(down);
  MutexLock lock(&mu_);
  --running_;
  return true;
}

void CleanupRunner::Finish(const std::shared_ptr<Claim>& claim,
                           int64_t claimed_at, int64_t lease, bool ran) {
  // Only if the key is still the claim made: if the lease went meanwhile,
  // another member may hold a new claim, and it runs again.
  TxnRequest txn;
  txn.compares.push_back(
      Compare::ModRevision(claim->key, Compare::Result::kEqual, claimed_at));
  if (ran) {
    txn.success.push_back(TxnOp::Put(
        {claim->key, ClaimValue(membership_->node(), "done"), lease, false}));
  } else {
    // The callback was removed first: free the claim for another member.
    txn.success.push_back(TxnOp::Delete({claim->key, "", false}));
  }
  auto answer = core_->etcd().kv().Txn(txn);
  Settled(claim->key);
  if (!answer.ok()) {
    ETCDISC_LOG(kWarning,
                absl::StrCat("could not mark ", claim->key, " done (",
                             answer.status().message(),
                             "): another member may run its cleanup again "
                             "if this one's lease goes first"));
    return;
  }
  if (ran && answer->succeeded) ForgetLater(claim->key, answer->revision);
}

void CleanupRunner::ForgetLater(const std::string& key, int64_t done_at) {
  std::weak_ptr<CleanupRunner> weak = weak_from_this();
  ThreadPool* pool = &core_->registration_pool();
  core_->RunAfter(retention_, [weak, pool, key, done_at] {
    if (!weak.lock()) return;
    pool->Post([weak, key, done_at] {
      if (auto runner = weak.lock()) runner->Forget(key, done_at);
    });
  });
}

void CleanupRunner::Forget(const std::string& key, int64_t done_at) {
  TxnRequest txn;
  txn.compares.push_back(
      Compare::ModRevision(key, Compare::Result::kEqual, done_at));
  txn.success.push_back(TxnOp::Delete({key, "", false}));
  // If this fails, the claim goes with this member's lease.
  core_->etcd().kv().Txn(txn).IgnoreError();
}

void CleanupRunner::Settled(const std::string& key) {
  {
    MutexLock lock(&mu_);
    ++settled_[key];
  }
  // Kept as long as a done claim, so that the map stays bounded.
  std::weak_ptr<CleanupRunner> weak = weak_from_this();
  core_->RunAfter(retention_, [weak, key] {
    if (auto runner = weak.lock()) {
      MutexLock lock(&runner->mu_);
      runner->settled_.erase(key);
    }
  });
}

int64_t CleanupRunner::claims_settled(const std::string& key) const {
  MutexLock lock(&mu_);
  auto it = settled_.find(key);
  return it == settled_.end() ? 0 : it->second;
}

bool CleanupRunner::stopped() const {
  MutexLock lock(&mu_);
  return stopped_;
}

void CleanupRunner::Stop() {
  std::set<WatchId> watches;
  {
    MutexLock lock(&mu_);
    stopped_ = true;
    watches.swap(watches_);
  }
  for (WatchId id : watches) core_->etcd().watch().Cancel(id);
}

void CleanupRunner::AwaitCallbacksDone() {
  if (core_->callbacks().OnExecutorThread()) return;
  MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](CleanupRunner* s)
           ABSL_NO_THREAD_SAFETY_ANALYSIS { return s->running_ == 0; },
      this));
}

void CleanupRunner::ReleaseCallbacks() {
  std::map<uint64_t, std::shared_ptr<Job>> jobs;
  MutexLock lock(&mu_);
  jobs.swap(jobs_);
  for (auto& [id, job] : jobs) job->removed = true;
}

}  // namespace etcdisc::internal
