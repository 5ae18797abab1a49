#include "discovery/options.h"

#include <chrono>
#include <cstddef>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "discovery/host_rules.h"
#include "discovery/keys.h"
#include "util/status_macros.h"

namespace etcdisc::internal {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kOneHour = std::chrono::hours(1);

absl::Status OutOfRange(absl::string_view field, absl::string_view value,
                        absl::string_view range) {
  return absl::InvalidArgumentError(absl::StrCat(
      "invalid ClientOptions::", field, " = ", value, ": it must be ", range));
}

// `value` within [low, high], or exactly 0 when `zero_allowed`.
absl::Status CheckDuration(absl::string_view field, milliseconds value,
                           milliseconds low, milliseconds high,
                           absl::string_view range, bool zero_allowed = false) {
  if (zero_allowed && value.count() == 0) return absl::OkStatus();
  if (value >= low && value <= high) return absl::OkStatus();
  return OutOfRange(field, absl::StrCat(value.count(), "ms"), range);
}

absl::Status CheckTimings(const ClientOptions& o) {
  const milliseconds one_ms(1);
  const struct {
    absl::string_view field;
    milliseconds value, low, high;
    absl::string_view range;
    bool zero_allowed;
  } checks[] = {
      {"call_timeout", o.call_timeout, one_ms, kOneHour, "1ms to 1h", false},
      {"dial_timeout", o.dial_timeout, one_ms, kOneHour, "1ms to 1h", false},
      {"ping_time", o.ping_time, std::chrono::seconds(5), kOneHour,
       "5s to 1h (etcd refuses pings more often than every 5 s)", false},
      {"ping_timeout", o.ping_timeout, one_ms, kOneHour, "1ms to 1h", false},
      {"shutdown_timeout", o.shutdown_timeout, one_ms, kOneHour,
       "0 (= call_timeout) or 1ms to 1h", true},
      {"endpoint_sync_interval", o.endpoint_sync_interval,
       std::chrono::seconds(1), std::chrono::hours(24),
       "0 (never) or 1s to 24h", true},
      {"reconcile_interval", o.reconcile_interval, milliseconds(100),
       std::chrono::hours(24), "0 (never) or 100ms to 24h", true},
      {"watch_probe_interval", o.watch_probe_interval, milliseconds(100),
       kOneHour, "100ms to 1h", false},
      {"watch_probe_timeout", o.watch_probe_timeout, milliseconds(100),
       kOneHour, "100ms to 1h", false},
  };
  for (const auto& c : checks) {
    absl::Status status = CheckDuration(c.field, c.value, c.low, c.high,
                                        c.range, c.zero_allowed);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateClientOptions(const ClientOptions& options) {
  ETCDISC_RETURN_IF_ERROR(ValidateKeyPrefix(options.key_prefix));
  ETCDISC_RETURN_IF_ERROR(ValidateHostname(options.hostname, "ClientOptions::hostname"));
  ETCDISC_RETURN_IF_ERROR(CheckTimings(options));
  if (options.worker_threads < 1 || options.worker_threads > 1024) {
    return OutOfRange("worker_threads", absl::StrCat(options.worker_threads),
                      "1 to 1024");
  }
  const size_t capacity = options.subscription_capacity;
  if (capacity > (size_t{1} << 30)) {
    return OutOfRange("subscription_capacity", absl::StrCat(capacity),
                      "0 (no limit) to 2^30");
  }
  return absl::OkStatus();
}

EtcdClientOptions EtcdOptionsFrom(const ClientOptions& options) {
  EtcdClientOptions etcd;
  etcd.endpoints = options.endpoints;
  etcd.call_timeout = options.call_timeout;
  etcd.dial_timeout = options.dial_timeout;
  etcd.ping_time = options.ping_time;
  etcd.ping_timeout = options.ping_timeout;
  etcd.watch_timing.probe_interval = options.watch_probe_interval;
  etcd.watch_timing.probe_timeout = options.watch_probe_timeout;
  return etcd;
}

}  // namespace etcdisc::internal
