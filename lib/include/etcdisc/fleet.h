// Fleet health: what every registered host is doing, online and offline.
//
// Every registration publishes its host's health (on by default; see
// RegisterOptions::health_interval): the machine's load and memory, the
// process's memory and CPU time, and gauges the application sets
// (Registration::SetGauge). Client::Fleet() reads it back for one service or
// all of them, with the hosts that went away in the last retention period
// (RegisterOptions::health_retention, 24 h by default) marked offline.
//
// Where it lives in etcd, under the client's key prefix:
//   /service_health/<service>/<uuid>  one JSON record per host, next to the
//                                     Go-format host record /services/...
// The record is under a lease of its own (one per registration, TTL = the
// retention), refreshed every minute while the registration lives: so it
// outlives the host by the retention and then etcd deletes it; nothing
// grows without bound and no reader has to prune. Whether a host is online
// is whether its host record (under the host's lease) is in etcd, never
// what the health record says: a host that dies is offline within its TTL.
#ifndef ETCDISC_FLEET_H_
#define ETCDISC_FLEET_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace etcdisc {

// One sample of a host's health, as its process published it.
struct HostHealth {
  // The machine's load averages over 1, 5 and 15 minutes (/proc/loadavg).
  double load1 = 0;
  double load5 = 0;
  double load15 = 0;
  // The machine's memory (/proc/meminfo MemTotal and MemAvailable).
  int64_t mem_total_bytes = 0;
  int64_t mem_available_bytes = 0;
  // How long the machine has been up (/proc/uptime).
  int64_t uptime_seconds = 0;
  // The registering process: resident memory, user + system CPU time, and
  // when it started.
  int64_t rss_bytes = 0;
  double cpu_seconds = 0;
  std::chrono::system_clock::time_point process_start;
  // The etcdisc version of that process.
  std::string version;
  // What the application set with Registration::SetGauge.
  std::map<std::string, double> gauges;
};

// One host of the fleet.
struct FleetHost {
  std::string service;
  std::string uuid;
  // The host's name from its record (where it serves).
  std::string hostname;
  // Whether its host record is in etcd now.
  bool online = false;
  // Online: when it was registered. Offline: when it went - when it
  // stopped, or for a host that died without stopping, its last_seen
  // (at most one health write before it died).
  std::chrono::system_clock::time_point since;
  // When its health was last written; {} if it publishes none.
  std::chrono::system_clock::time_point last_seen;
  // Its last health; none for a host that publishes none (publishing off,
  // or registered by the Go package).
  std::optional<HostHealth> health;
};

}  // namespace etcdisc

#endif  // ETCDISC_FLEET_H_
