// Small helpers for the end-to-end benchmark: latency summaries, process
// memory, and monotonic timestamps comparable across processes.
#ifndef ETCDISC_BENCHMARKS_BENCH_UTIL_H_
#define ETCDISC_BENCHMARKS_BENCH_UTIL_H_

#include <time.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace etcdisc::bench {

// CLOCK_MONOTONIC in nanoseconds: one clock for every process on the host.
inline int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

struct Summary {
  size_t n = 0;
  double p50 = 0, p90 = 0, p99 = 0, max = 0, min = 0;
};

// Percentiles of `ms` (nearest rank).
inline Summary Summarize(std::vector<double> ms) {
  Summary s;
  if (ms.empty()) return s;
  std::sort(ms.begin(), ms.end());
  const auto at = [&](double q) {
    size_t rank = static_cast<size_t>(q * ms.size() + 0.999999);
    rank = std::max<size_t>(rank, 1);
    return ms[std::min(ms.size(), rank) - 1];
  };
  s.n = ms.size();
  s.p50 = at(0.5);
  s.p90 = at(0.9);
  s.p99 = at(0.99);
  s.max = ms.back();
  s.min = ms.front();
  return s;
}

// Writes "value fraction" lines for a CDF plot.
inline void WriteCdf(const std::string& path, std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  std::ofstream out(path);
  for (size_t i = 0; i < ms.size(); ++i) {
    out << ms[i] << " " << double(i + 1) / ms.size() << "\n";
  }
}

// A number from /proc/PID/status ("VmRSS:", "Threads:"); -1 if absent.
inline long ProcStatus(int pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  while (in >> key) {
    if (key == field) {
      long value = 0;
      in >> value;
      return value;
    }
    std::getline(in, key);
  }
  return -1;
}

// Resident set size of a process in KiB.
inline long RssKiB(int pid) { return ProcStatus(pid, "VmRSS:"); }
// How many threads a process runs.
inline long ThreadCount(int pid) { return ProcStatus(pid, "Threads:"); }

}  // namespace etcdisc::bench

#endif  // ETCDISC_BENCHMARKS_BENCH_UTIL_H_
