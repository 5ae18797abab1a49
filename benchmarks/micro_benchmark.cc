// Micro benchmarks (Google Benchmark): record encoding and decoding, the
// subscription queue across threads, watch event dispatch to N watchers, and
// what a health record costs to sample and encode.
#include <thread>

#include "benchmark/benchmark.h"
#include "discovery/options.h"
#include "discovery/records.h"
#include "etcd/etcd_client.h"
#include "etcdisc/subscription.h"
#include "fleet/health_record.h"
#include "fleet/proc_health.h"
#include "util/event_queue.h"

namespace etcdisc {
namespace {

Host SampleHost() {
  Host h;
  h.name = "public-domain.dev";
  h.service_name = "my-service";
  h.ports = {{"http", "80"}, {"https", "443"}};
  h.user = "user";
  h.password = "secret";
  h.is_public = true;
  h.private_hostname = "node-1.internal.dev";
  h.private_ports = {{"http", "8080"}, {"https", "8443"}};
  h.critical = true;
  h.uuid = "7a4c9b1e-3f2a-4c1d-9e8f-0123456789ab-node-1.internal.dev";
  return h;
}

// One sample of this process and its machine from /proc (five files).
void BM_SampleHealth(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(internal::SampleHealth());
}
BENCHMARK(BM_SampleHealth);

void BM_EncodeHealthRecord(benchmark::State& state) {
  internal::HealthRecord record;
  record.hostname = "node-1.internal.dev";
  record.last_seen = std::chrono::system_clock::now();
  record.registered_at = record.last_seen;
  record.health = internal::SampleHealth();
  record.health.gauges = {{"queue_depth", 12}, {"workers", 8}};
  for (auto _ : state) {
    benchmark::DoNotOptimize(internal::EncodeHealthRecord(record));
  }
}
BENCHMARK(BM_EncodeHealthRecord);

void BM_EncodeHost(benchmark::State& state) {
  const Host host = SampleHost();
  for (auto _ : state) benchmark::DoNotOptimize(internal::EncodeHost(host));
}
BENCHMARK(BM_EncodeHost);

void BM_DecodeHost(benchmark::State& state) {
  const std::string json = internal::EncodeHost(SampleHost());
  for (auto _ : state) benchmark::DoNotOptimize(internal::DecodeHost(json));
  state.SetBytesProcessed(state.iterations() * json.size());
}
BENCHMARK(BM_DecodeHost);

// One producer thread pushes, the benchmark thread pops: items per second
// through the queue with both sides contending.
void BM_QueuePushPopAcrossThreads(benchmark::State& state) {
  internal::EventQueue<int> queue;
  std::atomic<bool> stop{false};
  std::thread producer([&] {
    int i = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      if (queue.size() < 1024) queue.Push(i++);
    }
  });
  for (auto _ : state) benchmark::DoNotOptimize(queue.Pop());
  stop = true;
  producer.join();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_QueuePushPopAcrossThreads)->UseRealTime();

// A watch response with one event dispatched to each of N watchers (the work
// the watch stream's reaction does per response, with no network).
void BM_WatchDispatchToNWatchers(benchmark::State& state) {
  internal::EtcdClientOptions options =
      internal::EtcdOptionsFrom(ClientOptions());
  options.endpoints = "http://127.0.0.1:1";  // Never contacted.
  auto client = *internal::EtcdClient::Create(options);
  const int watchers = static_cast<int>(state.range(0));
  std::vector<internal::WatchId> ids;
  std::atomic<long> delivered{0};
  for (int i = 0; i < watchers; ++i) {
    internal::WatchOptions w;
    w.key = "/services/svc/";
    w.range_end = internal::PrefixRangeEnd(w.key);
    w.start_revision = 1;
    ids.push_back(client->watch().Watch(
        w, [&](internal::WatchUpdate) { delivered.fetch_add(1); }));
  }
  int64_t revision = 1;
  std::vector<etcdserverpb::WatchResponse> responses(watchers);
  for (auto _ : state) {
    ++revision;
    for (int i = 0; i < watchers; ++i) {
      auto& r = responses[i];
      r.Clear();
      r.mutable_header()->set_revision(revision);
      auto* e = r.add_events();
      e->mutable_kv()->set_key("/services/svc/u");
      e->mutable_kv()->set_value(R"({"name":"10.0.0.1","ports":{"http":"80"}})");
      e->mutable_kv()->set_mod_revision(revision);
      e->mutable_kv()->set_create_revision(revision);
      client->watch().DispatchForTesting(ids[i], r);
    }
  }
  state.SetItemsProcessed(state.iterations() * watchers);
  if (delivered.load() != state.iterations() * watchers) {
    state.SkipWithError("not every update was delivered");
  }
}
BENCHMARK(BM_WatchDispatchToNWatchers)->Arg(1)->Arg(10)->Arg(100)->Arg(1000);

}  // namespace
}  // namespace etcdisc

BENCHMARK_MAIN();
