#include "fleet/health_publisher.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "etcdisc/version.h"
#include "etcd/grpc_status.h"
#include "fleet/proc_health.h"
#include "util/deadline.h"
#include "util/log.h"
#include "util/status_macros.h"

namespace etcdisc::internal {
namespace {

using Clock = std::chrono::steady_clock;
using WallClock = std::chrono::system_clock;

// Ticks skipped (nothing changed) before one writes anyway, so that
// last_seen stays recent.
constexpr int kMaxSkipped = 5;
// How old a sample of /proc another publisher took may be for reuse.
constexpr auto kMaxSampleAge = std::chrono::seconds(1);
// A final record that could not be written is tried again after these.
constexpr auto kFirstFinalRetry = std::chrono::seconds(1);
constexpr auto kMaxFinalRetry = std::chrono::seconds(30);

}  // namespace

HealthPublisher::HealthPublisher(std::shared_ptr<ClientCore> core,
                                 std::shared_ptr<HealthLeases> leases,
                                 HealthTarget target)
    : core_(std::move(core)),
      leases_(std::move(leases)),
      target_(std::move(target)) {}

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
    sample.written_under = lease_;
    sample.force = !written_ || skipped_ >= kMaxSkipped;
    sample.has_last = written_.has_value();
    if (written_) sample.last = written_->health;
    sample.last_cpu_rate = written_cpu_rate_;
    sample.last_at = written_at_;
    sample.record.registered_at = registered_at_;
    sample.record.health.gauges = gauges_;
  }
  bool wrote = false;
  const absl::Status result = SampleAndWrite(&sample, &wrote);
  if (absl::IsNotFound(result)) leases_->Gone(sample.lease);
  std::optional<Final> final;
  std::string warning;
  {
    MutexLock lock(&mu_);
    ticking_ = false;
    if (IsRefusal(result)) {
      warning = RefusedLocked(result);
    } else if (result.ok() && !wrote) {
      ++skipped_;
    } else if (result.ok()) {
      written_cpu_rate_ =
          sample.has_last ? CpuRate(sample.last, sample.record.health,
                                    sample.taken_at - sample.last_at)
                          : std::nullopt;
      written_ = std::move(sample.record);
      written_at_ = sample.taken_at;
      lease_ = sample.lease;
      skipped_ = 0;
      tried_.reset();
    } else if (wrote && !absl::IsNotFound(result)) {
      // Perhaps in etcd, under the live lease: Stop must still move it.
      tried_ = std::move(sample.record);
    }
    if (state_ == State::kPublishing) {
      ScheduleLocked(target_.interval);
    } else if (final_pending_) {
      final_pending_ = false;
      final = TakeFinalLocked();
    }
  }
  if (!warning.empty()) {
    ETCDISC_LOG(kWarning, warning);
    // The record cannot be moved: the live lease is let go, so that it ends
    // one retention from now (the client's other records move to another).
    if (sample.written_under != 0) leases_->Gone(sample.written_under);
  }
  if (final) WriteFinal(*final);
}

absl::Status HealthPublisher::SampleAndWrite(Sample* sample, bool* wrote) {
  ETCDISC_ASSIGN_OR_RETURN(sample->lease, leases_->Live(target_.retention));
  {
    // Stopped while waiting for the lease: the final record is the last one.
    MutexLock lock(&mu_);
    if (state_ != State::kPublishing) return absl::CancelledError("stopped");
  }
  TakeSample(sample);
  // A record under another lease than the live one may be gone with it.
  *wrote = sample->force || sample->lease != sample->written_under ||
           WorthPublishing(sample->last, sample->last_cpu_rate,
                           sample->record.health,
                           sample->taken_at - sample->last_at);
  if (!*wrote) return absl::OkStatus();
  const std::string key = core_->keys().HealthKey(target_.service, target_.uuid);
  return core_->etcd()
      .kv()
      .Put({key, EncodeHealthRecord(sample->record), sample->lease, false})
      .status();
}

