// Scale-out through etcd's gRPC proxy (target 7 of the second round): 1,000
// watcher processes of one service connected to etcd directly, then through
// one and through two `etcd grpc-proxy` processes. For each: the watches etcd
// itself holds, etcd's memory and CPU (and the proxies'), and how long every
// watcher takes to see a host come and go.
#ifndef ETCDISC_BENCHMARKS_PROXY_BENCHMARK_H_
#define ETCDISC_BENCHMARKS_PROXY_BENCHMARK_H_

#include <string>

namespace etcdisc::bench {

// Appends the section to `report`; each setup starts its own etcd.
// `watchers`: how many watcher processes (1,000 in the full run).
void ProxyBenchmarks(int watchers, std::string* report);

}  // namespace etcdisc::bench

#endif  // ETCDISC_BENCHMARKS_PROXY_BENCHMARK_H_
