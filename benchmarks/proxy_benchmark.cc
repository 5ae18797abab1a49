#include "benchmarks/proxy_benchmark.h"

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "benchmarks/e2e_common.h"
#include "support/etcd_cluster.h"

namespace etcdisc::bench {
namespace {

using ::etcdisc::testing::EtcdCluster;
using ::etcdisc::testing::EtcdClusterOptions;
// The watcher processes. When they go, all are killed first and then each
// is reaped: killing and reaping them one by one took most of an hour on a
// loaded 2-core machine, each exit waiting for its share of the CPU.
struct Watchers : std::vector<std::unique_ptr<BackgroundProcess>> {
  Watchers() = default;
  Watchers(Watchers&&) = default;
  Watchers& operator=(Watchers&&) = delete;
  ~Watchers() {
    for (auto& watcher : *this) watcher->Signal(SIGKILL);
  }
};

constexpr char kService[] = "fanout";
constexpr int kRounds = 30;
constexpr int kHopRounds = 200;  // With one watcher: the proxy's own hop.
constexpr int kStartBatch = 50;
constexpr auto kIdle = seconds(10);
// What one setup may take, starting its watchers and running its rounds: on
// a machine too small for this many processes the setup is reported as not
// measured instead of holding the whole run.
constexpr auto kSetupBudget = std::chrono::minutes(8);
using Deadline = std::chrono::steady_clock::time_point;

// The watchers' "<ns> N|D <uuid>" lines: when each watcher printed each.
class EventLog {
 public:
  // Reads until every watcher printed `tag` for `uuid`; false after `timeout`.
  bool AwaitAll(Watchers& watchers, const std::string& tag,
                const std::string& uuid, milliseconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (true) {
      for (auto& w : watchers) {
        for (const std::string& line : w->TakeLines()) Add(line);
      }
      if (Times(tag, uuid).size() >= watchers.size()) return true;
      if (std::chrono::steady_clock::now() > until) return false;
      std::this_thread::sleep_for(milliseconds(10));
    }
  }
  const std::vector<int64_t>& Times(const std::string& tag, const std::string& uuid) {
    return times_[absl::StrCat(tag, " ", uuid)];
  }

