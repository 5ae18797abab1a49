// Fleet health's part of the end-to-end benchmark: what publishing health
// costs etcd (writes/s per 1,000 hosts) and the publishing process (CPU),
// and what `etcdisc fleet serve` costs with 1,000 hosts (memory, /api/fleet
// latency).
#ifndef ETCDISC_BENCHMARKS_FLEET_BENCHMARK_H_
#define ETCDISC_BENCHMARKS_FLEET_BENCHMARK_H_

#include <string>

namespace etcdisc::bench {

// Appends the fleet section to `report`. `cli`: the etcdisc binary, for
// `fleet serve`; `window_s`: how long each publishing phase is measured.
void FleetBenchmarks(const std::string& endpoints, const std::string& cli,
                     int hosts, int window_s, std::string* report);

}  // namespace etcdisc::bench

#endif  // ETCDISC_BENCHMARKS_FLEET_BENCHMARK_H_
