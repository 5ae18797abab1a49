// The fleet as JSON and as Prometheus text, for `etcdisc fleet` and its
// server alike.
#include <chrono>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "discovery/json.h"
#include "etcdisc/fleet.h"
#include "fleet/health_record.h"
#include "util/prometheus_writer.h"
#include "util/time_text.h"

namespace etcdisc {
namespace {

using TimePoint = std::chrono::system_clock::time_point;

std::string Quoted(absl::string_view text) {
  std::string out;
  internal::AppendJsonString(&out, text);
  return out;
}

// null for a time never set.
std::string UtcJson(TimePoint t) {
  return t == TimePoint{} ? "null" : Quoted(internal::FormatUtcTime(t));
}

double UnixSeconds(TimePoint t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

using internal::Labels;

Labels HostLabels(const FleetHost& h) {
  return {{"service", h.service}, {"uuid", h.uuid}, {"hostname", h.hostname}};
}

// A metric family of the host's health: one sample per host that has it.
struct HealthMetric {
  const char* name;
  const char* type;
  const char* help;
  double (*value)(const HostHealth& h);
};

constexpr HealthMetric kHealthMetrics[] = {
    {"fleet_machine_load1", "gauge",
     "The host's machine's load average over 1 minute.",
     [](const HostHealth& h) { return h.load1; }},
    {"fleet_machine_load5", "gauge",
     "The host's machine's load average over 5 minutes.",
     [](const HostHealth& h) { return h.load5; }},
    {"fleet_machine_load15", "gauge",
     "The host's machine's load average over 15 minutes.",
     [](const HostHealth& h) { return h.load15; }},
    {"fleet_machine_memory_total_bytes", "gauge", "The host's machine's memory.",
     [](const HostHealth& h) { return static_cast<double>(h.mem_total_bytes); }},
    {"fleet_machine_memory_available_bytes", "gauge",
     "The host's machine's memory available.",
     [](const HostHealth& h) {
       return static_cast<double>(h.mem_available_bytes);
     }},
    {"fleet_machine_uptime_seconds", "gauge",
     "How long the host's machine has been up.",
     [](const HostHealth& h) { return static_cast<double>(h.uptime_seconds); }},
    {"fleet_process_resident_memory_bytes", "gauge",
     "The registering process's resident memory.",
     [](const HostHealth& h) { return static_cast<double>(h.rss_bytes); }},
    {"fleet_process_cpu_seconds_total", "counter",
     "The registering process's user and system CPU time.",
     [](const HostHealth& h) { return h.cpu_seconds; }},
    {"fleet_process_start_time_seconds", "gauge",
     "When the registering process started (Unix time).",
     [](const HostHealth& h) { return UnixSeconds(h.process_start); }},
};

}  // namespace

const char* FleetEventKindName(FleetEvent::Kind kind) {
  switch (kind) {
    case FleetEvent::Kind::kOnline: return "online";
    case FleetEvent::Kind::kOffline: return "offline";
    case FleetEvent::Kind::kHealth: return "health";
    case FleetEvent::Kind::kForgotten: return "forgotten";
  }
  return "unknown";
}

std::string FleetHostJson(const FleetHost& f) {
  return absl::StrCat(
      "{\"service\":", Quoted(f.service), ",\"uuid\":", Quoted(f.uuid),
      ",\"hostname\":", Quoted(f.hostname),
      ",\"online\":", f.online ? "true" : "false",
      ",\"since\":", UtcJson(f.since), ",\"last_seen\":", UtcJson(f.last_seen),
      ",\"health\":",
      f.health ? internal::EncodeHealthJson(*f.health) : "null", "}");
}

std::string FleetJson(const std::vector<FleetHost>& fleet) {
  std::vector<std::string> items;
  items.reserve(fleet.size());
  for (const FleetHost& f : fleet) items.push_back(FleetHostJson(f));
  return absl::StrCat("[", absl::StrJoin(items, ","), "]");
}

std::string FleetEventJson(const FleetEvent& event) {
  return absl::StrCat("{\"kind\":\"", FleetEventKindName(event.kind),
                      "\",\"sequence\":", event.sequence,
                      ",\"host\":", FleetHostJson(event.host), "}");
}

std::string FleetPrometheusText(const std::vector<FleetHost>& fleet) {
  internal::PrometheusWriter w;
  w.Family("fleet_host_up", "gauge",
           "1 while the host's record is in etcd, 0 while it is retained "
           "offline.");
  for (const FleetHost& h : fleet) {
    w.Sample("fleet_host_up", HostLabels(h), h.online ? 1 : 0);
  }
  w.Family("fleet_host_last_seen_seconds", "gauge",
           "When the host last wrote its health (Unix time).");
  for (const FleetHost& h : fleet) {
    if (h.health) {
      w.Sample("fleet_host_last_seen_seconds", HostLabels(h),
               UnixSeconds(h.last_seen));
    }
  }
  for (const HealthMetric& m : kHealthMetrics) {
    w.Family(m.name, m.type, m.help);
    for (const FleetHost& h : fleet) {
      if (h.health) w.Sample(m.name, HostLabels(h), m.value(*h.health));
    }
  }
  w.Family("fleet_gauge", "gauge",
           "What the application set with Registration::SetGauge.");
  for (const FleetHost& h : fleet) {
    if (!h.health) continue;
    for (const auto& [name, value] : h.health->gauges) {
      Labels labels = HostLabels(h);
      labels.emplace_back("gauge", name);
      w.Sample("fleet_gauge", labels, value);
    }
  }
  return w.Take();
}

}  // namespace etcdisc
