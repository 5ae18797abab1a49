// A host in the format of etcd's Go gRPC resolver (go.etcd.io/etcd's
// client/v3/naming), so that Go services dialing "etcd:///<target>" reach
// hosts registered with etcdisc: the key <target>/<uuid>, under the host's
// lease, holding {"Op":0,"Addr":"<host>:<port>","Metadata":null}. Op 0 is
// the older resolver's Add; the newer one reads Addr and Metadata only.
#ifndef ETCDISC_DISCOVERY_GO_ENDPOINT_H_
#define ETCDISC_DISCOVERY_GO_ENDPOINT_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "etcdisc/client.h"
#include "etcdisc/host.h"

namespace etcdisc::internal {

struct GoEndpoint {
  std::string key;
  std::string value;
};

// The record `options` ask for (go_grpc_target), or nullopt when they ask
// for none. InvalidArgument naming the bad value for a target that ends
// with '/' or holds whitespace or a control character, or a host with no
// port go_grpc_port (public or private).
absl::StatusOr<std::optional<GoEndpoint>> GoEndpointFor(
    const Host& host, const RegisterOptions& options);

// InvalidArgument naming the target when its keys would fall under one of
// `taken` (etcdisc's own key prefixes: its records there would be read as
// etcdisc's, or collide with the host's own key).
absl::Status CheckGoTargetIsFree(absl::string_view target,
                                 const std::vector<std::string>& taken);

// "host:port", with an IPv6 address in brackets.
std::string JoinHostPort(absl::string_view host, absl::string_view port);

}  // namespace etcdisc::internal

#endif  // ETCDISC_DISCOVERY_GO_ENDPOINT_H_
