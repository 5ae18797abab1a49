#include "fleet/health_publisher.h"

#include <algorithm>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "etcdisc/version.h"
#include "etcd/grpc_status.h"
#include "fleet/proc_health.h"
#include "util/log.h"

namespace etcdisc::internal {
namespace {

using Clock = std::chrono::steady_clock;
using WallClock = std::chrono::system_clock;

// A record's lease is refreshed this often (not every third of its TTL, so
// that it ends about one retention after its publisher stops).
constexpr auto kLeaseRefresh = std::chrono::seconds(60);
// Ticks skipped (nothing changed) before one writes anyway, so that
// last_seen stays recent.
constexpr int kMaxSkipped = 5;

// A lease id of our own choosing (see LeaseClient::Grant): positive, random.
int64_t NewLeaseId() {
  static std::mt19937_64 random{std::random_device{}()};
  static Mutex mu;
  MutexLock lock(&mu);
  int64_t id = 0;
  while (id == 0) id = static_cast<int64_t>(random() >> 2);
  return id;
}

std::chrono::milliseconds Left(Clock::time_point deadline) {
  return std::max(std::chrono::duration_cast<std::chrono::milliseconds>(
                      deadline - Clock::now()),
                  std::chrono::milliseconds(1));
}

}  // namespace

HealthPublisher::HealthPublisher(std::shared_ptr<ClientCore> core,
                                 HealthTarget target)
    : core_(std::move(core)), target_(std::move(target)) {}

void HealthPublisher::OnRegistrationRefused() {
  std::weak_ptr<HealthPublisher> weak = weak_from_this();
  core_->registration_pool().Post([weak] {
    if (auto self = weak.lock()) self->Stop();
  });
}

void HealthPublisher::OnRegistered() {
  MutexLock lock(&mu_);
  if (state_ != State::kWaiting) return;
  state_ = State::kPublishing;
  registered_at_ = WallClock::now();
  ScheduleLocked(Clock::duration::zero());
}

absl::Status HealthPublisher::SetGauge(absl::string_view name, double value) {
  if (absl::Status s = ValidateGauge(name, value); !s.ok()) return s;
  MutexLock lock(&mu_);
  if (state_ == State::kStopped) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot set gauge \"", name, "\": the registration stopped"));
  }
  const std::string key(name);
  if (gauges_.count(key) == 0 && gauges_.size() >= kMaxGauges) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot add gauge \"", name, "\": a host has at most ", kMaxGauges));
  }
  gauges_[key] = value;
  return absl::OkStatus();
}

void HealthPublisher::ScheduleLocked(Clock::duration delay) {
  if (scheduled_) return;
  scheduled_ = true;
  std::weak_ptr<HealthPublisher> weak = weak_from_this();
  core_->RunAfter(delay, [weak] {
    auto self = weak.lock();
    if (self == nullptr) return;
    self->core_->registration_pool().Post([weak] {
      if (auto publisher = weak.lock()) publisher->Tick();
    });
  });
}

void HealthPublisher::Tick() {
  Sample sample;
  {
    MutexLock lock(&mu_);
    scheduled_ = false;
    if (state_ != State::kPublishing || ticking_) return;
    ticking_ = true;
    sample.lease = lease_;
    sample.force = lease_ == 0 || !written_ || skipped_ >= kMaxSkipped;
    sample.has_last = written_.has_value();
    if (written_) sample.last = written_->health;
    sample.last_cpu_rate = written_cpu_rate_;
    sample.last_at = written_at_;
    sample.record.registered_at = registered_at_;
    sample.record.health.gauges = gauges_;
  }
  TakeSample(&sample);
  const auto elapsed = sample.taken_at - sample.last_at;
  const bool write =
      sample.force || WorthPublishing(sample.last, sample.last_cpu_rate,
                                      sample.record.health, elapsed);
  const absl::Status result = write ? Write(&sample) : absl::OkStatus();
  std::optional<Final> final;
  int64_t refused = 0;
  std::string warning;
  {
    MutexLock lock(&mu_);
    ticking_ = false;
    if (IsRefusal(result)) {
      refused = RefusedLocked(result, &warning);
    } else if (!write) {
      ++skipped_;
    } else if (result.ok() && lease_ == sample.lease) {
      written_cpu_rate_ =
          sample.has_last ? CpuRate(sample.last, sample.record.health, elapsed)
                          : std::nullopt;
      written_ = std::move(sample.record);
      written_at_ = sample.taken_at;
      skipped_ = 0;
    } else if (absl::IsNotFound(result) && lease_ == sample.lease) {
      lease_ = 0;  // Gone from etcd, with the record: the next tick grants.
    }
    if (state_ == State::kPublishing) {
      ScheduleLocked(target_.interval);
    } else if (final_pending_) {
      final_pending_ = false;
      final = TakeFinalLocked();
    }
  }
  if (!warning.empty()) ETCDISC_LOG(kWarning, warning);
  if (final) WriteFinal(*final);
  if (refused != 0) Release(refused, Clock::now() + core_->options().call_timeout);
}

void HealthPublisher::TakeSample(Sample* sample) const {
  HealthRecord& record = sample->record;
  std::map<std::string, double> gauges = std::move(record.health.gauges);
  record.hostname = target_.hostname;
  record.last_seen = WallClock::now();
  sample->taken_at = Clock::now();
  record.health = SampleHealth();
  record.health.gauges = std::move(gauges);
  record.health.version = Version();
}

