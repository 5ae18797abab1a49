// Scale against a 3-member cluster (target 6 of the second round): 1,000
// services of 10 hosts registered by 10 processes while one process
// subscribes to all of them. The registration rate, the lag from each
// Register to its New in the subscriber, and the CPU of etcd's members and of
// the clients, to say what limits it.
#ifndef ETCDISC_BENCHMARKS_CLUSTER_SCALE_BENCHMARK_H_
#define ETCDISC_BENCHMARKS_CLUSTER_SCALE_BENCHMARK_H_

#include <string>

namespace etcdisc::bench {

// Appends the section to `report`, starting and stopping its own cluster.
void ClusterScaleBenchmarks(std::string* report);

// The registrar helper: registers `per_service` hosts of each of `services`
// services named svc-<first>..., printing "<ns> R <uuid>" as each Register
// returns (the time taken before the call), then "DONE" once all are in
// etcd; it holds them until killed.
int RoleRegisterMany(const std::string& endpoints, int first, int services,
                     int per_service);

}  // namespace etcdisc::bench

#endif  // ETCDISC_BENCHMARKS_CLUSTER_SCALE_BENCHMARK_H_
