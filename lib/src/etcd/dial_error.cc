#include "etcd/dial_error.h"

#include <chrono>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace etcdisc::internal {
namespace {

// gRPC says "failed to connect to all addresses; last error: UNKNOWN:
// ipv4:127.0.0.1:2379: Ssl handshake failed: ..."; the part after the
// address is the reason.
std::string ReasonOf(absl::string_view message) {
  const size_t last = message.find("last error: ");
  if (last == absl::string_view::npos) return "";
  absl::string_view rest = message.substr(last + 12);
  const size_t address = rest.find("ipv");
  if (address != absl::string_view::npos) {
    const size_t colon = rest.find(": ", address);
    if (colon != absl::string_view::npos) rest = rest.substr(colon + 2);
  }
  return std::string(rest);
}

// The reason of the channel's last failed attempt, by a call that fails at
// once while the channel is failing. Empty when the call got through (the
// channel came up meanwhile) or failed for another reason.
std::string LastFailureOf(const MemberStubs& member) {
  if (member.channel->GetState(false) != GRPC_CHANNEL_TRANSIENT_FAILURE) {
    return "";
  }
  grpc::ClientContext context;
  context.set_wait_for_ready(false);
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::milliseconds(200));
  etcdserverpb::StatusRequest request;
  etcdserverpb::StatusResponse response;
  const grpc::Status status =
      member.maintenance->Status(&context, request, &response);
  if (status.error_code() != grpc::StatusCode::UNAVAILABLE) return "";
  return ReasonOf(status.error_message());
}

// A TCP connection was made but TLS did not come up: gRPC names the handshake
// or the certificate, or (TLS 1.3, where the server checks the client's
// certificate after the client is done) says the connection closed.
bool IsHandshakeFailure(absl::string_view reason) {
  return absl::StrContains(reason, "andshake") ||
         absl::StrContains(reason, "certificate") ||
         absl::StrContains(reason, "Peer name") || reason == "Socket closed" ||
         reason == "Endpoint read failed";
}

}  // namespace

std::string DialErrorMessage(const MemberStubs& member, DialFailure failure,
                             absl::string_view reason) {
  const std::string why = reason.empty() ? "" : absl::StrCat(" (", reason, ")");
  if (member.tls && IsHandshakeFailure(reason)) {
    return absl::StrCat(
        "TLS handshake with etcd member ", member.endpoint, " failed", why,
        ": check that it serves https, the CA that signed its certificate, "
        "that the certificate names the host (or set the server name), and "
        "the client certificate if it requires one");
  }
  if (!member.tls && reason == "Socket closed") {
    return absl::StrCat("etcd member ", member.endpoint,
                        " closed the connection during setup", why,
                        ": if it serves TLS, use https://");
  }
  if (failure == DialFailure::kRefused) {
    return absl::StrCat("etcd member ", member.endpoint,
                        " refused or dropped the connection", why);
  }
  return absl::StrCat("etcd member ", member.endpoint,
                      " did not accept a connection in time", why);
}

absl::Status DialError(const MemberStubs& member, DialFailure failure) {
  return absl::UnavailableError(
      DialErrorMessage(member, failure, LastFailureOf(member)));
}

}  // namespace etcdisc::internal
