#include "benchmarks/cluster_scale_benchmark.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "benchmarks/e2e_common.h"
#include "support/etcd_cluster.h"

namespace etcdisc::bench {
namespace {

using ::etcdisc::testing::BackgroundProcess;
using ::etcdisc::testing::EtcdCluster;
using ::etcdisc::testing::EtcdClusterOptions;

constexpr int kMembers = 3;
constexpr int kProcesses = 10;
constexpr int kServices = 1000;
constexpr int kHostsPerService = 10;
constexpr int kHosts = kServices * kHostsPerService;

// When each host was registered and when the subscriber saw it, by uuid.
struct Timeline {
  std::mutex mu;
  std::map<std::string, int64_t> registered;  // Register called.
  std::map<std::string, int64_t> written;     // Its Txn answered.
  std::map<std::string, int64_t> seen;
  int done = 0;  // Registrars that had all their hosts in etcd.
};

// Reads "<ns> <tag> <uuid>" lines (and "DONE") of `helper` into `timeline`
// until `stop`: tag "N" of the subscriber, "R" (with "W") of a registrar.
void Collect(BackgroundProcess& helper, const std::string& tag,
             Timeline* timeline, const std::atomic<bool>& stop) {
  while (!stop) {
    auto line = helper.ReadLine(std::chrono::milliseconds(200));
    if (!line) continue;
    std::lock_guard<std::mutex> lock(timeline->mu);
    if (*line == "DONE") {
      ++timeline->done;
      continue;
    }
    std::vector<std::string> words = absl::StrSplit(*line, ' ');
    int64_t ns = 0;
    if (words.size() != 3 || !absl::SimpleAtoi(words[0], &ns)) continue;
    if (tag == "N" && words[1] == "N") timeline->seen.emplace(words[2], ns);
    if (tag == "R" && words[1] == "R") timeline->registered.emplace(words[2], ns);
    if (tag == "R" && words[1] == "W") timeline->written.emplace(words[2], ns);
  }
}

}  // namespace

int RoleRegisterMany(const std::string& endpoints, int first, int services,
                     int per_service) {
  auto client = MakeClient(endpoints);
  Emit("READY");
  std::vector<std::unique_ptr<Registration>> regs;
  // When each registration's Txn was answered (its kRegistered event).
  std::vector<std::shared_ptr<std::atomic<int64_t>>> written;
  for (int s = first; s < first + services; ++s) {
    for (int h = 0; h < per_service; ++h) {
      Host host;
      host.name = absl::StrCat("10.", s / 100, ".", s % 100, ".", h + 1);
      host.ports = {{"http", "8080"}};
      auto at = std::make_shared<std::atomic<int64_t>>(0);
      written.push_back(at);
      const int64_t t0 = NowNs();
      auto reg = client->Register(
          absl::StrCat("svc-", s), host, RegisterOptions{},
          [at](const RegistrationEvent& e) {
            if (e.kind == RegistrationEvent::Kind::kRegistered) *at = NowNs();
          });
      if (!reg.ok()) {
        std::fprintf(stderr, "bench: register: %s\n",
                     reg.status().ToString().c_str());
        return 1;
      }
      Emit(absl::StrCat(t0, " R ", (*reg)->UUID()));
      regs.push_back(*std::move(reg));
    }
  }
  for (size_t i = 0; i < regs.size(); ++i) {
    if (!regs[i]->WaitRegistration(std::chrono::seconds(120)).ok()) return 1;
    // The event comes on the callback thread, soon after.
    while (*written[i] == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    Emit(absl::StrCat(written[i]->load(), " W ", regs[i]->UUID()));
  }
  Emit("DONE");
  while (true) std::this_thread::sleep_for(std::chrono::seconds(1));
}

void ClusterScaleBenchmarks(std::string* report) {
  absl::StrAppend(report,
                  "## 6b. Scale on a 3-member cluster: 1,000 services x 10 "
                  "hosts from 10 processes\n\n");
  EtcdClusterOptions options;
  options.members = kMembers;
  auto cluster = EtcdCluster::Start(options);
  if (!cluster.ok()) {
    absl::StrAppend(report, "Not measured: the cluster did not start: ",
                    cluster.status().ToString(), "\n\n");
    return;
  }
  const std::string endpoints = (*cluster)->endpoints();
  std::vector<std::string> names;
  for (int s = 0; s < kServices; ++s) names.push_back(absl::StrCat("svc-", s));
  auto subscriber = Helper({"subscribe", endpoints, absl::StrJoin(names, ",")});

  Timeline timeline;
  std::atomic<bool> stop{false};
  std::vector<std::thread> readers;
  readers.emplace_back(
      [&] { Collect(*subscriber, "N", &timeline, stop); });
  std::vector<std::unique_ptr<BackgroundProcess>> registrars;
  for (int p = 0; p < kProcesses; ++p) {
    const int first = p * (kServices / kProcesses);
    registrars.push_back(Helper({"register-many", endpoints,
                                 std::to_string(first),
                                 std::to_string(kServices / kProcesses),
                                 std::to_string(kHostsPerService)}));
  }
  // The registrars start as soon as they are ready: measure from the first.
  const int64_t start = NowNs();
  CpuMeter etcd, clients, watcher;
  etcd.Start({(*cluster)->pid(0), (*cluster)->pid(1), (*cluster)->pid(2)});
  std::vector<pid_t> registrar_pids;
  for (auto& r : registrars) registrar_pids.push_back(r->pid());
  clients.Start(registrar_pids);
  watcher.Start({subscriber->pid()});
  for (auto& r : registrars) {
    readers.emplace_back([&, r = r.get()] { Collect(*r, "R", &timeline, stop); });
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  bool complete = false;
  while (!complete && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::lock_guard<std::mutex> lock(timeline.mu);
    complete = static_cast<int>(timeline.seen.size()) >= kHosts &&
               timeline.done == kProcesses;
  }
  const double wall_s = (NowNs() - start) / 1e9;
  const double etcd_cores = etcd.Cores(wall_s);
  const double client_cores = clients.Cores(wall_s);
  const double watcher_cores = watcher.Cores(wall_s);
  stop = true;
  for (auto& t : readers) t.join();

  std::vector<double> lag_ms;
  int64_t last_seen = start;
  for (const auto& [uuid, t0] : timeline.registered) {
    auto it = timeline.seen.find(uuid);
    if (it == timeline.seen.end()) continue;
    lag_ms.push_back((it->second - t0) / 1e6);
    last_seen = std::max(last_seen, it->second);
  }
  const Summary lag = Summarize(lag_ms);
  std::vector<double> watch_ms;
  for (const auto& [uuid, t1] : timeline.written) {
    auto it = timeline.seen.find(uuid);
    if (it != timeline.seen.end()) watch_ms.push_back((it->second - t1) / 1e6);
  }
  const Summary watch = Summarize(watch_ms);
  const double seen_s = (last_seen - start) / 1e9;
  const double total = etcd_cores + client_cores + watcher_cores;
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  absl::StrAppend(
      report,
      absl::StrFormat(
          "%d registrar processes (%d services x %d hosts each, Register "
          "called back to back, default TTL and options) and one process "
          "subscribed to all %d services, against %d etcd members, all on "
          "this machine.\n\n",
          kProcesses, kServices / kProcesses, kHostsPerService, kServices,
          kMembers),
      absl::StrFormat("- registered and seen by the subscriber: %zu of %d%s, "
                      "in %.1f s from the first Register: **%.0f "
                      "registrations/s**;\n",
                      lag_ms.size(), kHosts,
                      complete ? "" : " (NOT all, within 5 minutes)", seen_s,
                      lag_ms.size() / seen_s),
      absl::StrFormat("- Register -> New in the subscriber (ms), each "
                      "process's 1,000 Registers queued at once: p50 %.1f, "
                      "p90 %.1f, p99 %.1f, max %.1f;\n",
                      lag.p50, lag.p90, lag.p99, lag.max),
      absl::StrFormat("- the event lag, from the registration's Txn answered "
                      "to New in the subscriber (ms; n=%zu): p50 %.1f, "
                      "p90 %.1f, **p99 %.1f**, max %.1f;\n",
                      watch.n, watch.p50, watch.p90, watch.p99, watch.max),
      absl::StrFormat("- CPU over those %.1f s, in cores (CPU seconds per "
                      "second): etcd's 3 members %.2f, the 10 registrars "
                      "%.2f, the subscriber %.2f; %.2f in all.\n\n",
                      wall_s, etcd_cores, client_cores, watcher_cores, total),
      absl::StrFormat(
          "The machine's %d cores were %.0f%% busy with these processes, "
          "%.0f%% of that etcd's (three members applying every write, as a "
          "cluster does, on the same cores). Each registration is a Txn, a "
          "spare lease's grant and a health record's put, then two watches "
          "and a keep-alive per lease.\n\n",
          cores, 100 * total / cores, total > 0 ? 100 * etcd_cores / total : 0));
}

}  // namespace etcdisc::bench
