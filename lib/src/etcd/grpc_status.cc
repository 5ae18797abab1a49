#include "etcd/grpc_status.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace etcdisc::internal {

absl::Status FromGrpcStatus(const grpc::Status& status, absl::string_view what,
                            absl::string_view endpoint) {
  if (status.ok()) return absl::OkStatus();
  // grpc::StatusCode and absl::StatusCode share their numbering (both follow
  // google.rpc.Code), so the cast keeps the code.
  auto code = static_cast<absl::StatusCode>(status.error_code());
  std::string message = absl::StrCat("etcd ", what, " at ", endpoint, ": ",
                                     status.error_message());
  if (code == absl::StatusCode::kUnknown &&
      absl::StrContains(status.error_message(), "context deadline exceeded")) {
    // A member whose own handling of the call ran out of time says so as
    // UNKNOWN with Go's text: it is the call's deadline that passed.
    code = absl::StatusCode::kDeadlineExceeded;
  }
  if (absl::StrContains(status.error_message(), "user name is empty")) {
    // etcd says INVALID_ARGUMENT, but nothing in the call was wrong.
    code = absl::StatusCode::kUnauthenticated;
    absl::StrAppend(&message,
                    " (etcd has authentication on: give an etcd user and "
                    "password, or a client certificate whose common name is "
                    "a user)");
  }
  return absl::Status(code, message);
}

bool IsMemberFailure(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
      return true;
    default:
      // etcd reports a member without a leader as UNAVAILABLE, but older
      // members used UNKNOWN with these texts.
      return absl::StrContains(status.message(), "no leader") ||
             absl::StrContains(status.message(), "leader changed");
  }
}

bool IsRejectedUnapplied(const absl::Status& status) {
  return absl::StrContains(status.message(), "etcdserver: no leader");
}

bool IsRefusal(const absl::Status& status) {
  return absl::IsPermissionDenied(status) || absl::IsUnauthenticated(status);
}

}  // namespace etcdisc::internal
