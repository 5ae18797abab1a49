// The health record of one host, as JSON at /service_health/<service>/<uuid>:
//
//   {"hostname":"10.0.0.7","registered_at":"2026-11-30T08:00:00.000Z",
//    "last_seen":"2026-11-30T08:10:00.000Z",
//    "went_at":"2026-11-30T08:10:03.000Z",            (once it stopped)
//    "health":{"load1":0.52,"load5":0.4,"load15":0.31,
//              "mem_total_bytes":8339451904,"mem_available_bytes":5111111680,
//              "uptime_seconds":86400,"rss_bytes":12582912,
//              "cpu_seconds":1.25,"process_start":"2026-11-30T07:59:59.000Z",
//              "version":"0.6.0","gauges":{"queue_depth":12}}}
#ifndef ETCDISC_FLEET_HEALTH_RECORD_H_
#define ETCDISC_FLEET_HEALTH_RECORD_H_

#include <chrono>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "etcdisc/fleet.h"

namespace etcdisc::internal {

struct HealthRecord {
  std::string hostname;
  std::chrono::system_clock::time_point registered_at;
  std::chrono::system_clock::time_point last_seen;
  std::optional<std::chrono::system_clock::time_point> went_at;
  HostHealth health;
};

std::string EncodeHealthRecord(const HealthRecord& record);
// The "health" object of the record (and of `etcdisc fleet --json`).
std::string EncodeHealthJson(const HostHealth& health);
// InvalidArgument saying what is wrong; unknown fields are ignored, missing
// ones left at zero.
absl::StatusOr<HealthRecord> DecodeHealthRecord(absl::string_view json);

// A gauge name is 1 to 64 of [A-Za-z0-9_], not starting with a digit, and
// its value finite. InvalidArgument names the bad one.
absl::Status ValidateGauge(absl::string_view name, double value);
// At most this many gauges per host.
inline constexpr size_t kMaxGauges = 64;

}  // namespace etcdisc::internal

#endif  // ETCDISC_FLEET_HEALTH_RECORD_H_
