// Reading services' hosts and records from etcd: one service for Get,
// several at one etcd revision for GetMany.
#ifndef ETCDISC_DISCOVERY_SERVICE_READS_H_
#define ETCDISC_DISCOVERY_SERVICE_READS_H_

#include <chrono>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "discovery/client_core.h"
#include "etcdisc/client.h"

namespace etcdisc::internal {

// The hosts and record of each of `services` (valid names), in their order,
// all as etcd held them at one revision. A malformed record is skipped with
// a warning. Up to 64 services take one round trip, each further 64 one
// more, read at the first one's revision. `timeout` bounds them all.
absl::StatusOr<std::vector<ServiceHosts>> ReadServices(
    ClientCore& core, const std::vector<std::string>& services,
    bool serializable, std::chrono::milliseconds timeout);

}  // namespace etcdisc::internal

#endif  // ETCDISC_DISCOVERY_SERVICE_READS_H_
