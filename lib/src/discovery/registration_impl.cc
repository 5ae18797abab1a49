#include "discovery/registration_impl.h"

#include <algorithm>
#include <atomic>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "discovery/records.h"
#include "etcd/grpc_status.h"
#include "util/deadline.h"
#include "util/log.h"
#include "util/status_macros.h"

namespace etcdisc::internal {

using Clock = std::chrono::steady_clock;

namespace {
uint64_t NextHolder() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

// A key watch starts where what the registration knows of the key ends:
// right after its own write it knows the key and its revision (`from` set);
// after a watch ended (compaction, etcd wiped) it reads the key, and `from`
// becomes the read's revision + 1. Returns the read, if one was made.
absl::StatusOr<std::optional<RangeResponse>> ReadUnlessKnown(
    RegistrationEnv& env, const std::string& key, int64_t* from) {
  if (*from != 0) return std::optional<RangeResponse>();
  RangeRequest read;
  read.key = key;
  ETCDISC_ASSIGN_OR_RETURN(RangeResponse range, env.Range(read));
  *from = range.revision + 1;
  return std::optional<RangeResponse>(std::move(range));
}
}  // namespace

RegistrationImpl::RegistrationImpl(std::shared_ptr<RegistrationEnv> env,
                                   std::string service, Host host,
                                   RegisterOptions options,
                                   RegistrationCallback on_event)
    : env_(std::move(env)),
      service_(std::move(service)),
      uuid_(host.uuid),
      holder_(NextHolder()),
      host_key_(env_->keys().HostKey(service_, host.uuid)),
      service_key_(env_->keys().ServiceKey(service_)),
      options_(options),
      go_endpoint_(GoEndpointFor(host, options).value_or(std::nullopt)),
      on_event_(on_event ? std::make_shared<const RegistrationCallback>(
                               std::move(on_event))
                         : nullptr),
      host_(std::move(host)),
      backoff_(std::chrono::milliseconds(100), std::chrono::seconds(5)) {}

void RegistrationImpl::Start() { Kick(); }

bool RegistrationImpl::Ready() const {
  MutexLock lock(&mu_);
  return state_ == State::kRegistered;
}

absl::Status RegistrationImpl::WaitRegistration(
    std::chrono::milliseconds timeout) {
  MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(
      absl::Condition(
          +[](RegistrationImpl* r) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return r->state_ != State::kUnregistered;
          },
          this),
      absl::FromChrono(timeout));
  if (state_ == State::kStopped) {
    return absl::FailedPreconditionError(
        absl::StrCat("registration ", uuid_, " was stopped"));
  }
  if (state_ == State::kRefused) return last_error_;
  if (state_ != State::kRegistered) {
    return absl::DeadlineExceededError(absl::StrCat(
        "registration ", uuid_, " of service \"", service_,
        "\" not in etcd after ", timeout.count(), "ms",
        last_error_.ok() ? "" : "; last error: ", last_error_.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<Credentials> RegistrationImpl::credentials() const {
  MutexLock lock(&mu_);
  if (!ever_registered_) {
    return absl::FailedPreconditionError(
        absl::StrCat("registration ", uuid_, " is not registered yet"));
  }
  return Credentials{host_.user, host_.password};
}

Host RegistrationImpl::host() const {
  MutexLock lock(&mu_);
  return host_;
}

absl::Status RegistrationImpl::LastError() const {
  MutexLock lock(&mu_);
  return last_error_;
}

void RegistrationImpl::AddMetrics(ClientMetrics* out) const {
  RegistrationMetrics m;
  m.service = service_;
  m.uuid = uuid_;
  MutexLock lock(&mu_);
  switch (state_) {
    case State::kUnregistered: m.state = "unregistered"; break;
    case State::kRegistered: m.state = "registered"; break;
    case State::kRefused: m.state = "refused"; break;
    case State::kStopped: m.state = "stopped"; break;
  }
  m.last_error = std::string(last_error_.message());
  m.failed_attempts = failed_attempts_;
  m.lease_losses = lease_losses_;
  out->registrations.push_back(std::move(m));
}

// ---- The work loop --------------------------------------------------------

void RegistrationImpl::Kick() {
  {
    MutexLock lock(&mu_);
    if (state_ == State::kStopped || state_ == State::kRefused || running_ ||
        retry_pending_) {
      return;
    }
    running_ = true;
  }
  if (!env_->Post(
          [self = shared_from_this()] { self->Run(); })) {
    MutexLock lock(&mu_);
    running_ = false;
  }
}

RegistrationImpl::Plan RegistrationImpl::NextPlanLocked() const {
  Plan plan;
  plan.host = host_;
  plan.lease = lease_;
  plan.host_version = host_version_;
  plan.service_gone = service_gone_;
  if (state_ == State::kUnregistered) {
    plan.step = Step::kWrite;
  } else if (state_ != State::kRegistered) {
    plan.step = Step::kNone;
  } else if (host_watch_.id == 0) {
    plan.step = Step::kWatchHost;
    plan.watch_from = host_watch_.from;
  } else if (service_watch_.id == 0) {
    plan.step = Step::kWatchService;
    plan.watch_from = service_watch_.from;
  } else if (host_written_ != host_version_) {
    plan.step = Step::kRewriteHost;
  } else if (service_restored_ != service_gone_) {
    plan.step = Step::kRestoreService;
  }
  return plan;
}

void RegistrationImpl::Run() {
  Refusal refusal;
  std::vector<int64_t> late;  // Left by a Stop() that could not wait.
  while (true) {
    Plan plan;
    {
      MutexLock lock(&mu_);
      plan = NextPlanLocked();
      if (plan.step == Step::kNone) {
        running_ = false;
        late = TakeLateReleaseLocked();
        break;
      }
    }
    const absl::Status status = Perform(plan);
    MutexLock lock(&mu_);
    if (state_ != State::kStopped && status.ok()) {
      last_error_ = absl::OkStatus();
      backoff_.Reset();
      continue;
    }
    running_ = false;
    if (state_ == State::kStopped) {
      late = TakeLateReleaseLocked();
    } else {
      refusal = AttemptFailedLocked(status);
    }
    break;
  }
  ReleaseRefused(refusal);
  if (!late.empty()) ReleaseLate(std::move(late));
}

std::vector<int64_t> RegistrationImpl::TakeLateReleaseLocked() {
  if (!release_after_step_ || unrevoked_.empty()) return {};
  release_after_step_ = false;
  ++revoking_;  // A Stop() meanwhile waits for the outcome.
  return std::exchange(unrevoked_, {});
}

void RegistrationImpl::ReleaseLate(std::vector<int64_t> leases) {
  std::vector<int64_t> failed =
      Release(std::move(leases), Clock::now() + env_->call_timeout());
  MutexLock lock(&mu_);
  --revoking_;
  unrevoked_.insert(unrevoked_.end(), failed.begin(), failed.end());
}

RegistrationImpl::Refusal RegistrationImpl::AttemptFailedLocked(
    const absl::Status& status) {
  last_error_ = status;
  ++failed_attempts_;
  EmitLocked(RegistrationEvent::Kind::kAttemptFailed, status);
  if (!IsRefusal(status)) {
    RetryLaterLocked();
    return {};
  }
  // Trying again cannot help until someone changes etcd's users. The lease
  // and the key watches go too (the lease counted in revoking_, so that a
  // Stop() meanwhile waits for its revoke).
  state_ = State::kRefused;
  Refusal refusal;
  refusal.lease = std::exchange(lease_, 0);
  if (refusal.lease != 0) ++revoking_;
  refusal.host_watch = std::exchange(host_watch_.id, 0);
  refusal.service_ticket = std::exchange(service_watch_.id, 0);
  return refusal;
}

void RegistrationImpl::ReleaseRefused(const Refusal& refusal) {
  DropWatches(refusal.host_watch, refusal.service_ticket);
  if (refusal.lease == 0) return;
  std::vector<int64_t> failed =
      Release({refusal.lease}, Clock::now() + env_->call_timeout());
  MutexLock lock(&mu_);
  --revoking_;
  // Not revoked (etcd unreachable, or keys written under it that the user
  // may no longer write): it is no longer kept alive, so it expires within
  // its TTL; Stop() tries again.
  unrevoked_.insert(unrevoked_.end(), failed.begin(), failed.end());
}

void RegistrationImpl::RetryLaterLocked() {
  retry_pending_ = true;
  std::weak_ptr<RegistrationImpl> weak = weak_from_this();
  env_->RunAfter(backoff_.Next(), [weak] {
    auto self = weak.lock();
    if (!self) return;
    {
      MutexLock lock(&self->mu_);
      self->retry_pending_ = false;
    }
    self->Kick();
  });
}

absl::Status RegistrationImpl::Perform(const Plan& plan) {
  absl::Status status = PerformStep(plan);
  if (!absl::IsPermissionDenied(status)) return status;
  return absl::PermissionDeniedError(absl::StrCat(
      "etcd did not let this client's user write ", host_key_, " and ",
      service_key_, " (", status.message(),
      "): a registrar's role needs readwrite on the key prefixes ",
      env_->keys().AllHostsPrefix(), " and ",
      env_->keys().AllServicesPrefix()));
}

absl::Status RegistrationImpl::PerformStep(const Plan& plan) {
  switch (plan.step) {
    case Step::kWrite:
      return Write(plan);
    case Step::kWatchHost:
      return WatchHostKey(plan.watch_from);
    case Step::kWatchService:
      return WatchServiceRecord(plan.watch_from);
    case Step::kRewriteHost:
      return RewriteHost(plan);
    case Step::kRestoreService:
      return RestoreService(plan);
    case Step::kNone:
      break;
  }
  return absl::OkStatus();
}

// ---- Steps ----------------------------------------------------------------

absl::StatusOr<int64_t> RegistrationImpl::TakeLease() {
  ETCDISC_ASSIGN_OR_RETURN(const int64_t lease,
                           shared() ? JoinSharedLease() : TakeOwnLease());
  {
    MutexLock lock(&mu_);
    if (state_ != State::kStopped) {
      lease_ = lease;
      return lease;
    }
  }
  // Stop() ran while the lease was being granted: it is ours to let go of.
  Release({lease}, Clock::now() + env_->call_timeout());
  return absl::CancelledError("registration stopped");
}

absl::StatusOr<int64_t> RegistrationImpl::TakeOwnLease() {
  ETCDISC_ASSIGN_OR_RETURN(auto grant, env_->TakeLease(options_.ttl));
  const int64_t lease = grant.id;
  // Kept with our handler before anyone else can see the lease: Stop() may
  // take it from lease_ as soon as it is there, and its Forget() must come
  // after this Keep().
  std::weak_ptr<RegistrationImpl> weak = weak_from_this();
  env_->KeepLease(
      lease, grant.ttl_seconds, [weak, lease](const absl::Status& why) {
        if (auto self = weak.lock()) self->OnLeaseLost(lease, why);
      });
  return lease;
}

absl::StatusOr<int64_t> RegistrationImpl::JoinSharedLease() {
  std::weak_ptr<RegistrationImpl> weak = weak_from_this();
  return env_->JoinSharedLease(
      service_, options_.ttl, holder_, [weak](int64_t lease, const absl::Status& why) {
        if (auto self = weak.lock()) self->OnLeaseLost(lease, why);
      });
}

absl::Status RegistrationImpl::Write(Plan plan) {
  const bool took_lease = plan.lease == 0;
  if (took_lease) {
    ETCDISC_ASSIGN_OR_RETURN(auto lease, TakeLease());
    plan.lease = lease;
  }
  {
    // Stopped meanwhile: Stop() took the lease to revoke; write nothing.
    MutexLock lock(&mu_);
    if (state_ == State::kStopped) return absl::OkStatus();
  }
  // One Txn: the host key always; the service record only when it differs
  // from what is there. Rewriting an identical record would wake every
  // watcher of it (every live host of the service) for nothing; when its
  // holder goes, a live host puts it back (RestoreService).
  const std::string record = EncodeService(ServiceFromHost(service_, plan.host));
  TxnRequest txn;
  txn.compares.push_back(
      Compare::Value(service_key_, Compare::Result::kEqual, record));
  txn.success.push_back(
      TxnOp::Put({host_key_, EncodeHost(plan.host), plan.lease, false}));
  if (go_endpoint_) {
    txn.success.push_back(TxnOp::Put(
        {go_endpoint_->key, go_endpoint_->value, plan.lease, false}));
  }
  txn.failure = txn.success;
  txn.failure.push_back(TxnOp::Put({service_key_, record, plan.lease, false}));
  auto written = env_->Txn(txn);
  if (took_lease && !shared()) env_->RefillLeases(options_.ttl);
  if (absl::IsNotFound(written.status())) {
    LeaseGone(plan.lease, written.status());
    return absl::OkStatus();  // Handled: the next Write takes a new lease.
  }

  MutexLock lock(&mu_);
  if (!written.ok()) return written.status();
  // Lost or stopped while the Txn was in flight: the answer is stale.
  if (state_ != State::kUnregistered || lease_ != plan.lease) {
    return absl::OkStatus();
  }
  state_ = State::kRegistered;
  last_error_ = absl::OkStatus();  // With the state: seen together.
  HostWrittenLocked(plan.host_version, written->revision);
  service_restored_ = std::max(service_restored_, plan.service_gone);
  service_written_ = record;
  // Both records are known as of this revision: watch what comes after it.
  for (KeyWatch* w : {&host_watch_, &service_watch_}) {
    if (w->id == 0) w->from = written->revision + 1;
  }
  const bool first = !ever_registered_;
  ever_registered_ = true;
  const Credentials written_credentials{plan.host.user, plan.host.password};
  const bool credentials_changed = !first && !(written_credentials == announced_);
  announced_ = written_credentials;
  EmitLocked(first ? RegistrationEvent::Kind::kRegistered
                   : RegistrationEvent::Kind::kReregistered,
             absl::OkStatus());
  if (credentials_changed) {
    EmitLocked(RegistrationEvent::Kind::kCredentialsChanged, absl::OkStatus());
  }
  return absl::OkStatus();
}

absl::Status RegistrationImpl::RewriteHost(const Plan& plan) {
  auto put = env_->Put(
      {host_key_, EncodeHost(plan.host), plan.lease, false});
  if (absl::IsNotFound(put.status())) {
    LeaseGone(plan.lease, put.status());
    return absl::OkStatus();
  }
  MutexLock lock(&mu_);
  if (!put.ok()) return put.status();
  if (state_ != State::kRegistered || lease_ != plan.lease) {
    return absl::OkStatus();
  }
  HostWrittenLocked(plan.host_version, put->revision);
  const Credentials written{plan.host.user, plan.host.password};
  if (!(written == announced_)) {
    announced_ = written;
    EmitLocked(RegistrationEvent::Kind::kCredentialsChanged, absl::OkStatus());
  }
  return absl::OkStatus();
}

absl::Status RegistrationImpl::RestoreService(const Plan& plan) {
  // Several live hosts may race to put it back; the first one wins.
  TxnRequest txn;
  txn.compares.push_back(Compare::Missing(service_key_));
  txn.success.push_back(TxnOp::Put(
      {service_key_, EncodeService(ServiceFromHost(service_, plan.host)),
       plan.lease, false}));
  auto restored = env_->Txn(txn);
  if (absl::IsNotFound(restored.status())) {
    LeaseGone(plan.lease, restored.status());
    return absl::OkStatus();
  }
  MutexLock lock(&mu_);
  if (!restored.ok()) return restored.status();
  if (state_ == State::kRegistered && lease_ == plan.lease) {
    service_restored_ = std::max(service_restored_, plan.service_gone);
  }
  return absl::OkStatus();
}

absl::Status RegistrationImpl::WatchHostKey(int64_t from) {
  ETCDISC_ASSIGN_OR_RETURN(std::optional<RangeResponse> current,
                           ReadUnlessKnown(*env_, host_key_, &from));
  WatchOptions options;
  options.key = host_key_;
  options.start_revision = from;
  uint64_t token = 0;
  {
    MutexLock lock(&mu_);
    token = host_watch_.token = ++watch_tokens_;
  }
  std::weak_ptr<RegistrationImpl> weak = weak_from_this();
  const WatchId id =
      env_->Watch(options, [weak, token](WatchUpdate update) {
        if (auto self = weak.lock()) {
          self->OnHostKeyUpdate(token, std::move(update));
        }
      });
  {
    MutexLock lock(&mu_);
    // Unless stopped meanwhile, or ended already (its end reset the token).
    if (state_ != State::kStopped && host_watch_.token == token) {
      host_watch_.id = id;
      host_watch_.from = 0;
      if (current) {
        ApplyHostKeyLocked(current->kvs.empty() ? nullptr : &current->kvs[0],
                           current->revision);
      }
      return absl::OkStatus();
    }
  }
  env_->CancelWatch(id);
  return absl::OkStatus();
}

absl::Status RegistrationImpl::WatchServiceRecord(int64_t from) {
  // What we know of the record at from - 1: what our write left, or (after
  // the shared watch ended) what a read finds, applied before joining so
  // that what the watch knows, if newer, comes after it.
  ETCDISC_ASSIGN_OR_RETURN(std::optional<RangeResponse> read,
                           ReadUnlessKnown(*env_, service_key_, &from));
  std::optional<KeyValue> known;
  if (read && !read->kvs.empty()) known = read->kvs[0];
  uint64_t token = 0;
  {
    MutexLock lock(&mu_);
    if (state_ == State::kStopped) return absl::OkStatus();
    token = service_watch_.token = ++watch_tokens_;
    if (read) {
      ApplyServiceRecordLocked(known ? &*known : nullptr);
    } else {
      known = KeyValue{};
      known->key = service_key_;
      known->value = service_written_;
    }
  }
  std::weak_ptr<RegistrationImpl> weak = weak_from_this();
  RecordListener listener;
  listener.on_change = [weak, token](const KeyValue* record) {
    if (auto self = weak.lock()) self->OnServiceRecord(token, record);
  };
  listener.on_end = [weak, token] {
    if (auto self = weak.lock()) self->OnServiceWatchEnded(token);
  };
  const int64_t ticket = env_->JoinServiceRecord(
      service_key_, from, std::move(known), std::move(listener));
  {
    MutexLock lock(&mu_);
    // Unless stopped meanwhile, or ended already (its end reset the token).
    if (state_ != State::kStopped && service_watch_.token == token) {
      service_watch_.id = ticket;
      service_watch_.from = 0;
      return absl::OkStatus();
    }
  }
  env_->LeaveServiceRecord(service_key_, ticket);
  return absl::OkStatus();
}

void RegistrationImpl::DropWatches(WatchId host_watch,
                                   int64_t service_ticket) {
  if (host_watch != 0) env_->CancelWatch(host_watch);
  if (service_ticket != 0) {
    env_->LeaveServiceRecord(service_key_, service_ticket);
  }
}

// ---- What other threads report --------------------------------------------

void RegistrationImpl::LeaseGone(int64_t lease, const absl::Status& why) {
  // The others first: our own handler may run in there too, which is
  // harmless (LeaseGoneLocked acts once per lease).
  if (shared()) env_->SharedLeaseGone(lease, why);
  MutexLock lock(&mu_);
  LeaseGoneLocked(lease, why);
}

void RegistrationImpl::LeaseGoneLocked(int64_t lease, const absl::Status& why) {
  if (!shared()) env_->ForgetLease(lease);
  if (state_ == State::kStopped || lease != lease_) return;
  lease_ = 0;
  ++lease_losses_;
  if (state_ == State::kRegistered) {
    state_ = State::kUnregistered;
    EmitLocked(RegistrationEvent::Kind::kLost, why);
  }
}

void RegistrationImpl::HostWrittenLocked(uint64_t version, int64_t revision) {
  host_written_ = std::max(host_written_, version);
  host_revision_ = std::max(host_revision_, revision);
}

void RegistrationImpl::OnLeaseLost(int64_t lease, const absl::Status& why) {
  {
    MutexLock lock(&mu_);
    LeaseGoneLocked(lease, why);
  }
  Kick();
}

void RegistrationImpl::OnHostKeyUpdate(uint64_t token, WatchUpdate update) {
  {
    MutexLock lock(&mu_);
    if (state_ == State::kStopped || host_watch_.token != token) return;
    for (const WatchEvent& event : update.events) {
      const bool gone = event.type == WatchEvent::Type::kDelete;
      ApplyHostKeyLocked(gone ? nullptr : &event.kv, event.kv.mod_revision);
    }
    if (!update.status.ok()) {
      // Compacted past, or etcd wiped: read the key and watch again.
      host_watch_ = KeyWatch{};
    }
  }
  Kick();
}

void RegistrationImpl::OnServiceRecord(uint64_t token,
                                       const KeyValue* record) {
  {
    MutexLock lock(&mu_);
    if (state_ == State::kStopped || service_watch_.token != token) return;
    ApplyServiceRecordLocked(record);
  }
  Kick();
}

void RegistrationImpl::OnServiceWatchEnded(uint64_t token) {
  {
    MutexLock lock(&mu_);
    if (state_ == State::kStopped || service_watch_.token != token) return;
    // The shared watch dropped us: read the record and join again.
    service_watch_ = KeyWatch{};
  }
  Kick();
}

void RegistrationImpl::ApplyHostKeyLocked(const KeyValue* kv,
                                          int64_t revision) {
  // Our own writes come back as puts. A key missing after our last write of
  // it was deleted behind our back: write it again. (If the lease went with
  // it, that write hears so and the registration starts over.)
  // Bumped whatever the state, even with a write in flight: that write may
  // have landed before the delete, and its answer must not settle it.
  if (kv != nullptr || revision <= host_revision_) return;
  if (state_ != State::kStopped) ++host_version_;
}

void RegistrationImpl::ApplyServiceRecordLocked(const KeyValue* record) {
  if (record == nullptr) {
    // Its holder's lease went, or someone deleted it: put it back, in
    // whatever state this registration is now.
    ++service_gone_;
    return;
  }
  auto service = DecodeService(record->value);
  if (!service.ok()) {
    ETCDISC_LOG(kWarning, absl::StrCat("skipping malformed service record ", record->key,
                            " at revision ", record->mod_revision, ": ",
                            service.status().message()));
    return;
  }
  if (!host_.is_public) return;
  if (service->user == host_.user && service->password == host_.password) {
    return;
  }
  host_.user = service->user;
  host_.password = service->password;
  ++host_version_;
}

void RegistrationImpl::EmitLocked(RegistrationEvent::Kind kind,
                                  absl::Status detail) {
  if (!on_event_) return;
  RegistrationEvent event;
  event.kind = kind;
  event.detail = std::move(detail);
  event.credentials = Credentials{host_.user, host_.password};
  env_->PostCallback(
      [callback = on_event_, event = std::move(event)] { (*callback)(event); });
}

}  // namespace etcdisc::internal
