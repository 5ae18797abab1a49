#include "benchmarks/fleet_benchmark.h"

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "benchmarks/bench_util.h"
#include "benchmarks/e2e_common.h"
#include "etcdisc/client.h"
#include "httplib.h"

namespace etcdisc::bench {
namespace {

double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

int64_t Revision(internal::EtcdClient& raw) {
  internal::RangeRequest read;
  read.key = "/";
  read.count_only = true;
  auto range = raw.kv().Range(read);
  return range.ok() ? range->revision : -1;
}

// `hosts` registrations of 10 services in this process, health every
// `interval` (0: off), each registered.
std::vector<std::unique_ptr<Registration>> RegisterMany(
    Client& client, int hosts, std::chrono::milliseconds interval) {
  std::vector<std::unique_ptr<Registration>> out;
  RegisterOptions options;
  options.health_interval = interval;
  for (int i = 0; i < hosts; ++i) {
    Host host;
    host.name = absl::StrCat("10.1.", i / 250, ".", i % 250 + 1);
    host.ports = {{"http", "8080"}};
    auto reg = client.Register(absl::StrCat("svc", i % 10), host, options);
    if (!reg.ok()) {
      std::fprintf(stderr, "bench: register: %s\n",
                   reg.status().ToString().c_str());
      std::exit(1);
    }
    out.push_back(*std::move(reg));
  }
  for (auto& reg : out) {
    if (!reg->WaitRegistration(seconds(60)).ok()) std::exit(1);
  }
  return out;
}

struct Cost {
  double writes_per_s = 0;
  double cpu_per_s = 0;  // CPU seconds per second of this process.
};

// Etcd's revisions and this process's CPU over `window`.
Cost Measure(internal::EtcdClient& raw, seconds window) {
  const int64_t r0 = Revision(raw);
  const double cpu0 = CpuSeconds();
  const auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(window);
  const double elapsed = std::chrono::duration<double>(
                             std::chrono::steady_clock::now() - t0)
                             .count();
  Cost c;
  c.writes_per_s = (Revision(raw) - r0) / elapsed;
  c.cpu_per_s = (CpuSeconds() - cpu0) / elapsed;
  return c;
}

}  // namespace

void FleetBenchmarks(const std::string& endpoints, const std::string& cli,
                     int hosts, int window_s, std::string* report) {
  auto raw = RawClient(endpoints);
  // Under a key prefix of its own: the hosts and health records that earlier
  // sections left in this etcd are not this fleet's.
  const std::string key_prefix = "/fleet-bench";
  const seconds window(window_s);
  Cost off, on;
  {
    auto client = MakeClient(endpoints, key_prefix);
    auto regs = RegisterMany(*client, hosts, milliseconds(0));
    std::this_thread::sleep_for(seconds(5));  // Settle.
    off = Measure(*raw, window);
  }
  auto client = MakeClient(endpoints, key_prefix);
  auto regs = RegisterMany(*client, hosts, seconds(10));
  std::this_thread::sleep_for(seconds(15));  // Every first write done.
  on = Measure(*raw, window);

  // fleet serve with those hosts.
  BackgroundProcess server({cli, "fleet", "serve", "--listen=127.0.0.1:0",
                            "--endpoints=" + endpoints, "--prefix=" + key_prefix});
  auto line = server.ReadLine(seconds(30));
  const std::string prefix = "serving the fleet at http://127.0.0.1:";
  if (!line || line->rfind(prefix, 0) != 0) {
    std::fprintf(stderr, "bench: fleet serve did not start\n");
    std::exit(1);
  }
  const int port = std::atoi(line->c_str() + prefix.size());
  httplib::Client http("127.0.0.1", port);
  std::vector<double> ms;
  size_t bytes = 0;
  int shown = 0;
  for (int i = -20; i < 200; ++i) {
    const int64_t t0 = NowNs();
    auto res = http.Get("/api/fleet");
    const int64_t t1 = NowNs();
    if (!res || res->status != 200) std::exit(1);
    if (i < 0) continue;
    ms.push_back((t1 - t0) / 1e6);
    bytes = res->body.size();
    shown = 0;
    for (size_t at = 0; (at = res->body.find("\"uuid\":", at)) !=
                        std::string::npos; ++at) {
      ++shown;
    }
  }
  const long rss_kib = ProcStatus(server.pid(), "VmRSS:");
  const long threads = ProcStatus(server.pid(), "Threads:");
  const Summary s = Summarize(ms);

  absl::StrAppend(
      report, "## Fleet health\n\n",
      absl::StrFormat(
          "%d registrations in one process (10 services), each with its own "
          "lease, TTL 5 s, against the one-member etcd; each phase measured "
          "over %d s: etcd's revision growth (every health write is one "
          "revision; lease refreshes are none) and this process's CPU time "
          "(getrusage).\n\n",
          hosts, window_s),
      "| | etcd writes/s | per 1,000 hosts | process CPU (s per s) |\n"
      "|---|---|---|---|\n",
      absl::StrFormat("| health off (`health_interval = 0`) | %.1f | %.1f | %.3f |\n",
                      off.writes_per_s, off.writes_per_s * 1000 / hosts,
                      off.cpu_per_s),
      absl::StrFormat("| health every 10 s (the default) | %.1f | %.1f | %.3f |\n",
                      on.writes_per_s, on.writes_per_s * 1000 / hosts,
                      on.cpu_per_s),
      absl::StrFormat(
          "\nPublishing's own cost: %.1f writes/s per 1,000 hosts (at most "
          "100, at least ~16.7: one write per host per 10 s when something "
          "moved beyond the threshold, else every 6th interval), and %.1f%% "
          "of one core per 1,000 hosts (the difference of the two rows; the "
          "process's publishers share one /proc sample up to 1 s old).\n\n",
          (on.writes_per_s - off.writes_per_s) * 1000 / hosts,
          100 * (on.cpu_per_s - off.cpu_per_s) * 1000 / hosts),
      absl::StrFormat(
          "`etcdisc fleet serve` with those %d hosts (%d in /api/fleet, "
          "%zu bytes): RSS %.1f MiB, %ld threads, after the requests below.\n\n",
          hosts, shown, bytes, rss_kib / 1024.0, threads),
      "| GET /api/fleet, 200 requests after 20 (one keep-alive connection) "
      "| n | p50 | p90 | p99 | max |\n|---|---|---|---|---|---|\n",
      Row("latency", s), "\n");
}

}  // namespace etcdisc::bench
