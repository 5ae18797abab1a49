// The cost of one Balancer pick (BalancerCore, as Balancer::Pick calls it):
// per policy, over 10 hosts, from 1 and from 8 threads at once. A pick here
// is the whole of a call's use of the balancer: the pick, reading the host,
// and the end of the call (PickedHost destroyed).
#include <memory>
#include <string>
#include <vector>

#include "balancing/balancer_core.h"
#include "benchmark/benchmark.h"

namespace etcdisc::internal {
namespace {

HostSnapshot TenHosts() {
  auto hosts = std::make_shared<std::vector<Host>>();
  for (int i = 0; i < 10; ++i) {
    Host host;
    host.uuid = "host-" + std::to_string(i);
    host.name = "10.0.0." + std::to_string(i);
    host.ports = {{"grpc", "50051"}};
    hosts->push_back(host);
  }
  return HostSnapshot(std::move(hosts), 1);
}

// One core per policy, shared by the benchmark's threads.
BalancerCore& CoreFor(BalancePolicy policy) {
  static std::vector<std::unique_ptr<BalancerCore>>* cores = [] {
    auto* all = new std::vector<std::unique_ptr<BalancerCore>>;
    for (int p = 0; p <= static_cast<int>(BalancePolicy::kKeyHash); ++p) {
      BalancerOptions options;
      options.policy = static_cast<BalancePolicy>(p);
      all->push_back(std::make_unique<BalancerCore>("bench", options));
      all->back()->Update(TenHosts());
    }
    return all;
  }();
  return *(*cores)[static_cast<int>(policy)];
}

void BM_Pick(benchmark::State& state) {
  const auto policy = static_cast<BalancePolicy>(state.range(0));
  const BalancerCore& core = CoreFor(policy);
  const std::string key = "user-" + std::to_string(state.thread_index());
  for (auto _ : state) {
    auto picked = core.Pick(key);
    benchmark::DoNotOptimize(picked->host().name.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(policy == BalancePolicy::kRandom          ? "random"
                 : policy == BalancePolicy::kRoundRobin    ? "round_robin"
                 : policy == BalancePolicy::kLeastInFlight ? "least_in_flight"
                                                           : "key_hash");
}
BENCHMARK(BM_Pick)->DenseRange(0, 3)->Threads(1)->Threads(8)->UseRealTime();

}  // namespace
}  // namespace etcdisc::internal
