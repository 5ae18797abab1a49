#include "fleet/fleet_read.h"

#include <algorithm>
#include <map>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "discovery/records.h"
#include "fleet/health_record.h"
#include "util/log.h"
#include "util/status_macros.h"

namespace etcdisc::internal {
namespace {

using Id = std::pair<std::string, std::string>;  // service, uuid

void AddHosts(const KeyLayout& keys, const std::vector<KeyValue>& hosts,
              std::map<Id, FleetHost>* fleet) {
  for (const KeyValue& kv : hosts) {
    auto host = HostFromKeyValue(keys, kv);
    auto parts = keys.ParseHostKey(kv.key);
    if (!host.ok() || !parts.ok()) continue;  // Get and watches skip it too.
    FleetHost& h = (*fleet)[{parts->service, parts->uuid}];
    h.service = parts->service;
    h.uuid = parts->uuid;
    h.hostname = host->name;
    h.online = true;
  }
}

void AddHealth(const KeyLayout& keys, const KeyValue& kv,
               std::map<Id, FleetHost>* fleet) {
  auto parts = keys.ParseHealthKey(kv.key);
  if (!parts.ok()) return;
  auto record = DecodeHealthRecord(kv.value);
  auto it = fleet->find({parts->service, parts->uuid});
  if (!record.ok()) {
    ETCDISC_LOG(kWarning, absl::StrCat("skipping the malformed health record ",
                                       kv.key, ": ", record.status().message()));
    return;
  }
  if (it == fleet->end()) {
    it = fleet->emplace(Id{parts->service, parts->uuid}, FleetHost{}).first;
    it->second.service = parts->service;
    it->second.uuid = parts->uuid;
    it->second.hostname = record->hostname;
  }
  FleetHost& h = it->second;
  h.last_seen = record->last_seen;
  h.health = std::move(record->health);
  if (h.online) {
    h.since = record->registered_at;
  } else {
    h.since = record->went_at.value_or(record->last_seen);
  }
}

}  // namespace

std::vector<FleetHost> FleetOf(const KeyLayout& keys,
                               const std::vector<KeyValue>& hosts,
                               const std::vector<KeyValue>& health) {
  std::map<Id, FleetHost> fleet;
  AddHosts(keys, hosts, &fleet);
  for (const KeyValue& kv : health) AddHealth(keys, kv, &fleet);
  std::vector<FleetHost> out;
  out.reserve(fleet.size());
  for (auto& [id, host] : fleet) out.push_back(std::move(host));
  std::sort(out.begin(), out.end(), [](const FleetHost& a, const FleetHost& b) {
    return std::make_tuple(a.service, !a.online, a.hostname, a.uuid) <
           std::make_tuple(b.service, !b.online, b.hostname, b.uuid);
  });
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
