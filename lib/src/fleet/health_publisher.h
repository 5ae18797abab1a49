// Publishes one registration's health record (fleet/health_record.h) every
// interval while the registration lives, and once more with when it went
// when it stops.
#ifndef ETCDISC_FLEET_HEALTH_PUBLISHER_H_
#define ETCDISC_FLEET_HEALTH_PUBLISHER_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "discovery/client_core.h"
#include "discovery/stoppable.h"
#include "fleet/health_leases.h"
#include "fleet/health_record.h"
#include "util/mutex.h"

namespace etcdisc::internal {

struct HealthTarget {
  std::string service;
  std::string uuid;
  std::string hostname;
  std::chrono::milliseconds interval;
  std::chrono::seconds retention;
};

// States (state_):
//
//   kWaiting --OnRegistered--> kPublishing --Stop--> kStopped
//   kWaiting --Stop--> kStopped (nothing was ever written)
//   kPublishing --etcd refused the user or its permission--> kStopped
//                 (a warning names the prefix; the live lease is let go, so
//                 that the record written before ends one retention later)
//
// The record lives under the client's shared leases (fleet/health_leases.h):
// the live one while the host is registered, the retired one after Stop.
// In kPublishing one tick at a time samples /proc, and when the sample is
// worth it (WorthPublishing, five ticks skipped, or the live lease is not
// the one the record was last written under) puts the record under the live
// lease. A tick captures what was last written under the lock, calls etcd
// without it, and on the answer records the write it made; a lease etcd
// reports gone (NotFound) is reported to the leases, so that the next tick
// writes under another.
//
// Stop writes the record once more with went_at, from the last sample
// written (or perhaps written: a put whose answer was lost), under the
// retired lease, which nobody refreshes: etcd deletes the record one
// retention later (up to the retired lease's window more). A final write
// that fails is tried again in the background until it is done or the
// client shuts down, so that no stopped host's record stays under the live
// lease. If a tick's call is under way, that tick writes it when its call
// returns, so that the record with went_at is the last write of this
// publisher. The registration stops its publisher after
// its host is down (RegistrationImpl::StopAfterward). Safe for concurrent
// use.
class HealthPublisher final
    : public Stoppable,
      public std::enable_shared_from_this<HealthPublisher> {
 public:
  HealthPublisher(std::shared_ptr<ClientCore> core,
                  std::shared_ptr<HealthLeases> leases, HealthTarget target);

  // The host is in etcd (first time, or again): starts publishing.
  void OnRegistered() ABSL_LOCKS_EXCLUDED(mu_);
  // etcd refused the registration for good: stops, on a worker thread.
  void OnRegistrationRefused();
  absl::Status SetGauge(absl::string_view name, double value)
      ABSL_LOCKS_EXCLUDED(mu_);
  // See the class comment; the write of went_at ends by `deadline`, or
  // within the client's call timeout.
  void Stop(std::chrono::steady_clock::time_point deadline)
      ABSL_LOCKS_EXCLUDED(mu_);
  void Stop() ABSL_LOCKS_EXCLUDED(mu_) {
    Stop(std::chrono::steady_clock::now() + core_->options().call_timeout);
  }
  void StopBy(std::chrono::steady_clock::time_point deadline) override {
    Stop(deadline);
  }
  void AddMetrics(ClientMetrics* /*out*/) const override {}

 private:
  enum class State { kWaiting, kPublishing, kStopped };
  // What Stop leaves to write: the last record written, and the live lease
  // it was written under.
  struct Final {
    std::optional<HealthRecord> record;
    int64_t lease = 0;
    std::chrono::system_clock::time_point went_at;
    std::chrono::steady_clock::time_point deadline;
  };

  // What a tick captured under the lock, and the record it makes.
  struct Sample {
    int64_t written_under = 0;  // The lease of the last write; 0: none.
    int64_t lease = 0;          // The live lease now.
    bool force = false;         // Written whatever changed.
    // A record was written before (perhaps under a lease since lost).
    bool has_last = false;
    HostHealth last;  // As last written.
    std::optional<double> last_cpu_rate;  // When last written.
    std::chrono::steady_clock::time_point last_at;  // Its taken_at.
    HealthRecord record;
    std::chrono::steady_clock::time_point taken_at;  // When /proc was read.
  };

  void ScheduleLocked(std::chrono::steady_clock::duration delay)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Tick() ABSL_LOCKS_EXCLUDED(mu_);
  // Fills the record from /proc, keeping the captured gauges.
  void TakeSample(Sample* sample) const;
  // Samples and, when worth it, puts the record under the live lease;
  // whether it wrote, and the outcome.
  absl::Status SampleAndWrite(Sample* sample, bool* wrote)
      ABSL_LOCKS_EXCLUDED(mu_);
  Final TakeFinalLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // After a refusal of the tick's call: stops; the warning to log once the
  // lock is let go.
  std::string RefusedLocked(const absl::Status& why)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WriteFinal(const Final& final) ABSL_LOCKS_EXCLUDED(mu_);
  // Writes the final record (`value`): whether that is done, or refused (a
  // refusal lets `live_lease` go, HealthLeases::Gone, so that the record
  // under it ends one retention later); false when it should be retried.
  bool TryFinal(const std::string& value, int64_t live_lease,
                std::chrono::steady_clock::time_point deadline);
  // TryFinal after `delay`, and again (the delay doubled) until it is done or
  // refused, or the client shuts down.
  void RetryFinal(std::string value, int64_t live_lease,
                  std::chrono::steady_clock::duration delay);
  // Puts `value` under the retired lease.
  absl::Status PutFinal(const std::string& value,
                        std::chrono::steady_clock::time_point deadline);

  const std::shared_ptr<ClientCore> core_;
  const std::shared_ptr<HealthLeases> leases_;
  const HealthTarget target_;

  mutable Mutex mu_;
  State state_ ABSL_GUARDED_BY(mu_) = State::kWaiting;
  std::chrono::system_clock::time_point registered_at_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, double> gauges_ ABSL_GUARDED_BY(mu_);
  // The live lease the record was last written under; 0 before the first
  // write.
  int64_t lease_ ABSL_GUARDED_BY(mu_) = 0;
  // The record last written (under lease_, perhaps lost since), and when its
  // sample was taken.
  std::optional<HealthRecord> written_ ABSL_GUARDED_BY(mu_);
  std::chrono::steady_clock::time_point written_at_ ABSL_GUARDED_BY(mu_);
  // A record put since, whose answer was an error: perhaps in etcd.
  std::optional<HealthRecord> tried_ ABSL_GUARDED_BY(mu_);
  // The process's CPU rate from the record written before written_ to
  // written_; none after the first write.
  std::optional<double> written_cpu_rate_ ABSL_GUARDED_BY(mu_);
  int skipped_ ABSL_GUARDED_BY(mu_) = 0;  // Ticks since the last write.
  bool scheduled_ ABSL_GUARDED_BY(mu_) = false;  // A tick is posted.
  bool ticking_ ABSL_GUARDED_BY(mu_) = false;    // A tick runs.
  // Set by Stop.
  std::chrono::system_clock::time_point went_at_ ABSL_GUARDED_BY(mu_);
  std::chrono::steady_clock::time_point deadline_ ABSL_GUARDED_BY(mu_);
  // Stop came while a tick ran: that tick writes the final record.
  bool final_pending_ ABSL_GUARDED_BY(mu_) = false;
};

// The publisher of a registration of `host` of `service` with `options`, or
// nullptr when its health_interval is 0. Wraps `*on_event` so that the
// publisher starts once the host is registered. InvalidArgument for a
// negative interval or a retention under 1 s.
absl::StatusOr<std::shared_ptr<HealthPublisher>> NewHealthPublisher(
    std::shared_ptr<ClientCore> core, std::shared_ptr<HealthLeases> leases,
    absl::string_view service,
    const Host& host, const RegisterOptions& options,
    RegistrationCallback* on_event);

}  // namespace etcdisc::internal

#endif  // ETCDISC_FLEET_HEALTH_PUBLISHER_H_
