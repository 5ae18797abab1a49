// etcd's unary Lease calls: grant, revoke, time-to-live. Keep-alives live in
// LeaseKeeper.
#ifndef ETCDISC_ETCD_LEASE_CLIENT_H_
#define ETCDISC_ETCD_LEASE_CLIENT_H_

#include <chrono>
#include <cstdint>

#include "absl/status/statusor.h"
#include "etcd/connection.h"
#include "etcd/types.h"

namespace etcdisc::internal {

// Safe for concurrent use; `connection` must outlive it.
class LeaseClient {
 public:
  LeaseClient(Connection* connection, std::chrono::milliseconds timeout)
      : connection_(connection), timeout_(timeout) {}

  // Grants a lease of `ttl` (whole seconds, rounded up; etcd raises a TTL
  // below its minimum). InvalidArgument for a TTL not above zero.
  absl::StatusOr<LeaseGrant> Grant(std::chrono::milliseconds ttl) {
    return Grant(ttl, 0, timeout_);
  }
  // The same for a lease of the caller's chosen `id` (0: etcd chooses),
  // within `timeout`. A grant of an id that etcd holds already counts as
  // granted, so that a grant whose answer was lost can be asked again with
  // the same id instead of leaving a second lease behind.
  absl::StatusOr<LeaseGrant> Grant(std::chrono::milliseconds ttl, int64_t id,
                                   std::chrono::milliseconds timeout);
  // Revokes a lease and deletes its keys. NotFound if it does not exist.
  absl::Status Revoke(int64_t id) { return Revoke(id, timeout_); }
  // The same within `timeout` instead of the client's call timeout.
  absl::Status Revoke(int64_t id, std::chrono::milliseconds timeout);
  // The lease's remaining TTL (-1 when it does not exist) and, if asked,
  // its keys.
  absl::StatusOr<LeaseTimeToLive> TimeToLive(int64_t id, bool keys);

 private:
  Connection* connection_;
  std::chrono::milliseconds timeout_;
};

}  // namespace etcdisc::internal

#endif  // ETCDISC_ETCD_LEASE_CLIENT_H_
