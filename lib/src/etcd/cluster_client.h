// etcd's Cluster and Maintenance calls that etcdisc uses: the member list and
// one member's status.
#ifndef ETCDISC_ETCD_CLUSTER_CLIENT_H_
#define ETCDISC_ETCD_CLUSTER_CLIENT_H_

#include <chrono>
#include <cstddef>
#include <vector>

#include "absl/status/statusor.h"
#include "etcd/connection.h"
#include "etcd/types.h"

namespace etcdisc::internal {

// Safe for concurrent use; `connection` must outlive it.
class ClusterClient {
 public:
  ClusterClient(Connection* connection, std::chrono::milliseconds timeout)
      : connection_(connection), timeout_(timeout) {}

  // The cluster's members, as the member in use knows them.
  absl::StatusOr<std::vector<Member>> MemberList();
  // The status of the member at `endpoint_index` (its place in the endpoint
  // list), asked directly and never moved elsewhere.
  absl::StatusOr<MemberStatus> Status(size_t endpoint_index);

 private:
  Connection* connection_;
  std::chrono::milliseconds timeout_;
};

}  // namespace etcdisc::internal

#endif  // ETCDISC_ETCD_CLUSTER_CLIENT_H_