 private:
  void Add(const std::string& line) {
    std::vector<std::string> words = absl::StrSplit(line, ' ');
    int64_t ns = 0;
    if (words.size() != 3 || !absl::SimpleAtoi(words[0], &ns)) return;
    times_[absl::StrCat(words[1], " ", words[2])].push_back(ns);
  }
  std::map<std::string, std::vector<int64_t>> times_;
};

// `count` subscribe helpers of kService, spread over `targets` in turn,
// started kStartBatch at a time. Empty, with `failed` set, when one did not
// start or they were not all started by `deadline`.
std::string OutOfBudget(int started, int count) {
  return absl::StrCat("only ", started, " of ", count,
                      " watchers started within the setup's budget");
}

Watchers StartWatchers(const std::vector<std::string>& targets, int count,
                       Deadline deadline, std::string* failed) {
  Watchers watchers;
  for (int first = 0; first < count; first += kStartBatch) {
    if (std::chrono::steady_clock::now() > deadline) {
      *failed = OutOfBudget(first, count);
      return {};
    }
    const int last = std::min(count, first + kStartBatch);
    for (int i = first; i < last; ++i) {
      const std::string& target = targets[i % targets.size()];
      watchers.push_back(std::make_unique<BackgroundProcess>(
          std::vector<std::string>{self_path, "subscribe", target, kService}));
    }
    for (int i = first; i < last; ++i) {
      const auto left = std::chrono::duration_cast<milliseconds>(
          deadline - std::chrono::steady_clock::now());
      const bool cut_by_budget = left < seconds(120);
      auto line = watchers[i]->ReadLine(std::clamp(left, milliseconds(0),
                                                   milliseconds(seconds(120))));
      if (line && line->rfind("READY", 0) == 0) continue;
      const std::string state = watchers[i]->HowItEnded();
      *failed = !line && cut_by_budget && state == "running"
                    ? OutOfBudget(i, count)
                    : absl::StrCat("watcher ", i, " did not start (", state, ")");
      return {};
    }
  }
  return watchers;
}

struct Samples {
  std::vector<double> reg_new, stop_down;  // ms, one per watcher each
};

// One host registered, then stopped, each awaited in every watcher; adds
// the times to `samples` unless it is null. False when a watcher missed one.
bool Round(Client& client, Watchers& watchers, EventLog& log, int round,
           Samples* samples) {
  Host host;
  host.name = absl::StrCat("10.7.", round / 250, ".", round % 250 + 1);
  host.ports = {{"http", "8080"}};
  const int64_t registered = NowNs();
  auto reg = client.Register(kService, host);
  if (!reg.ok() || !(*reg)->WaitRegistration(seconds(30)).ok()) return false;
  const std::string uuid = (*reg)->UUID();
  if (!log.AwaitAll(watchers, "N", uuid, seconds(60))) return false;
  const int64_t stopped = NowNs();
  if (!(*reg)->Stop().ok()) return false;
  if (!log.AwaitAll(watchers, "D", uuid, seconds(60))) return false;
  if (samples == nullptr) return true;
  for (int64_t t : log.Times("N", uuid)) samples->reg_new.push_back((t - registered) / 1e6);
  for (int64_t t : log.Times("D", uuid)) samples->stop_down.push_back((t - stopped) / 1e6);
  return true;
}

// One setup measured: watchers connected directly (proxies 0) or through
// `proxies` gRPC proxies.
struct Setup {
  int proxies = 0;
  std::string failed;  // Why it was not measured; empty when it was.
  double start_s = 0;  // Starting every watcher.
  double etcd_watchers = -1, etcd_streams = -1;  // As etcd counts them.
  long etcd_rss_kib = 0, proxies_rss_kib = 0;    // After the rounds.
  double etcd_idle = 0, proxies_idle = 0;        // Cores, nothing changing.
  double etcd_busy = 0, proxies_busy = 0, watchers_busy = 0;  // In the rounds.
  double sent_kib_per_round = -1;  // What etcd sent its gRPC clients.
  long watcher_rss_kib = 0, watcher_anon_kib = 0, watcher_threads = 0;  // The first's.
  Summary reg_new, stop_down;
};

void MeasureLoad(EtcdCluster& cluster, const std::vector<pid_t>& proxy_pids,
                 Client& client, Watchers& watchers, EventLog& log, int rounds,
                 Deadline deadline, Setup* s) {
  const pid_t etcd = cluster.pid(0);
  CpuMeter etcd_cpu, proxy_cpu, watcher_cpu;
  etcd_cpu.Start({etcd});
  proxy_cpu.Start(proxy_pids);
  std::this_thread::sleep_for(kIdle);
  s->etcd_idle = etcd_cpu.Cores(kIdle.count());
  s->proxies_idle = proxy_cpu.Cores(kIdle.count());

  const auto before = EtcdMetrics(cluster.endpoint(0));
  std::vector<pid_t> watcher_pids;
  for (auto& w : watchers) watcher_pids.push_back(w->pid());
  etcd_cpu.Start({etcd});
  proxy_cpu.Start(proxy_pids);
  watcher_cpu.Start(watcher_pids);
  const int64_t from = NowNs();
  Samples samples;
  for (int r = 1; r <= rounds; ++r) {
    if (std::chrono::steady_clock::now() > deadline) {
      s->failed = absl::StrCat("only ", r - 1, " of ", rounds,
                               " rounds ran within the setup's budget");
      return;
    }
    if (!Round(client, watchers, log, r, &samples)) {
      s->failed = absl::StrCat("round ", r, ": a watcher missed an event");
      return;
    }
  }
  const double wall_s = (NowNs() - from) / 1e9;
  s->etcd_busy = etcd_cpu.Cores(wall_s);
  s->proxies_busy = proxy_cpu.Cores(wall_s);
  s->watchers_busy = watcher_cpu.Cores(wall_s);
  const auto after = EtcdMetrics(cluster.endpoint(0));
  const std::string sent = "etcd_network_client_grpc_sent_bytes_total";
  if (Figure(before, sent) >= 0 && Figure(after, sent) >= 0) {
    s->sent_kib_per_round = (Figure(after, sent) - Figure(before, sent)) / 1024 / rounds;
  }
  s->etcd_watchers = Figure(after, "etcd_debugging_mvcc_watcher_total");
  s->etcd_streams = Figure(after, "etcd_debugging_mvcc_watch_stream_total");
  s->etcd_rss_kib = RssKiB(etcd);
  for (pid_t p : proxy_pids) s->proxies_rss_kib += RssKiB(p);
  s->watcher_rss_kib = RssKiB(watcher_pids[0]);
  s->watcher_anon_kib = ProcStatus(watcher_pids[0], "RssAnon:");
  s->watcher_threads = ThreadCount(watcher_pids[0]);
  s->reg_new = Summarize(samples.reg_new);
  s->stop_down = Summarize(samples.stop_down);
}

Setup Measure(int watcher_count, int proxies, int rounds) {
  Setup s;
  s.proxies = proxies;
  EtcdClusterOptions options;
  options.members = 1;
  auto cluster = EtcdCluster::Start(options);
  if (!cluster.ok()) {
    s.failed = absl::StrCat("etcd did not start: ", cluster.status().ToString());
    return s;
  }
  std::vector<std::string> targets;
  std::vector<pid_t> proxy_pids;
  for (int p = 0; p < proxies; ++p) {
    auto proxy = (*cluster)->AddProxy();
    if (!proxy.ok()) {
      s.failed = absl::StrCat("a proxy did not start: ", proxy.status().ToString());
      return s;
    }
    targets.push_back(*proxy);
    proxy_pids.push_back((*cluster)->proxy_pid(p));
  }
  if (proxies == 0) targets.push_back((*cluster)->endpoint(0));
  const int64_t start = NowNs();
  const Deadline deadline = std::chrono::steady_clock::now() + kSetupBudget;
  Watchers watchers = StartWatchers(targets, watcher_count, deadline, &s.failed);
  if (!s.failed.empty()) return s;
  s.start_s = (NowNs() - start) / 1e9;
  // The registrar writes to etcd itself in every setup: only the watches move.
  auto client = MakeClient((*cluster)->endpoint(0));
  EventLog log;
  // A first round, not counted: once every watcher saw it, all follow.
  if (!Round(*client, watchers, log, 0, nullptr)) {
    s.failed = "a watcher missed the first host";
    return s;
  }
  MeasureLoad(**cluster, proxy_pids, *client, watchers, log, rounds, deadline,
              &s);
  return s;
}

std::string Cells(const std::vector<Setup>& setups,
                  const std::function<std::string(const Setup&)>& cell) {
  std::string row;
  for (const Setup& s : setups) {
    absl::StrAppend(&row, " ", s.failed.empty() ? cell(s) : "-", " |");
  }
  return row;
}

std::string Table(const std::vector<Setup>& setups) {
  const auto row = [&](const std::string& name,
                       const std::function<std::string(const Setup&)>& cell) {
    return absl::StrCat("| ", name, " |", Cells(setups, cell), "\n");
  };
  const auto f = [](double v) { return absl::StrFormat("%.2f", v); };
  const auto p50_p99 = [](const Summary& x) {
    return absl::StrFormat("%.1f / %.1f", x.p50, x.p99);
  };
  return absl::StrCat(
      "| | direct | 1 proxy | 2 proxies |\n|---|---|---|---|\n",
      row("all watchers started (s)", [](const Setup& s) {
        return absl::StrFormat("%.1f", s.start_s);
      }),
      row("watchers / watch streams etcd holds", [](const Setup& s) {
        return absl::StrFormat("%.0f / %.0f", s.etcd_watchers, s.etcd_streams);
      }),
      row("etcd RSS (MiB)", [](const Setup& s) {
        return absl::StrFormat("%.1f", s.etcd_rss_kib / 1024.0);
      }),
      row("proxies' RSS (MiB)", [](const Setup& s) {
        return absl::StrFormat("%.1f", s.proxies_rss_kib / 1024.0);
      }),
      row("etcd CPU, idle (cores)", [&](const Setup& s) { return f(s.etcd_idle); }),
      row("proxies' CPU, idle", [&](const Setup& s) { return f(s.proxies_idle); }),
      row("etcd CPU, in the rounds", [&](const Setup& s) { return f(s.etcd_busy); }),
      row("proxies' CPU, in the rounds", [&](const Setup& s) { return f(s.proxies_busy); }),
      row("watchers' CPU, in the rounds", [&](const Setup& s) { return f(s.watchers_busy); }),
      row("etcd sent to clients per round (KiB)", [](const Setup& s) {
        return absl::StrFormat("%.1f", s.sent_kib_per_round);
      }),
      row("**event lag**: Register -> New, p50 / p99 (ms)",
          [&](const Setup& s) { return p50_p99(s.reg_new); }),
      row("Stop -> Down, p50 / p99", [&](const Setup& s) { return p50_p99(s.stop_down); }));
}

std::string ProxyCost(const Setup& direct, const Setup& proxied) {
  if (!direct.failed.empty() || !proxied.failed.empty()) return "";
  return absl::StrFormat(
      "Through %d prox%s instead of directly: the event lag p50 %+.1f ms, p99 "
      "%+.1f ms; Stop -> Down p50 %+.1f ms, p99 %+.1f ms; etcd's CPU in the "
      "rounds %.2fx, its RSS %.2fx.\n\n",
      proxied.proxies, proxied.proxies == 1 ? "y" : "ies",
      proxied.reg_new.p50 - direct.reg_new.p50,
      proxied.reg_new.p99 - direct.reg_new.p99,
      proxied.stop_down.p50 - direct.stop_down.p50,
      proxied.stop_down.p99 - direct.stop_down.p99,
      direct.etcd_busy > 0 ? proxied.etcd_busy / direct.etcd_busy : 0,
      direct.etcd_rss_kib > 0
          ? static_cast<double>(proxied.etcd_rss_kib) / direct.etcd_rss_kib
          : 0);
}

// The proxy's own hop, with nothing else competing: one watcher.
std::string HopCost() {
  std::fprintf(stderr, "bench: proxy section, one watcher\n");
  const Setup direct = Measure(1, 0, kHopRounds);
  const Setup proxied = Measure(1, 1, kHopRounds);
  if (!direct.failed.empty() || !proxied.failed.empty()) {
    return absl::StrCat("The proxy's hop alone: not measured: ", direct.failed,
                        proxied.failed, ".\n\n");
  }
  return absl::StrFormat(
      "The proxy's hop alone (one watcher, %d rounds): Register -> New p50 "
      "%.2f ms directly, %.2f ms through one proxy (%+.2f ms); p99 %.2f and "
      "%.2f ms. Stop -> Down p50 %.2f and %.2f ms.\n\n",
      kHopRounds, direct.reg_new.p50, proxied.reg_new.p50,
      proxied.reg_new.p50 - direct.reg_new.p50, direct.reg_new.p99,
      proxied.reg_new.p99, direct.stop_down.p50, proxied.stop_down.p50);
}

}  // namespace

void ProxyBenchmarks(int watchers, std::string* report) {
  absl::StrAppend(
      report,
      absl::StrFormat("## 6c. Scale-out through etcd's gRPC proxy: %d watcher "
                      "processes of one service\n\n",
                      watchers),
      absl::StrFormat(
          "%d processes, each an etcdisc client subscribed to one service, "
          "watch a single etcd member directly, through one `etcd "
          "grpc-proxy`, or through two (half the watchers each). Each setup "
          "has its own etcd. A registrar writing to etcd itself registers "
          "and stops a host %d times, each step awaited in every watcher "
          "(Register -> New includes its lease grant and Txn, the same in "
          "every setup); "
          "the latencies are over every watcher's event (%d x %d). Idle: %d s "
          "with every watcher connected and nothing changing. etcd's own "
          "counts are read from its /metrics page. Everything shares this "
          "machine's %u cores.\n\n",
          watchers, kRounds, kRounds, watchers,
          static_cast<int>(kIdle.count()), std::thread::hardware_concurrency()));
  std::vector<Setup> setups;
  for (int proxies : {0, 1, 2}) {
    std::fprintf(stderr, "bench: proxy section, %d proxies\n", proxies);
    setups.push_back(Measure(watchers, proxies, kRounds));
  }
  absl::StrAppend(report, Table(setups), "\n");
  for (const Setup& s : setups) {
    if (!s.failed.empty()) {
      absl::StrAppend(report, "Not measured with ", s.proxies, " proxies: ",
                      s.failed, ".\n\n");
    }
  }
  absl::StrAppend(report, ProxyCost(setups[0], setups[1]),
                  ProxyCost(setups[0], setups[2]));
  absl::StrAppend(report, HopCost());
  const Setup& direct = setups[0];
  if (direct.failed.empty()) {
    absl::StrAppend(
        report,
        absl::StrFormat(
            "Each watcher process: RSS %.1f MiB, %.1f MiB of it its own "
            "(the rest shared libraries), %ld threads. In the rounds the "
            "watchers used %.2f of the %u cores (each event wakes every "
            "watcher process), etcd %.2f when they watched it directly.\n\n",
            direct.watcher_rss_kib / 1024.0, direct.watcher_anon_kib / 1024.0,
            direct.watcher_threads, direct.watchers_busy,
            std::thread::hardware_concurrency(), direct.etcd_busy));
  }
}

}  // namespace etcdisc::bench
