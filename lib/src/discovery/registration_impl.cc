#include "discovery/registration_impl.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "discovery/records.h"
#include "util/log.h"

namespace etcdisc::internal {

RegistrationImpl::RegistrationImpl(std::shared_ptr<ClientCore> core,
                                   std::string service, Host host,
                                   RegisterOptions options,
                                   RegistrationCallback on_event)
    : core_(std::move(core)),
      service_(std::move(service)),
      uuid_(host.uuid),
      host_key_(core_->keys().HostKey(service_, host.uuid)),
      service_key_(core_->keys().ServiceKey(service_)),
      options_(options),
      on_event_(std::move(on_event)),
      host_(std::move(host)),
      backoff_(std::chrono::milliseconds(100), std::chrono::seconds(5)) {}

void RegistrationImpl::Start() { Kick(); }

std::pair<Host, int64_t> RegistrationImpl::HostAndLease() const {
  MutexLock lock(&mu_);
  return {host_, lease_};
}

bool RegistrationImpl::Ready() const {
  MutexLock lock(&mu_);
  return registered_ && !stopped_;
}

absl::Status RegistrationImpl::WaitRegistration(
    std::chrono::milliseconds timeout) {
  MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(
      absl::Condition(
          +[](RegistrationImpl* r) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return r->registered_ || r->stopped_;
          },
          this),
      absl::FromChrono(timeout));
  if (stopped_) {
    return absl::FailedPreconditionError(
        absl::StrCat("registration ", uuid_, " was stopped"));
  }
  if (!registered_) {
    return absl::DeadlineExceededError(absl::StrCat(
        "registration ", uuid_, " of service \"", service_,
        "\" not in etcd after ", timeout.count(), "ms"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Credentials> RegistrationImpl::GetCredentials() const {
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

absl::Status RegistrationImpl::Stop() {
  int64_t lease = 0;
  WatchId watch = 0;
  {
    MutexLock lock(&mu_);
    if (stopped_) {
      mu_.Await(absl::Condition(
          +[](RegistrationImpl* r) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return r->stop_status_.has_value();
          },
          this));
      return *stop_status_;
    }
    stopped_ = true;
    // A step in flight may be writing keys under a new lease: let it finish
    // so that the lease revoked below is the last one.
    mu_.Await(absl::Condition(
        +[](RegistrationImpl* r) ABSL_NO_THREAD_SAFETY_ANALYSIS {
          return !r->running_;
        },
        this));
    std::swap(lease, lease_);
    std::swap(watch, service_watch_);
    registered_ = false;
  }
  if (watch != 0) core_->etcd().watch().Cancel(watch);
  absl::Status status;
  if (lease != 0) {
    core_->etcd().keeper().Forget(lease);
    status = core_->etcd().lease().Revoke(lease);
    if (absl::IsNotFound(status)) status = absl::OkStatus();  // Gone already.
  }
  {
    MutexLock lock(&mu_);
    stop_status_ = status;
  }
  Emit(RegistrationEvent::Kind::kStopped, status);
  return status;
}

void RegistrationImpl::Kick() {
  {
    MutexLock lock(&mu_);
    if (stopped_ || running_ || retry_pending_) return;
    running_ = true;
  }
  if (!core_->pool().Post([self = shared_from_this()] { self->Run(); })) {
    MutexLock lock(&mu_);
    running_ = false;
  }
}

RegistrationImpl::Step RegistrationImpl::NextStepLocked() const {
  if (need_write_) return Step::kWrite;
  if (!registered_) return Step::kNone;
  if (need_service_watch_) return Step::kWatchService;
  if (need_host_rewrite_) return Step::kRewriteHost;
  if (need_service_restore_) return Step::kRestoreService;
  return Step::kNone;
}

void RegistrationImpl::Run() {
  while (true) {
    Step step;
    {
      MutexLock lock(&mu_);
      step = stopped_ ? Step::kNone : NextStepLocked();
      if (step == Step::kNone) {
        running_ = false;
        return;
      }
    }
    const absl::Status status = Perform(step);
    MutexLock lock(&mu_);
    if (!status.ok()) {
      running_ = false;
      if (!stopped_) RetryLater();
      return;
    }
    backoff_.Reset();
  }
}

void RegistrationImpl::RetryLater() {
  retry_pending_ = true;
  std::weak_ptr<RegistrationImpl> weak = weak_from_this();
  core_->etcd().scheduler().RunAfter(backoff_.Next(), [weak] {
    auto self = weak.lock();
    if (!self) return;
    {
      MutexLock lock(&self->mu_);
      self->retry_pending_ = false;
    }
    self->Kick();
  });
}

absl::Status RegistrationImpl::Perform(Step step) {
  switch (step) {
    case Step::kWrite:
      return Write();
    case Step::kRewriteHost:
      return RewriteHost();
    case Step::kWatchService:
      return WatchService();
    case Step::kRestoreService:
      return RestoreService();
    case Step::kNone:
      break;
  }
  return absl::OkStatus();
}

absl::Status RegistrationImpl::Write() {
  Host host;
  int64_t lease = 0;
  std::optional<absl::Status> lost;
  {
    MutexLock lock(&mu_);
    host = host_;
    lease = lease_;
    lost.swap(lost_);
  }
  if (lost) Emit(RegistrationEvent::Kind::kLost, *lost);
  const bool took_lease = lease == 0;
  if (lease == 0) {
    auto grant = core_->leases().Take(options_.ttl);
    if (!grant.ok()) return grant.status();
    lease = grant->id;
    std::weak_ptr<RegistrationImpl> weak = weak_from_this();
    core_->etcd().keeper().Keep(
        lease, grant->ttl_seconds, [weak, lease](const absl::Status& why) {
          if (auto self = weak.lock()) self->OnLeaseLost(lease, why);
        });
    MutexLock lock(&mu_);
    lease_ = lease;
  }

  // One Txn: the host key always; the service record only when it differs
  // from what is there. Rewriting an identical record would wake every
  // watcher of it (every live host of the service) for nothing; when its
  // holder goes, a live host puts it back (RestoreService).
  const std::string record = EncodeService(ServiceFromHost(service_, host));
  TxnRequest txn;
  txn.compares.push_back(
      Compare::Value(service_key_, Compare::Result::kEqual, record));
  txn.success.push_back(TxnOp::Put({host_key_, EncodeHost(host), lease, false}));
  txn.failure = txn.success;
  txn.failure.push_back(TxnOp::Put({service_key_, record, lease, false}));
  auto written = core_->etcd().kv().Txn(txn);
  if (took_lease) core_->leases().RefillLater(options_.ttl);
  if (!written.ok()) {
    if (absl::IsNotFound(written.status())) {
      // The lease died before it could be used: take another next time.
      core_->etcd().keeper().Forget(lease);
      MutexLock lock(&mu_);
      if (lease_ == lease) lease_ = 0;
    }
    return written.status();
  }

  bool first = false;
  bool credentials_changed = false;
  {
    MutexLock lock(&mu_);
    need_write_ = false;
    need_host_rewrite_ = false;
    need_service_restore_ = false;
    registered_ = true;
    first = !ever_registered_;
    ever_registered_ = true;
    if (service_watch_ == 0) {
      need_service_watch_ = true;
      // The Txn wrote the service record at this revision: watch what comes
      // after it, with no read.
      service_watch_from_ = written->revision + 1;
    }
    std::swap(credentials_changed, credentials_changed_);
  }
  Emit(first ? RegistrationEvent::Kind::kRegistered
             : RegistrationEvent::Kind::kReregistered,
       absl::OkStatus());
  if (credentials_changed) {
    Emit(RegistrationEvent::Kind::kCredentialsChanged, absl::OkStatus());
  }
  return absl::OkStatus();
}

absl::Status RegistrationImpl::RewriteHost() {
  auto [host, lease] = HostAndLease();
  auto put = core_->etcd().kv().Put({host_key_, EncodeHost(host), lease, false});
  if (!put.ok()) return put.status();
  bool changed = false;
  {
    MutexLock lock(&mu_);
    need_host_rewrite_ = false;
    std::swap(changed, credentials_changed_);
  }
  if (changed) Emit(RegistrationEvent::Kind::kCredentialsChanged, {});
  return absl::OkStatus();
}

absl::Status RegistrationImpl::WatchService() {
  int64_t from = 0;
  {
    MutexLock lock(&mu_);
    std::swap(from, service_watch_from_);
  }
  // Right after our own write we know the record and its revision; after a
  // watch ended (compaction, etcd wiped) read it again.
  std::optional<RangeResponse> current;
  if (from == 0) {
    RangeRequest read;
    read.key = service_key_;
    auto range = core_->etcd().kv().Range(read);
    if (!range.ok()) return range.status();
    current = *std::move(range);
    from = current->revision + 1;
  }

  WatchOptions options;
  options.key = service_key_;
  options.start_revision = from;
  std::weak_ptr<RegistrationImpl> weak = weak_from_this();
  const WatchId id = core_->etcd().watch().Watch(
      options, [weak](WatchUpdate update) {
        if (auto self = weak.lock()) self->OnServiceUpdate(std::move(update));
      });
  bool cancel = false;
  {
    MutexLock lock(&mu_);
    if (stopped_) {
      cancel = true;
    } else {
      service_watch_ = id;
      need_service_watch_ = false;
      if (current) {
        ApplyServiceRecordLocked(current->kvs.empty() ? nullptr
                                                      : &current->kvs[0]);
      }
    }
  }
  if (cancel) core_->etcd().watch().Cancel(id);
  return absl::OkStatus();
}

absl::Status RegistrationImpl::RestoreService() {
  auto [host, lease] = HostAndLease();
  // Several live hosts may race to put it back; the first one wins.
  TxnRequest txn;
  txn.compares.push_back(Compare::Missing(service_key_));
  txn.success.push_back(TxnOp::Put(
      {service_key_, EncodeService(ServiceFromHost(service_, host)), lease,
       false}));
  auto restored = core_->etcd().kv().Txn(txn);
  if (!restored.ok()) return restored.status();
  MutexLock lock(&mu_);
  need_service_restore_ = false;
  return absl::OkStatus();
}

void RegistrationImpl::OnLeaseLost(int64_t lease, const absl::Status& why) {
  {
    MutexLock lock(&mu_);
    if (stopped_ || lease != lease_) return;
    lease_ = 0;
    registered_ = false;
    need_write_ = true;
    lost_ = why;
  }
  Kick();
}

void RegistrationImpl::OnServiceUpdate(WatchUpdate update) {
  {
    MutexLock lock(&mu_);
    if (stopped_) return;
    if (!update.status.ok()) {
      // Compacted past our watch (or ended by etcd): read and watch again.
      service_watch_ = 0;
      need_service_watch_ = true;
    }
    for (const WatchEvent& event : update.events) {
      ApplyServiceRecordLocked(event.type == WatchEvent::Type::kDelete
                                   ? nullptr
                                   : &event.kv);
    }
  }
  Kick();
}

void RegistrationImpl::ApplyServiceRecordLocked(const KeyValue* record) {
  if (record == nullptr) {
    // Its holder's lease went; a registered host puts it back. One that is
    // not registered writes it with its keys anyway.
    if (registered_) need_service_restore_ = true;
    return;
  }
  auto service = DecodeService(record->value);
  if (!service.ok()) {
    LogWarning(absl::StrCat("skipping malformed service record ", record->key,
                            " at revision ", record->mod_revision, ": ",
                            service.status().message()));
    return;
  }
  if (!host_.public_) return;
  if (service->user == host_.user && service->password == host_.password) {
    return;
  }
  host_.user = service->user;
  host_.password = service->password;
  need_host_rewrite_ = true;
  credentials_changed_ = true;
}

void RegistrationImpl::Emit(RegistrationEvent::Kind kind,
                            absl::Status detail) {
  if (!on_event_) return;
  RegistrationEvent event;
  event.kind = kind;
  event.detail = std::move(detail);
  {
    MutexLock lock(&mu_);
    event.credentials = Credentials{host_.user, host_.password};
  }
  on_event_(event);
}

}  // namespace etcdisc::internal
