#include "fleet/fleet_read.h"

#include <algorithm>
#include <map>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "discovery/records.h"
#include "util/log.h"
#include "util/status_macros.h"

namespace etcdisc::internal {

std::optional<FleetHost> FleetHostOf(const FleetId& id,
                                     const std::string* hostname,
                                     const HealthRecord* health) {
  if (hostname == nullptr && health == nullptr) return std::nullopt;
  FleetHost h;
  h.service = id.first;
  h.uuid = id.second;
  h.online = hostname != nullptr;
  h.hostname = hostname != nullptr ? *hostname : health->hostname;
  if (health == nullptr) return h;
  h.last_seen = health->last_seen;
  h.health = health->health;
  h.since = h.online ? health->registered_at
                     : health->went_at.value_or(health->last_seen);
  return h;
}

std::optional<FleetEvent::Kind> ChangeOf(const std::optional<FleetHost>& before,
                                         const std::optional<FleetHost>& after) {
  using Kind = FleetEvent::Kind;
  if (!after) {
    if (!before) return std::nullopt;
    return Kind::kForgotten;
  }
  if (!before || before->online != after->online) {
    return after->online ? Kind::kOnline : Kind::kOffline;
  }
  // Every health write moves last_seen; a stop's final write moves since.
  if (before->last_seen != after->last_seen || before->since != after->since ||
      before->hostname != after->hostname ||
      before->health.has_value() != after->health.has_value()) {
    return Kind::kHealth;
  }
  return std::nullopt;
}

void SortFleet(std::vector<FleetHost>* fleet) {
  std::sort(fleet->begin(), fleet->end(),
            [](const FleetHost& a, const FleetHost& b) {
              return std::make_tuple(a.service, !a.online, a.hostname, a.uuid) <
                     std::make_tuple(b.service, !b.online, b.hostname, b.uuid);
            });
}

std::vector<FleetHost> FleetOf(const KeyLayout& keys,
                               const std::vector<KeyValue>& hosts,
                               const std::vector<KeyValue>& health) {
  std::map<FleetId, std::string> names;
  for (const KeyValue& kv : hosts) {
    auto host = HostFromKeyValue(keys, kv);
    auto parts = keys.ParseHostKey(kv.key);
    if (!host.ok() || !parts.ok()) continue;  // Get and watches skip it too.
    names[{parts->service, parts->uuid}] = host->name;
  }
  std::map<FleetId, HealthRecord> records;
  for (const KeyValue& kv : health) {
    auto parts = keys.ParseHealthKey(kv.key);
    if (!parts.ok()) continue;
    auto record = DecodeHealthRecord(kv.value);
    if (!record.ok()) {
      ETCDISC_LOG(kWarning,
                  absl::StrCat("skipping the malformed health record ", kv.key,
                               ": ", record.status().message()));
      continue;
    }
    records[{parts->service, parts->uuid}] = *std::move(record);
  }
  std::vector<FleetHost> out;
  for (const auto& [id, name] : names) {
    auto it = records.find(id);
    out.push_back(*FleetHostOf(id, &name, it == records.end() ? nullptr
                                                              : &it->second));
  }
  for (const auto& [id, record] : records) {
    if (names.count(id) == 0) out.push_back(*FleetHostOf(id, nullptr, &record));
  }
  SortFleet(&out);
  return out;
}

absl::StatusOr<std::vector<FleetHost>> ReadFleet(ClientCore& core,
                                                 absl::string_view service) {
  const KeyLayout& keys = core.keys();
  if (!service.empty()) ETCDISC_RETURN_IF_ERROR(ValidateServiceName(service));
  TxnRequest txn;
  txn.success.push_back(TxnOp::Range(RangeRequest::Prefix(
      service.empty() ? keys.AllHostsPrefix() : keys.HostsPrefix(service))));
  txn.success.push_back(TxnOp::Range(RangeRequest::Prefix(
      service.empty() ? keys.AllHealthPrefix() : keys.HealthPrefix(service))));
  ETCDISC_ASSIGN_OR_RETURN(auto read, core.etcd().kv().Txn(txn));
  return FleetOf(keys, read.responses[0].range.kvs,
                 read.responses[1].range.kvs);
}

}  // namespace etcdisc::internal
