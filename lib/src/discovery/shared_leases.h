// The leases that a client's registrations with RegisterOptions::share_lease
// write under: one per service and TTL, shared.
#ifndef ETCDISC_DISCOVERY_SHARED_LEASES_H_
#define ETCDISC_DISCOVERY_SHARED_LEASES_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "etcd/etcd_client.h"
#include "util/mutex.h"

namespace etcdisc::internal {

// Told that the shared `lease` a holder joined is gone, and why.
using SharedLeaseLost =
    std::function<void(int64_t lease, const absl::Status& why)>;

// For each service and TTL in use, one lease that the registrations of that
// service sharing theirs hold together (so that the service record, when
// written under it, goes with the service's last host here): a registration joins it (the first one grants it), writes its
// keys under it, and leaves it after deleting its keys on Stop. The last
// one to leave revokes it. Sharing saves each registration its grant and
// its keep-alive, at the price of Stop being a delete of its keys (a lease
// is all or nothing).
//
// When etcd says the lease is gone (the keeper's answer, or a holder's
// write refused with NotFound: Gone()), every holder hears it, once, on the
// thread that found out, and the next Join grants another. One grant at a
// time per TTL: others wait for its outcome (until their deadline) and try
// themselves if it failed. Safe for concurrent use; holders' handlers run
// without the lock held.
class SharedLeases {
 public:
  explicit SharedLeases(EtcdClient* etcd) : etcd_(etcd) {}

  // The lease of `service` and `ttl`, with `holder` (a number unique in this
  // client) now among its holders; `on_lost` runs when it is gone. Granted
  // within `timeout` when there is none; the grant's error when that fails,
  // FailedPrecondition after Shutdown().
  absl::StatusOr<int64_t> Join(const std::string& service,
                               std::chrono::milliseconds ttl, uint64_t holder,
                               SharedLeaseLost on_lost,
                               std::chrono::milliseconds timeout)
      ABSL_LOCKS_EXCLUDED(mu_);
  // `holder` no longer writes under `lease`. When it was the last holder the
  // lease is revoked (within `timeout`; if that fails it is no longer kept
  // alive, so it ends within its TTL). A lease already gone or replaced is
  // left alone.
  void Leave(int64_t lease, uint64_t holder, std::chrono::milliseconds timeout)
      ABSL_LOCKS_EXCLUDED(mu_);
  // etcd answered that `lease` does not exist: its holders hear it.
  void Gone(int64_t lease, const absl::Status& why) ABSL_LOCKS_EXCLUDED(mu_);
  // Revokes every lease still held (best effort) and grants no more.
  void Shutdown() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Slot {
    int64_t lease = 0;  // 0: none yet, or gone.
    bool granting = false;
    std::map<uint64_t, SharedLeaseLost> holders;
  };

  using SlotKey = std::pair<std::string, int64_t>;  // Service, TTL in ms.

  // Grants the lease of `slot` (of `ttl`) when no one else is, or waits for
  // the one who is; returns the lease, or why there is none.
  absl::StatusOr<int64_t> GrantOrWaitLocked(Slot& slot,
                                            std::chrono::milliseconds ttl,
                                            std::chrono::milliseconds timeout)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Lost(int64_t lease, const absl::Status& why) ABSL_LOCKS_EXCLUDED(mu_);

  EtcdClient* const etcd_;
  Mutex mu_;
  std::map<SlotKey, Slot> slots_ ABSL_GUARDED_BY(mu_);
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace etcdisc::internal

#endif  // ETCDISC_DISCOVERY_SHARED_LEASES_H_
