// The error for a member that could not be reached, saying why in words a
// user can act on: refused, no answer, or a TLS handshake that failed (with
// gRPC's reason: an unknown CA, a name not in the certificate, a plain
// http:// member reached with https:// or the reverse).
#ifndef ETCDISC_ETCD_DIAL_ERROR_H_
#define ETCDISC_ETCD_DIAL_ERROR_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "etcd/connection.h"

namespace etcdisc::internal {

enum class DialFailure {
  kRefused,   // An attempt to connect failed.
  kTimedOut,  // Not connected at the deadline.
};

// Unavailable naming `member`. While its channel is failing, gRPC keeps the
// reason of the last failed attempt only in the status of calls, so this
// makes one call that fails at once (it waits for nothing) to learn it.
absl::Status DialError(const MemberStubs& member, DialFailure failure);

// The message, from `reason`: gRPC's text for the last failed attempt
// ("Ssl handshake failed: ...", "Socket closed"), empty when unknown.
std::string DialErrorMessage(const MemberStubs& member, DialFailure failure,
                             absl::string_view reason);

}  // namespace etcdisc::internal

#endif  // ETCDISC_ETCD_DIAL_ERROR_H_