void HealthPublisher::TakeSample(Sample* sample) const {
  HealthRecord& record = sample->record;
  std::map<std::string, double> gauges = std::move(record.health.gauges);
  record.hostname = target_.hostname;
  record.last_seen = WallClock::now();
  // Shared with the process's other publishers; never one this publisher
  // used before, since its ticks are an interval apart.
  const TimedHealth recent = RecentHealth(
      std::min<Clock::duration>(kMaxSampleAge, target_.interval / 2));
  sample->taken_at = recent.taken_at;
  record.health = recent.health;
  record.health.gauges = std::move(gauges);
  record.health.version = Version();
}

std::string HealthPublisher::RefusedLocked(const absl::Status& why) {
  state_ = State::kStopped;
  final_pending_ = false;  // etcd would refuse it too.
  written_.reset();
  return absl::StrCat(
      "the health of ", target_.uuid, " (", target_.service,
      ") is no longer published: ", why.message(),
      "; a registrar's role needs readwrite on the key prefix ",
      core_->keys().AllHealthPrefix());
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
  // A record perhaps written is newer than the last one surely written.
  std::optional<HealthRecord> last = tried_ ? std::move(tried_)
                                            : std::move(written_);
  if (last) last->health.gauges = gauges_;
  Final final{std::move(last), lease_, went_at_, deadline_};
  written_.reset();
  tried_.reset();
  return final;
}

void HealthPublisher::WriteFinal(const Final& final) {
  if (!final.record) return;  // Nothing was written: nothing to keep.
  HealthRecord record = *final.record;
  record.went_at = final.went_at;
  std::string value = EncodeHealthRecord(record);
  if (!TryFinal(value, final.lease, final.deadline)) {
    RetryFinal(std::move(value), final.lease, kFirstFinalRetry);
  }
}

bool HealthPublisher::TryFinal(const std::string& value, int64_t live_lease,
                               Clock::time_point deadline) {
  absl::Status put = PutFinal(value, deadline);
  // A retired lease etcd lost is replaced once.
  if (absl::IsNotFound(put)) put = PutFinal(value, deadline);
  if (IsRefusal(put) && live_lease != 0) leases_->Gone(live_lease);
  return put.ok() || IsRefusal(put);
}

void HealthPublisher::RetryFinal(std::string value, int64_t live_lease,
                                 Clock::duration delay) {
  // Owned by the task: the handle may be gone. A client shutting down drops
  // the task, and what stays under its live lease ends one retention later.
  auto self = shared_from_this();
  core_->RunAfter(delay, [self, value = std::move(value), live_lease,
                          delay]() mutable {
    auto& pool = self->core_->registration_pool();
    pool.Post([self, value = std::move(value), live_lease, delay] {
      const auto deadline = Clock::now() + self->core_->options().call_timeout;
      if (self->TryFinal(value, live_lease, deadline)) return;
      self->RetryFinal(value, live_lease,
                       std::min<Clock::duration>(2 * delay, kMaxFinalRetry));
    });
  });
}

absl::Status HealthPublisher::PutFinal(const std::string& value,
                                       Clock::time_point deadline) {
  ETCDISC_ASSIGN_OR_RETURN(int64_t lease,
                           leases_->Retired(target_.retention, deadline));
  TxnRequest put;
  put.success.push_back(TxnOp::Put(
      {core_->keys().HealthKey(target_.service, target_.uuid), value, lease,
       false}));
  absl::Status status =
      core_->etcd().kv().Txn(put, TimeLeft(deadline)).status();
  if (absl::IsNotFound(status)) leases_->Gone(lease);
  return status;
}

absl::StatusOr<std::shared_ptr<HealthPublisher>> NewHealthPublisher(
    std::shared_ptr<ClientCore> core, std::shared_ptr<HealthLeases> leases,
    absl::string_view service,
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
      std::move(core), std::move(leases),
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