absl::Status HealthPublisher::Write(Sample* sample) {
  if (sample->lease == 0) {
    auto lease = GrantLease();
    if (!lease.ok()) return lease.status();
    sample->lease = *lease;
    MutexLock lock(&mu_);
    // Stop came during the grant: the final record goes under this lease.
    if (state_ != State::kPublishing) return absl::CancelledError("stopped");
  }
  const std::string key = core_->keys().HealthKey(target_.service, target_.uuid);
  return core_->etcd()
      .kv()
      .Put({key, EncodeHealthRecord(sample->record), sample->lease, false})
      .status();
}

int64_t HealthPublisher::RefusedLocked(const absl::Status& why,
                                       std::string* warning) {
  *warning = absl::StrCat(
      "the health of ", target_.uuid, " (", target_.service,
      ") is no longer published: ", why.message(),
      "; a registrar's role needs readwrite on the key prefix ",
      core_->keys().AllHealthPrefix());
  state_ = State::kStopped;
  final_pending_ = false;  // etcd would refuse it too.
  written_.reset();
  return std::exchange(lease_, 0);
}

absl::StatusOr<int64_t> HealthPublisher::GrantLease() {
  int64_t id = 0;
  {
    MutexLock lock(&mu_);
    if (granting_ == 0) granting_ = NewLeaseId();
    id = granting_;
  }
  const auto asked_at = Clock::now();
  auto grant = core_->etcd().lease().Grant(target_.retention, id,
                                           core_->options().call_timeout);
  // Not granted (or not known to be): the next try asks for the same id, so
  // that a grant whose answer was lost leaves no second lease behind.
  if (!grant.ok()) return grant.status();
  std::weak_ptr<HealthPublisher> weak = weak_from_this();
  core_->etcd().keeper().Keep(
      id, grant->ttl_seconds,
      [weak, id](const absl::Status&) {
        if (auto self = weak.lock()) self->OnLeaseLost(id);
      },
      asked_at, kLeaseRefresh);
  MutexLock lock(&mu_);
  granting_ = 0;
  lease_ = id;  // One tick at a time, and none after Stop: lease_ was 0.
  return id;
}

void HealthPublisher::OnLeaseLost(int64_t lease) {
  MutexLock lock(&mu_);
  if (lease_ == lease) lease_ = 0;
}

void HealthPublisher::Stop(Clock::time_point deadline) {
  Final final;
  {
    MutexLock lock(&mu_);
    if (state_ == State::kStopped) return;
    state_ = State::kStopped;
    went_at_ = WallClock::now();
    deadline_ = deadline;
    if (ticking_) {
      final_pending_ = true;  // The tick writes it when its call returns.
      return;
    }
    final = TakeFinalLocked();
  }
  WriteFinal(final);
}

HealthPublisher::Final HealthPublisher::TakeFinalLocked() {
  // The last sample written, with the gauges as the application last set
  // them (a gauge set just before Stop is not lost).
  if (written_) written_->health.gauges = gauges_;
  Final final{lease_, std::move(written_), went_at_, deadline_};
  lease_ = 0;
  written_.reset();
  return final;
}

void HealthPublisher::WriteFinal(const Final& final) {
  if (final.lease != 0) core_->etcd().keeper().Forget(final.lease);
  if (!final.record) {
    // Nothing was written: the lease (if any) holds nothing worth keeping.
    if (final.lease != 0) Release(final.lease, final.deadline);
    return;
  }
  HealthRecord record = *final.record;
  record.went_at = final.went_at;
  const std::string value = EncodeHealthRecord(record);
  absl::Status put = PutFinal(value, final.lease, final.deadline);
  if (final.lease != 0 && !absl::IsNotFound(put)) return;
  // The lease went with the record: the last health goes back under a new
  // one, which nobody refreshes either.
  auto lease = core_->etcd().lease().Grant(target_.retention, NewLeaseId(),
                                           Left(final.deadline));
  if (!lease.ok()) return;
  if (!PutFinal(value, lease->id, final.deadline).ok()) {
    Release(lease->id, final.deadline);
  }
}

absl::Status HealthPublisher::PutFinal(const std::string& value, int64_t lease,
                                       Clock::time_point deadline) {
  if (lease == 0) return absl::NotFoundError("no lease");
  TxnRequest put;
  put.success.push_back(TxnOp::Put(
      {core_->keys().HealthKey(target_.service, target_.uuid), value, lease,
       false}));
  return core_->etcd().kv().Txn(put, Left(deadline)).status();
}

void HealthPublisher::Release(int64_t lease, Clock::time_point deadline) {
  core_->etcd().keeper().Forget(lease);
  core_->etcd().lease().Revoke(lease, Left(deadline)).IgnoreError();
}

absl::StatusOr<std::shared_ptr<HealthPublisher>> NewHealthPublisher(
    std::shared_ptr<ClientCore> core, absl::string_view service,
    const Host& host, const RegisterOptions& options,
    RegistrationCallback* on_event) {
  if (options.health_interval.count() < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid health interval ", options.health_interval.count(),
        "ms: 0 (off) or more"));
  }
  if (options.health_retention < std::chrono::seconds(1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid health retention ",
                     options.health_retention.count(), "s: at least 1s"));
  }
  if (options.health_interval.count() == 0) return nullptr;
  auto publisher = std::make_shared<HealthPublisher>(
      std::move(core),
      HealthTarget{std::string(service), host.uuid, host.name,
                   options.health_interval, options.health_retention});
  std::weak_ptr<HealthPublisher> weak = publisher;
  *on_event = [weak, user = std::move(*on_event)](const RegistrationEvent& e) {
    if (auto p = weak.lock()) {
      if (e.kind == RegistrationEvent::Kind::kRegistered) p->OnRegistered();
      if (e.kind == RegistrationEvent::Kind::kAttemptFailed &&
          IsRefusal(e.detail)) {
        p->OnRegistrationRefused();
      }
    }
    if (user) user(e);
  };
  return publisher;
}

}  // namespace etcdisc::internal
