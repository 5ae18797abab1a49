// The leases that a client's health records live under, shared by all of
// its registrations' publishers (fleet/health_publisher.h).
#ifndef ETCDISC_FLEET_HEALTH_LEASES_H_
#define ETCDISC_FLEET_HEALTH_LEASES_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "discovery/client_core.h"
#include "util/mutex.h"

namespace etcdisc::internal {

// For each retention in use, two leases:
//
// - the live lease holds the records of hosts still registered. It is kept
//   alive while the client lives (refreshed every minute, or every third of
//   its TTL when that is shorter), so that the records of a process that
//   dies end within one retention of its death. A registration thus adds
//   no grant of its own: its record is one put.
// - the retired lease holds the records of hosts that stopped. It is never
//   refreshed, so etcd deletes each such record one retention after its
//   stop, or up to a sixtieth of the retention (at most a minute) later:
//   stops that close together share one grant.
//
// One grant at a time per lease: other callers wait for its outcome (until
// their deadline), and try themselves if it failed. The live lease is asked
// for again under the same id after a failure, so that a grant whose answer
// was lost leaves no second lease refreshed beside the first. A caller that
// hears etcd no longer has a lease reports it (Gone): the next call grants
// another. Safe for concurrent use.
class HealthLeases final : public std::enable_shared_from_this<HealthLeases> {
 public:
  explicit HealthLeases(std::shared_ptr<ClientCore> core)
      : core_(std::move(core)) {}

  // The live lease for `retention`, granted now if there is none, within the
  // client's call timeout; the grant's error (Unavailable, DeadlineExceeded,
  // PermissionDenied...) when it fails.
  absl::StatusOr<int64_t> Live(std::chrono::seconds retention)
      ABSL_LOCKS_EXCLUDED(mu_);
  // The retired lease for `retention`, granted now if there is none or if
  // the current one is older than its window; the grant's error when it
  // fails. The grant ends by `deadline`.
  absl::StatusOr<int64_t> Retired(std::chrono::seconds retention,
                                  std::chrono::steady_clock::time_point deadline)
      ABSL_LOCKS_EXCLUDED(mu_);
  // etcd answered that `lease` does not exist: a lease still handed out
  // under that id is replaced at the next call. Others are left alone.
  void Gone(int64_t lease) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Slot {
    int64_t lease = 0;  // 0: none yet, or gone.
    std::chrono::steady_clock::time_point granted_at;  // When first asked.
    int64_t asking = 0;  // The id asked for until granted; 0 when none is.
    std::chrono::steady_clock::time_point first_asked_at;  // Of `asking`.
    bool granting = false;  // A call is asking for it now.
  };
  enum class Kind { kLive, kRetired };

  absl::StatusOr<int64_t> Get(Kind kind, std::chrono::seconds retention,
                              std::chrono::steady_clock::time_point deadline)
      ABSL_LOCKS_EXCLUDED(mu_);
  bool UsableLocked(const Slot& slot, Kind kind,
                    std::chrono::seconds retention) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Slot& SlotLocked(Kind kind, std::chrono::seconds retention)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::shared_ptr<ClientCore> core_;
  Mutex mu_;
  std::map<int64_t, Slot> live_ ABSL_GUARDED_BY(mu_);     // By retention in s.
  std::map<int64_t, Slot> retired_ ABSL_GUARDED_BY(mu_);  // By retention in s.
};

}  // namespace etcdisc::internal

#endif  // ETCDISC_FLEET_HEALTH_LEASES_H_
