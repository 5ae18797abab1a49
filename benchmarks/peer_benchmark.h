// etcdisc beside etcd's own Go client (clientv3) doing the same work, on the
// same etcd, in the same run: the peer is benchmarks/peers/clientv3, a Go
// program in the same roles as this benchmark's helpers.
#ifndef ETCDISC_BENCHMARKS_PEER_BENCHMARK_H_
#define ETCDISC_BENCHMARKS_PEER_BENCHMARK_H_

#include <string>

#include "benchmarks/bench_util.h"

namespace etcdisc::bench {

// What this run measured of etcdisc before the peer section, to be set
// beside the peer's figures.
struct EtcdiscFigures {
  Summary floor;       // raw put -> raw watch
  Summary reg_new;     // Register -> SubscribeNew in another process
  Summary stop_down;   // Stop -> SubscribeDown in another process
  Summary kill_down;   // kill -9 of a registrar at TTL 2 s -> SubscribeDown
  Summary quiet_reg_new, quiet_stop_down;  // the same, health publishing off
  // Stop -> Down, health off, each Stop after the next spare lease's grant.
  Summary after_grant_stop_down;
  double reg_per_s_1 = 0, reg_per_s_16 = 0;   // registrars: 1, 16
  double shared_reg_per_s_16 = 0;  // 16 registrars, RegisterOptions::share_lease
  // Register -> New and Stop -> Down with share_lease, beside a registration
  // of the service that keeps the shared lease.
  Summary shared_reg_new, shared_stop_down;
  double put_per_s_1 = 0, put_per_s_16 = 0;   // raw puts under a lease
};

// The peer's figures and etcdisc's own of the same kind, for the targets.
struct PeerFigures {
  bool measured = false;  // false: no peer binary; the rest is unset
  Summary go_reg_new, go_stop_down, go_kill_down;
  // Crossed: Go writes and etcdisc's subscriber reads, and the reverse.
  Summary go_to_etcdisc_new, go_to_etcdisc_down, etcdisc_to_go_new, etcdisc_to_go_down;
  // Stop -> Down of registrations stopped a while after their New.
  Summary etcdisc_settled_down, go_settled_down;
  std::string go_kill_split;  // DescribeSplit of the Go registrars' kills
  double go_reg_per_s_16 = 0;
  double etcdisc_cpu_ms_per_1k = 0, go_cpu_ms_per_1k = 0;
};

// Appends the section "etcdisc vs clientv3 (same run)" to `report` and the
// peer's CDF data to `out_dir`: `samples` register/stop pairs, `kills`
// registrars killed -9, and the rest at fixed sizes. With `peer` empty (Go was not installed when
// the benchmarks were built) the section says so and nothing is measured.
PeerFigures PeerBenchmarks(const std::string& endpoints, const std::string& peer,
                           int samples, int kills, const EtcdiscFigures& etcdisc,
                           const std::string& out_dir, std::string* report);

}  // namespace etcdisc::bench

#endif  // ETCDISC_BENCHMARKS_PEER_BENCHMARK_H_
