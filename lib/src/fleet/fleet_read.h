// Client::Fleet(): the hosts and their health records, read in one Txn.
#ifndef ETCDISC_FLEET_FLEET_READ_H_
#define ETCDISC_FLEET_FLEET_READ_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "discovery/client_core.h"
#include "etcd/types.h"
#include "etcdisc/fleet.h"

namespace etcdisc::internal {

// `service` empty: every service.
absl::StatusOr<std::vector<FleetHost>> ReadFleet(ClientCore& core,
                                                 absl::string_view service);

// The fleet that host records `hosts` and health records `health` (as read
// at one revision) make, sorted as Client::Fleet says.
std::vector<FleetHost> FleetOf(const KeyLayout& keys,
                               const std::vector<KeyValue>& hosts,
                               const std::vector<KeyValue>& health);

}  // namespace etcdisc::internal

#endif  // ETCDISC_FLEET_FLEET_READ_H_
