// What Register checks in a host, and the defaults it fills in, in the order
// of the Go package etcd-discovery.
#ifndef ETCDISC_DISCOVERY_HOST_RULES_H_
#define ETCDISC_DISCOVERY_HOST_RULES_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "etcdisc/host.h"

namespace etcdisc::internal {

// InvalidArgument, naming the bad value: an empty hostname, a hostname or
// private hostname with '/', whitespace or a control character (the private
// hostname ends the uuid, which is a key segment), or a port that is not a
// number from 1 to 65535 under a non-empty scheme (in ports or private_ports).
absl::Status ValidateHost(const HostSpec& host);
// A port as Register takes it: decimal digits only, from 1 to 65535.
std::optional<int> PortNumber(absl::string_view text);
// The hostname rule alone, for `what` ("hostname", "private hostname", ...).
absl::Status ValidateHostname(absl::string_view name, absl::string_view what);

// Fills in, in this order: the private hostname (the hostname for a host that
// is not public, else `machine_hostname`), the service name, the private
// ports (the ports, when there is a private hostname and no private ports),
// and the uuid (`uuid4` + "-" + private hostname).
void ApplyRegisterDefaults(absl::string_view service,
                           absl::string_view machine_hostname,
                           absl::string_view uuid4, Host* host);

// etcd refuses requests above 1.5 MiB (its default --max-request-bytes). A
// host whose two records would not fit in one such Txn is refused up front
// with InvalidArgument, instead of failing in the background for ever.
absl::Status ValidateRecordSize(absl::string_view service, const Host& host);

// A random (version 4) uuid in its 36-character text form.
std::string NewUuid4();

// $HOSTNAME, else the operating system's hostname.
std::string MachineHostname();

}  // namespace etcdisc::internal

#endif  // ETCDISC_DISCOVERY_HOST_RULES_H_
