#include "discovery/go_endpoint.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "discovery/json.h"

namespace etcdisc::internal {
namespace {

// The host's address for Go clients: public name and port, else private.
std::optional<std::string> Address(const Host& host, const std::string& port) {
  if (auto found = host.ports.find(port); found != host.ports.end()) {
    return JoinHostPort(host.name, found->second);
  }
  if (auto found = host.private_ports.find(port);
      found != host.private_ports.end()) {
    const std::string& name =
        host.private_hostname.empty() ? host.name : host.private_hostname;
    return JoinHostPort(name, found->second);
  }
  return std::nullopt;
}

}  // namespace

std::string JoinHostPort(absl::string_view host, absl::string_view port) {
  if (host.find(':') != absl::string_view::npos && host.front() != '[') {
    return absl::StrCat("[", host, "]:", port);
  }
  return absl::StrCat(host, ":", port);
}

absl::Status CheckGoTargetIsFree(absl::string_view target,
                                 const std::vector<std::string>& taken) {
  const std::string keys = absl::StrCat(target, "/");
  for (const std::string& prefix : taken) {
    if (absl::StartsWith(keys, prefix) || absl::StartsWith(prefix, keys)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid go_grpc_target \"", target, "\": its keys would mix with "
          "etcdisc's own under ", prefix));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<GoEndpoint>> GoEndpointFor(
    const Host& host, const RegisterOptions& options) {
  const std::string& target = options.go_grpc_target;
  if (target.empty()) return std::nullopt;
  for (char c : target) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c)) ||
        absl::ascii_iscntrl(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid go_grpc_target \"", target,
          "\": it holds whitespace or a control character"));
    }
  }
  if (target.back() == '/') {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid go_grpc_target \"", target, "\": it must not end with '/'"));
  }
  std::optional<std::string> address = Address(host, options.go_grpc_port);
  if (!address) {
    return absl::InvalidArgumentError(absl::StrCat(
        "go_grpc_target \"", target, "\" needs a port \"",
        options.go_grpc_port, "\" in the host's ports or private ports"));
  }
  std::string value = "{\"Op\":0,\"Addr\":";
  AppendJsonString(&value, *address);
  value += ",\"Metadata\":null}";
  return GoEndpoint{absl::StrCat(target, "/", host.uuid), std::move(value)};
}

}  // namespace etcdisc::internal
