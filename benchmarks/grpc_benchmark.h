// Balancing and gRPC's part of the end-to-end benchmark: what a call costs
// through etcdisc's channels beside a plain channel to the same server (same
// run, alternating), and how long a new host takes from Register to its
// first call.
#ifndef ETCDISC_BENCHMARKS_GRPC_BENCHMARK_H_
#define ETCDISC_BENCHMARKS_GRPC_BENCHMARK_H_

#include <string>

namespace etcdisc::bench {

// Appends the section to `report`; `samples` new hosts are timed.
void GrpcBenchmarks(const std::string& endpoints, int samples,
                    std::string* report);

}  // namespace etcdisc::bench

#endif  // ETCDISC_BENCHMARKS_GRPC_BENCHMARK_H_
