// The flags that describe a host to register (`register`, `run`), and the
// names of registration events.
#ifndef ETCDISC_TOOLS_HOST_FLAGS_H_
#define ETCDISC_TOOLS_HOST_FLAGS_H_

#include "absl/status/statusor.h"
#include "etcdisc/client.h"

namespace etcdisc::cli {

// The host that --hostname, --ports, --private-hostname, --private-ports,
// --public, --critical, --shard, --user and --password-file describe.
// InvalidArgument naming a bad value (checked as Register checks it).
absl::StatusOr<Host> HostFromFlags();
// --ttl, --health-interval and --health-retention as RegisterOptions.
absl::StatusOr<RegisterOptions> RegisterOptionsFromFlags();

// "registered", "lost", ...
const char* EventName(RegistrationEvent::Kind kind);

}  // namespace etcdisc::cli

#endif  // ETCDISC_TOOLS_HOST_FLAGS_H_
