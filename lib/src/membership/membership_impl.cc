#include "membership/membership_impl.h"

#include <algorithm>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "etcd/grpc_status.h"
#include "membership/member_record.h"
#include "membership/process_id.h"
#include "util/deadline.h"
#include "util/status_macros.h"

namespace etcdisc::internal {
namespace {

using Clock = std::chrono::steady_clock;

std::string RandomToken() {
  std::random_device random;
  std::uniform_int_distribution<uint64_t> draw;
  return absl::StrCat(absl::Hex(draw(random), absl::kZeroPad16),
                      absl::Hex(draw(random), absl::kZeroPad16));
}

}  // namespace

MembershipImpl::MembershipImpl(std::shared_ptr<ClientCore> core,
                               std::string cluster, std::string node,
                               JoinOptions options)
    : core_(std::move(core)),
      cluster_(std::move(cluster)),
      node_(std::move(node)),
      options_(std::move(options)),
      process_(ThisProcessId()),
      token_(RandomToken()),
      backoff_(std::chrono::milliseconds(100), std::chrono::seconds(5)) {}

NodeKey MembershipImpl::KeyNow() const {
  MemberRecord record;
  record.member.node = node_;
  record.member.hostname = core_->machine_hostname();
  record.member.since = std::chrono::system_clock::now();
  record.member.meta = options_.meta;
  record.process = process_;
  record.token = token_;
  return NodeKey{cluster_, node_, core_->keys().NodeKey(cluster_, node_),
                 EncodeMember(record), token_};
}

absl::Status MembershipImpl::Join() { return Attempt(/*retry=*/false); }

absl::StatusOr<int64_t> MembershipImpl::GrantLease() {
  const auto asked_at = Clock::now();
  ETCDISC_ASSIGN_OR_RETURN(LeaseGrant grant,
                           core_->etcd().lease().Grant(options_.ttl));
  std::weak_ptr<MembershipImpl> weak = weak_from_this();
  const int64_t id = grant.id;
  core_->etcd().keeper().Keep(
      id, grant.ttl_seconds,
      [weak, id](const absl::Status& why) {
        if (auto self = weak.lock()) self->OnLeaseLost(id, why);
      },
      asked_at);
  return id;
}

absl::Status MembershipImpl::Attempt(bool retry) {
  int64_t old = 0;
  {
    MutexLock lock(&mu_);
    attempt_posted_ = false;
    if (state_ != State::kJoining || attempting_) return absl::OkStatus();
    attempting_ = true;
    std::swap(old, lease_);
  }
  // The lease of an incarnation whose key went: its claims go with it.
  if (old != 0) Release(old, core_->options().call_timeout);
  absl::StatusOr<int64_t> lease = GrantLease();
  const int64_t mine = lease.ok() ? *lease : 0;
  bool recorded = false;
  if (lease.ok()) {
    MutexLock lock(&mu_);
    recorded = state_ == State::kJoining;
    if (recorded) lease_ = mine;
  }
  absl::StatusOr<int64_t> taken = absl::CancelledError("left while joining");
  if (!lease.ok()) {
    taken = lease.status();
  } else if (recorded) {
    taken = TakeNodeKey(*core_, KeyNow(), mine);
  }
  int64_t drop = 0;
  absl::Status result;
  {
    MutexLock lock(&mu_);
    attempting_ = false;
    if (state_ == State::kJoining && taken.ok() && lease_ == mine) {
      state_ = State::kMember;
      revision_ = *taken;
      last_error_ = absl::OkStatus();
      backoff_.Reset();
      return absl::OkStatus();
    }
    // Not a member: this attempt's lease goes, unless Leave() or its loss
    // took it already.
    if (mine != 0 && (lease_ == mine || !recorded)) drop = mine;
    if (lease_ == mine) lease_ = 0;
    result =
        taken.ok()
            ? absl::UnavailableError(absl::StrCat(
                  "the lease of node \"", node_, "\" was lost while it joined"))
            : taken.status();
    if (state_ == State::kJoining) {
      last_error_ = result;
      if (absl::IsAlreadyExists(result)) {
        state_ = State::kDisplaced;
      } else if (IsRefusal(result)) {
        state_ = State::kRefused;
      } else if (!retry) {
        state_ = State::kLeft;
      } else {
        PostAttemptLocked(taken.ok() ? Clock::duration::zero()
                                     : Clock::duration(backoff_.Next()));
      }
    }
  }
  if (drop != 0) Release(drop, core_->options().call_timeout);
  return result;
}

void MembershipImpl::PostAttemptLocked(Clock::duration delay) {
  if (attempt_posted_) return;
  attempt_posted_ = true;
  std::weak_ptr<MembershipImpl> weak = weak_from_this();
  ThreadPool* pool = &core_->registration_pool();
  auto post = [weak, pool] {
    if (auto self = weak.lock()) {
      pool->Post([self] { self->Attempt(/*retry=*/true).IgnoreError(); });
    }
  };
  if (delay == Clock::duration::zero()) {
    post();
  } else {
    core_->RunAfter(delay, post);
  }
}

void MembershipImpl::OnLeaseLost(int64_t lease, const absl::Status& why) {
  MutexLock lock(&mu_);
  if (lease != lease_) return;
  lease_ = 0;
  if (state_ != State::kMember) return;  // An attempt under way sees it.
  state_ = State::kJoining;
  last_error_ = absl::UnavailableError(
      absl::StrCat("node \"", node_, "\" lost its lease (", why.message(),
                   "); joining again"));
  PostAttemptLocked(Clock::duration::zero());
}

void MembershipImpl::OnDown(const etcdisc::Member& member) {
  MutexLock lock(&mu_);
  if (state_ != State::kMember || member.node != node_ ||
      member.revision != revision_) {
    return;
  }
  state_ = State::kJoining;
  last_error_ = absl::UnavailableError(
      absl::StrCat("the key of node \"", node_, "\" went; joining again"));
  PostAttemptLocked(Clock::duration::zero());
}

void MembershipImpl::Release(int64_t lease, std::chrono::milliseconds timeout) {
  core_->etcd().keeper().Forget(lease);
  core_->etcd().lease().Revoke(lease, timeout).IgnoreError();
}

int64_t MembershipImpl::revision() const {
  MutexLock lock(&mu_);
  return revision_;
}

int64_t MembershipImpl::lease() const {
  MutexLock lock(&mu_);
  return state_ == State::kMember ? lease_ : 0;
}

absl::Status MembershipImpl::status() const {
  MutexLock lock(&mu_);
  switch (state_) {
    case State::kMember:
      return absl::OkStatus();
    case State::kJoining:
      return last_error_.ok() ? absl::UnavailableError(absl::StrCat(
                                    "node \"", node_, "\" is joining"))
                              : last_error_;
    case State::kDisplaced:
    case State::kRefused:
      return last_error_;
    case State::kLeft:
      break;
  }
  return absl::FailedPreconditionError(
      absl::StrCat("node \"", node_, "\" left cluster \"", cluster_, "\""));
}

bool MembershipImpl::IsLeader(
    const std::optional<etcdisc::Member>& leader) const {
  int64_t lease = 0;
  {
    MutexLock lock(&mu_);
    if (state_ != State::kMember || !leader || leader->node != node_ ||
        leader->revision != revision_) {
      return false;
    }
    lease = lease_;
  }
  return lease != 0 && Clock::now() < core_->etcd().keeper().ValidUntil(lease);
}

absl::Status MembershipImpl::Leave() {
  return LeaveWithin(core_->options().call_timeout);
}

void MembershipImpl::StopBy(Clock::time_point deadline) {
  LeaveWithin(TimeLeft(deadline)).IgnoreError();
}

absl::Status MembershipImpl::LeaveWithin(std::chrono::milliseconds timeout) {
  int64_t lease = 0;
  {
    MutexLock lock(&mu_);
    state_ = State::kLeft;
    std::swap(lease, lease_);
    if (lease == 0) std::swap(lease, unrevoked_);
  }
  if (lease == 0) return absl::OkStatus();
  core_->etcd().keeper().Forget(lease);
  absl::Status revoked = core_->etcd().lease().Revoke(lease, timeout);
  if (revoked.ok() || absl::IsNotFound(revoked)) return absl::OkStatus();
  {
    MutexLock lock(&mu_);
    unrevoked_ = lease;  // The next Leave() tries again.
  }
  return absl::UnavailableError(
      absl::StrCat("could not tell etcd that node \"", node_, "\" left (",
                   revoked.message(), "); its key expires with its TTL"));
}

}  // namespace etcdisc::internal
