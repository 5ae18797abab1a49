// A host's health read from Linux's /proc: the machine's load, memory and
// uptime, and this process's memory, CPU time and start time.
#ifndef ETCDISC_FLEET_PROC_HEALTH_H_
#define ETCDISC_FLEET_PROC_HEALTH_H_

#include <chrono>
#include <optional>

#include "absl/strings/string_view.h"
#include "etcdisc/fleet.h"

namespace etcdisc::internal {

// Reads /proc now. What cannot be read (another OS, a hidden file) stays 0;
// the gauges and version are left to the caller.
HostHealth SampleHealth();

// A sample and when it was taken.
struct TimedHealth {
  HostHealth health;
  std::chrono::steady_clock::time_point taken_at;
};

// A sample no older than `max_age`: the last one taken in this process when
// it is recent enough, else one taken now. The publishers of a process
// share it, so that many registrations in one process read /proc once
// (about 0.1 ms of CPU) rather than each. Safe for concurrent use: callers
// during a read wait for it.
TimedHealth RecentHealth(std::chrono::steady_clock::duration max_age);

// The parsers behind it, each of one file's text; false when the text is
// not of the expected form (`out` is then unchanged).
bool ParseLoadavg(absl::string_view text, HostHealth* out);    // loadavg
bool ParseMeminfo(absl::string_view text, HostHealth* out);    // meminfo
bool ParseUptime(absl::string_view text, HostHealth* out);     // uptime
// /proc/self/stat, with the clock ticks per second, the page size and the
// machine's boot time (btime in /proc/stat).
bool ParseSelfStat(absl::string_view text, long ticks_per_second,
                   long page_size, std::chrono::system_clock::time_point boot,
                   HostHealth* out);
// /proc/stat: its btime line.
bool ParseBootTime(absl::string_view text,
                   std::chrono::system_clock::time_point* boot);

// The process's CPU use from `from` to `to`, `elapsed` apart, in cores
// (CPU seconds per second); none when no time passed, or when either has no
// CPU time (/proc/self/stat could not be read).
std::optional<double> CpuRate(const HostHealth& from, const HostHealth& to,
                              std::chrono::steady_clock::duration elapsed);

// Whether `now` differs from `last` enough to be written: a load average by
// 0.5 or a quarter (whichever is more), available memory by 1% of the total,
// RSS by 1 MiB, any gauge or the version, or the CPU rate since `last`
// (`elapsed` ago) from `last_cpu_rate` (the rate when `last` was written;
// none: not compared) by 0.05 core or a quarter (whichever is more). A rate,
// not the CPU time: a steadily busy process is not written every tick.
bool WorthPublishing(const HostHealth& last,
                     std::optional<double> last_cpu_rate,
                     const HostHealth& now,
                     std::chrono::steady_clock::duration elapsed);

}  // namespace etcdisc::internal

#endif  // ETCDISC_FLEET_PROC_HEALTH_H_
