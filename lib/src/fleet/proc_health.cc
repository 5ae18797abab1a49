#include "fleet/proc_health.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "util/mutex.h"
#include "util/proc_files.h"

namespace etcdisc::internal {
namespace {

// The last sample taken in this process (RecentHealth).
struct SampleCache {
  Mutex mu;
  std::optional<TimedHealth> last ABSL_GUARDED_BY(mu);
};

SampleCache& TheSampleCache() {
  static auto* cache = new SampleCache;  // Never destroyed: used at exit.
  return *cache;
}

std::vector<absl::string_view> Words(absl::string_view text) {
  return absl::StrSplit(text, absl::ByAnyChar(" \t\n"), absl::SkipEmpty());
}

// The value of a "Name:   123 kB" line of /proc/meminfo, in bytes.
bool MeminfoBytes(absl::string_view text, absl::string_view name,
                  int64_t* bytes) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::ConsumePrefix(&line, name) || !absl::ConsumePrefix(&line, ":")) {
      continue;
    }
    std::vector<absl::string_view> words = Words(line);
    int64_t kib = 0;
    if (words.empty() || !absl::SimpleAtoi(words[0], &kib) || kib < 0) {
      return false;
    }
    *bytes = kib * 1024;
    return true;
  }
  return false;
}

}  // namespace

bool ParseLoadavg(absl::string_view text, HostHealth* out) {
  std::vector<absl::string_view> words = Words(text);
  double load[3];
  if (words.size() < 3) return false;
  for (int i = 0; i < 3; ++i) {
    if (!absl::SimpleAtod(words[i], &load[i]) || !(load[i] >= 0) ||
        !std::isfinite(load[i])) {
      return false;
    }
  }
  out->load1 = load[0];
  out->load5 = load[1];
  out->load15 = load[2];
  return true;
}

bool ParseMeminfo(absl::string_view text, HostHealth* out) {
  int64_t total = 0;
  int64_t available = 0;
  if (!MeminfoBytes(text, "MemTotal", &total) ||
      !MeminfoBytes(text, "MemAvailable", &available)) {
    return false;
  }
  out->mem_total_bytes = total;
  out->mem_available_bytes = available;
  return true;
}

bool ParseUptime(absl::string_view text, HostHealth* out) {
  std::vector<absl::string_view> words = Words(text);
  double seconds = 0;
  if (words.empty() || !absl::SimpleAtod(words[0], &seconds) ||
      !(seconds >= 0) || seconds > 1e15) {
    return false;
  }
  out->uptime_seconds = static_cast<int64_t>(seconds);
  return true;
}

bool ParseSelfStat(absl::string_view text, long ticks_per_second,
                   long page_size, std::chrono::system_clock::time_point boot,
                   HostHealth* out) {
  if (ticks_per_second <= 0) return false;
  std::vector<absl::string_view> words = StatFields(text);
  constexpr size_t kUtime = 14 - 3, kStime = 15 - 3, kStart = 22 - 3,
                   kRss = 24 - 3;
  uint64_t utime = 0, stime = 0, start = 0;
  int64_t rss_pages = 0;
  if (words.size() <= kRss || !absl::SimpleAtoi(words[kUtime], &utime) ||
      !absl::SimpleAtoi(words[kStime], &stime) ||
      !absl::SimpleAtoi(words[kStart], &start) ||
      !absl::SimpleAtoi(words[kRss], &rss_pages) || rss_pages < 0) {
    return false;
  }
  const double ticks = static_cast<double>(ticks_per_second);
  out->cpu_seconds = static_cast<double>(utime + stime) / ticks;
  out->rss_bytes = rss_pages * page_size;
  out->process_start =
      boot + std::chrono::milliseconds(static_cast<int64_t>(
                 static_cast<double>(start) * 1000 / ticks));
  return true;
}

bool ParseBootTime(absl::string_view text,
                   std::chrono::system_clock::time_point* boot) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::ConsumePrefix(&line, "btime ")) continue;
    int64_t seconds = 0;
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(line), &seconds)) {
      return false;
    }
    *boot = std::chrono::system_clock::time_point(std::chrono::seconds(seconds));
    return true;
  }
  return false;
}

HostHealth SampleHealth() {
  HostHealth health;
  ParseLoadavg(ReadSmallFile("/proc/loadavg"), &health);
  ParseMeminfo(ReadSmallFile("/proc/meminfo"), &health);
  ParseUptime(ReadSmallFile("/proc/uptime"), &health);
  std::chrono::system_clock::time_point boot;
  if (ParseBootTime(ReadSmallFile("/proc/stat"), &boot)) {
    ParseSelfStat(ReadSmallFile("/proc/self/stat"), ::sysconf(_SC_CLK_TCK),
                  ::sysconf(_SC_PAGESIZE), boot, &health);
  }
  return health;
}

TimedHealth RecentHealth(std::chrono::steady_clock::duration max_age) {
  SampleCache& cache = TheSampleCache();
  MutexLock lock(&cache.mu);
  const auto now = std::chrono::steady_clock::now();
  if (!cache.last || now - cache.last->taken_at > max_age) {
    cache.last = TimedHealth{SampleHealth(), now};
  }
  return *cache.last;
}

std::optional<double> CpuRate(const HostHealth& from, const HostHealth& to,
                              std::chrono::steady_clock::duration elapsed) {
  const double seconds = std::chrono::duration<double>(elapsed).count();
  if (!(seconds > 0) || !(from.cpu_seconds > 0) || !(to.cpu_seconds > 0)) {
    return std::nullopt;
  }
  return std::max(0.0, to.cpu_seconds - from.cpu_seconds) / seconds;
}

namespace {

// Whether `now` is `last` moved by at least `least`, or by a quarter of
// `last` when that is more.
bool Moved(double last, double now, double least) {
  return std::abs(now - last) >= std::max(least, 0.25 * std::abs(last));
}

}  // namespace

bool WorthPublishing(const HostHealth& last,
                     std::optional<double> last_cpu_rate,
                     const HostHealth& now,
                     std::chrono::steady_clock::duration elapsed) {
  // A load average moves by about 0.1 every 10 s on a quiet machine (it is
  // a one-minute average of a whole number of runnable tasks), and a busy
  // process's CPU rate by a tenth: less than this is noise, not news.
  constexpr double kLoad = 0.5;
  constexpr double kCpuRate = 0.05;  // Of a core.
  constexpr int64_t kRss = 1 << 20;
  const int64_t available =
      std::abs(now.mem_available_bytes - last.mem_available_bytes);
  const std::optional<double> cpu_rate = CpuRate(last, now, elapsed);
  return Moved(last.load1, now.load1, kLoad) ||
         Moved(last.load5, now.load5, kLoad) ||
         Moved(last.load15, now.load15, kLoad) ||
         (available > 0 && available * 100 >= now.mem_total_bytes) ||
         now.mem_total_bytes != last.mem_total_bytes ||
         std::abs(now.rss_bytes - last.rss_bytes) >= kRss ||
         (last_cpu_rate && cpu_rate &&
          Moved(*last_cpu_rate, *cpu_rate, kCpuRate)) ||
         now.gauges != last.gauges || now.version != last.version;
}

}  // namespace etcdisc::internal
