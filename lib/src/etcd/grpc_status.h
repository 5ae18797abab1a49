// The one place where gRPC's status becomes absl::Status.
#ifndef ETCDISC_ETCD_GRPC_STATUS_H_
#define ETCDISC_ETCD_GRPC_STATUS_H_

#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace etcdisc::internal {

// Maps a gRPC status to the absl::Status with the same code, its message
// prefixed by `what` (the call, e.g. "Range") and `endpoint` so that a reader
// knows what failed where. OK maps to OK.
absl::Status FromGrpcStatus(const grpc::Status& status, absl::string_view what,
                            absl::string_view endpoint);

// Whether a failed call says more about the member it reached than about the
// request, so that the next call should try another member: UNAVAILABLE,
// DEADLINE_EXCEEDED, and etcd's "no leader" and timeout errors.
bool IsMemberFailure(const absl::Status& status);

// Whether etcd refused a call before applying anything (it has no leader), so
// that even a write may be sent again.
bool IsRejectedUnapplied(const absl::Status& status);

// Whether etcd refused the client's user (Unauthenticated) or its
// permission (PermissionDenied): the same call cannot succeed until someone
// changes etcd's users or roles.
bool IsRefusal(const absl::Status& status);

}  // namespace etcdisc::internal

#endif  // ETCDISC_ETCD_GRPC_STATUS_H_
