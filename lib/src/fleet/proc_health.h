// A host's health read from Linux's /proc: the machine's load, memory and
// uptime, and this process's memory, CPU time and start time.
#ifndef ETCDISC_FLEET_PROC_HEALTH_H_
#define ETCDISC_FLEET_PROC_HEALTH_H_

#include <chrono>

#include "absl/strings/string_view.h"
#include "etcdisc/fleet.h"

namespace etcdisc::internal {

// Reads /proc now. What cannot be read (another OS, a hidden file) stays 0;
// the gauges and version are left to the caller.
HostHealth SampleHealth();

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

// Whether `now` differs from `last` enough to be written: load by 0.05,
// available memory by 1% of the total, RSS by 1 MiB, CPU time by 1% of
// `elapsed`, or any gauge or the version.
bool WorthPublishing(const HostHealth& last, const HostHealth& now,
                     std::chrono::steady_clock::duration elapsed);

}  // namespace etcdisc::internal

#endif  // ETCDISC_FLEET_PROC_HEALTH_H_
