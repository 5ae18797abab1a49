// Client::Fleet(): the hosts and their health records, read in one Txn, and
// how a host record and a health record make one FleetHost (which the live
// FleetView shares).
#ifndef ETCDISC_FLEET_FLEET_READ_H_
#define ETCDISC_FLEET_FLEET_READ_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "discovery/client_core.h"
#include "etcd/types.h"
#include "etcdisc/fleet.h"
#include "fleet/health_record.h"

namespace etcdisc::internal {

// A host of the fleet: its service and uuid.
using FleetId = std::pair<std::string, std::string>;

// The fleet entry of `id` from what etcd holds of it: `hostname` of its host
// record if that is in etcd (it is online), and its health record. Nothing
// when neither is there.
std::optional<FleetHost> FleetHostOf(const FleetId& id,
                                     const std::string* hostname,
                                     const HealthRecord* health);

// The event that a host's entry changing from `before` to `after` makes
// (nothing: absent before and after, or unchanged).
std::optional<FleetEvent::Kind> ChangeOf(const std::optional<FleetHost>& before,
                                         const std::optional<FleetHost>& after);

// Client::Fleet's order: by service, online first, then hostname and uuid.
void SortFleet(std::vector<FleetHost>* fleet);

// `service` empty: every service.
absl::StatusOr<std::vector<FleetHost>> ReadFleet(ClientCore& core,
                                                 absl::string_view service);

// The fleet that host records `hosts` and health records `health` (as read
// at one revision) make, sorted. Malformed records are skipped with a
// warning.
std::vector<FleetHost> FleetOf(const KeyLayout& keys,
                               const std::vector<KeyValue>& hosts,
                               const std::vector<KeyValue>& health);

}  // namespace etcdisc::internal

#endif  // ETCDISC_FLEET_FLEET_READ_H_
