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
// While the host is registered its record is under a lease that its
// client's registrations share (TTL = the retention), refreshed every minute
// while the client lives; when the host stops, its last record moves to a
// lease nobody refreshes. So it outlives the host by the retention (up to a
// minute more) and then etcd deletes it; nothing grows without bound and no
// reader has to prune. Whether a host is online
// is whether its host record (under the host's lease) is in etcd, never
// what the health record says: a host that dies is offline within its TTL.
#ifndef ETCDISC_FLEET_H_
#define ETCDISC_FLEET_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace etcdisc {

class Client;  // etcdisc/client.h

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


// A change of the fleet, as a FleetView sees it.
struct FleetEvent {
  enum class Kind {
    kOnline,     // A host registered (or registered again).
    kOffline,    // Its host record went; its last health is kept.
    kHealth,     // It wrote new health (or its record changed otherwise).
    kForgotten,  // Its retention ended: nothing of it is left in etcd.
  };
  Kind kind = Kind::kOnline;
  // 1, 2, 3, ... in the order the view saw the changes.
  uint64_t sequence = 0;
  // The host after the change; for kForgotten, as it was last.
  FleetHost host;
};

// "online", "offline", "health", "forgotten".
const char* FleetEventKindName(FleetEvent::Kind kind);

// The fleet as a FleetView holds it, up to and with event `sequence`.
struct FleetSnapshot {
  std::shared_ptr<const std::vector<FleetHost>> hosts;  // Client::Fleet's order.
  uint64_t sequence = 0;
};

// The events after a sequence number.
struct FleetChanges {
  std::vector<FleetEvent> events;
  // Some events after the one asked for are no longer kept (the view keeps
  // the last 10,000): read snapshot() again and go on from its sequence.
  bool missed = false;
};

// The fleet (of one service, or all of them) in memory, kept current by two
// watches on the client's one watch stream: one of the host records, one of
// the health records. So a host going down shows within its TTL, and health
// as it is written. Reading it never waits on etcd; any number of threads
// may wait for changes at once (each with its own cursor, so a web page per
// thread can follow it). Safe for concurrent use.
//
// The two watches are at their own revisions: a host's health may show a
// moment before or after its host record does.
//
//   auto view = *etcdisc::FleetView::Open(*client);
//   etcdisc::FleetSnapshot now = view->snapshot();
//   uint64_t seen = now.sequence;
//   for (;;) {
//     etcdisc::FleetChanges changes = view->WaitChanges(seen, 10s);
//     if (changes.missed) { now = view->snapshot(); seen = now.sequence; }
//     for (const auto& event : changes.events) { ...; seen = event.sequence; }
//   }
class FleetView {
 public:
  // Reads the fleet and follows it. InvalidArgument for an invalid service
  // name; Unavailable / DeadlineExceeded if etcd cannot be read; the
  // refusal if etcd does not let the client's user read /services/ or
  // /service_health/.
  static absl::StatusOr<std::unique_ptr<FleetView>> Open(
      Client& client, absl::string_view service = "");
  // Stops following; wakes every WaitChanges.
  ~FleetView();
  FleetView(const FleetView&) = delete;
  FleetView& operator=(const FleetView&) = delete;

  FleetSnapshot snapshot() const;
  // The events after `after`, waiting up to `timeout` for one. Empty when
  // none came in time or the view stopped (see status()).
  FleetChanges WaitChanges(uint64_t after,
                           std::chrono::milliseconds timeout) const;
  // OK while following; otherwise why it stopped (the client shut down, or
  // etcd refused the client's user).
  absl::Status status() const;

 private:
  struct State;
  explicit FleetView(std::shared_ptr<State> state);
  const std::shared_ptr<State> state_;
};

// The fleet as `etcdisc fleet --json` and `fleet serve`'s /api/fleet write it:
// a JSON array of {"service","uuid","hostname","online","since","last_seen",
// "health"} objects, times in RFC 3339 UTC (null when unknown), health null
// for a host that publishes none.
std::string FleetJson(const std::vector<FleetHost>& fleet);
std::string FleetHostJson(const FleetHost& host);
// {"kind":"offline","sequence":12,"host":{...as FleetHostJson}}
std::string FleetEventJson(const FleetEvent& event);

// The fleet in Prometheus' text exposition format (0.0.4), every sample
// labelled with service, uuid and hostname:
//   etcdisc_fleet_host_up                    1 online, 0 offline
//   etcdisc_fleet_host_last_seen_seconds     last health write (Unix time)
//   etcdisc_fleet_machine_load1/5/15         the machine's load averages
//   etcdisc_fleet_machine_memory_total_bytes / _available_bytes
//   etcdisc_fleet_machine_uptime_seconds
//   etcdisc_fleet_process_resident_memory_bytes
//   etcdisc_fleet_process_cpu_seconds_total
//   etcdisc_fleet_process_start_time_seconds (Unix time)
//   etcdisc_fleet_gauge                      with a "gauge" label: SetGauge's
// Hosts with no health have only etcdisc_fleet_host_up.
std::string FleetPrometheusText(const std::vector<FleetHost>& fleet);

}  // namespace etcdisc

#endif  // ETCDISC_FLEET_H_
