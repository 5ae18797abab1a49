#include "benchmarks/peer_benchmark.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "benchmarks/e2e_common.h"
#include "util/proc_files.h"

namespace etcdisc::bench {
namespace {

constexpr int kWatches = 10000;     // services held by one process
constexpr int kCpuHosts = 10000;    // hosts put, then deleted: 2x events
constexpr int kCpuWriters = 4;
constexpr milliseconds kSettle{20};  // a registration's age at its Stop

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "bench: clientv3 peer: %s\n", what.c_str());
  std::exit(1);
}

// The peer in a role that prints READY once started (the rest of that line
// kept in `ready` if asked for).
std::unique_ptr<BackgroundProcess> StartPeer(const std::string& peer,
                                             std::vector<std::string> args,
                                             std::string* ready = nullptr) {
  args.insert(args.begin(), peer);
  return StartHelper(args, ready);
}

// A Go registrar of `service`, driven through its stdin; it says nothing
// until asked, but, with `refreshes`, prints each refresh of its leases.
std::unique_ptr<BackgroundProcess> StartRegistrar(const std::string& peer,
                                                  const std::string& endpoints,
                                                  const std::string& service,
                                                  const std::string& ttl_s,
                                                  bool refreshes = false) {
  std::vector<std::string> argv = {peer, "registrar", endpoints, service, ttl_s};
  if (refreshes) argv.push_back("refreshes");
  return std::make_unique<BackgroundProcess>(argv, std::map<std::string, std::string>{},
                                             true);
}

// The registrar's answer "<ns> TAG <uuid>" to a command: its time and uuid.
// Refresh lines ("K"), which come in between, are kept in `refreshes`.
std::pair<int64_t, std::string> Answer(BackgroundProcess& registrar,
                                       const std::string& tag,
                                       std::vector<std::string>* refreshes = nullptr) {
  while (true) {
    auto line = registrar.ReadLine(seconds(10));
    std::istringstream in(line.value_or(""));
    int64_t ns = -1;
    std::string got, uuid;
    if (!(in >> ns >> got >> uuid)) Fail("registrar answered " + line.value_or("nothing"));
    if (got == tag) return {ns, uuid};
    if (got != "K" || refreshes == nullptr) Fail("registrar answered " + *line);
    refreshes->push_back(*line);
  }
}

// What RegisterAndStop measures of etcdisc, done by the Go registrar and
// seen by a Go watcher: `samples` after 50 for warm-up, each registration
// stopped `settle` after its New was seen.
void GoRegisterAndStop(BackgroundProcess& registrar, BackgroundProcess& watcher,
                       int samples, std::vector<double>* reg_new,
                       std::vector<double>* stop_down,
                       milliseconds settle = milliseconds(0)) {
  for (int i = -50; i < samples; ++i) {
    if (!registrar.WriteLine("register")) Fail("registrar gone");
    const auto [t0, uuid] = Answer(registrar, "R");
    const int64_t t1 = AwaitEvent(watcher, "N", uuid, seconds(10));
    if (settle.count() > 0) std::this_thread::sleep_for(settle);
    if (!registrar.WriteLine("stop " + uuid)) Fail("registrar gone");
    const int64_t t2 = Answer(registrar, "S").first;
    const int64_t t3 = AwaitEvent(watcher, "D", uuid, seconds(10));
    if (t1 < 0 || t3 < 0) Fail("watcher missed " + uuid);
    if (i < 0) continue;
    reg_new->push_back((t1 - t0) / 1e6);
    stop_down->push_back((t3 - t2) / 1e6);
  }
}

// Which side a difference of latency is on: Go's writes seen by etcdisc's
// subscriber, and etcdisc's registrations seen by the Go watcher.
void Crossed(const std::string& endpoints, const std::string& peer, int samples,
             PeerFigures* f) {
  std::vector<double> reg_new, stop_down;
  {
    auto ours = Helper({"subscribe", endpoints, "crossed-go"});
    auto registrar = StartRegistrar(peer, endpoints, "crossed-go", "10");
    GoRegisterAndStop(*registrar, *ours, samples, &reg_new, &stop_down);
  }
  f->go_to_etcdisc_new = Summarize(reg_new);
  f->go_to_etcdisc_down = Summarize(stop_down);
  reg_new.clear();
  stop_down.clear();
  auto watcher = StartPeer(peer, {"watch", endpoints, "/services/crossed-etcdisc/"});
  auto client = MakeClient(endpoints);
  RegisterAndStop(*client, *watcher, "crossed-etcdisc", samples, &reg_new, &stop_down);
  f->etcdisc_to_go_new = Summarize(reg_new);
  f->etcdisc_to_go_down = Summarize(stop_down);
}

// Stop -> Down of registrations that have been up for kSettle: an etcdisc
// registration's first milliseconds carry the creation of its two key
// watches, which a Stop right after New overlaps and a Go registration,
// which watches nothing, does not have.
void Settled(const std::string& endpoints, const std::string& peer, int samples,
             PeerFigures* f) {
  std::vector<double> reg_new, stop_down;
  {
    auto watcher = StartPeer(peer, {"watch", endpoints, "/services/settled-go/"});
    auto registrar = StartRegistrar(peer, endpoints, "settled-go", "10");
    GoRegisterAndStop(*registrar, *watcher, samples, &reg_new, &stop_down, kSettle);
  }
  f->go_settled_down = Summarize(stop_down);
  stop_down.clear();
  auto subscriber = Helper({"subscribe", endpoints, "settled"});
  auto client = MakeClient(endpoints);
  RegisterAndStop(*client, *subscriber, "settled", samples, &reg_new, &stop_down,
                  RegisterOptions(), [] { std::this_thread::sleep_for(kSettle); });
  f->etcdisc_settled_down = Summarize(stop_down);
}

// A Go registrar (TTL 2 s) killed -9 at a random point of its keep-alive
// cycle -> the Go watcher sees its key deleted; `kills` times.
KillSplit GoKillToDown(const std::string& peer, const std::string& endpoints, int kills) {
  auto watcher = StartPeer(peer, {"watch", endpoints, "/services/killed-go/"});
  std::mt19937 rng(7);
  KillSplit split;
  for (int k = 0; k < kills; ++k) {
    WaitRandomPointOfExpiryScan(rng);
    auto victim = StartRegistrar(peer, endpoints, "killed-go", "2", /*refreshes=*/true);
    if (!victim->WriteLine("register")) Fail("registrar gone");
    std::vector<std::string> lines;
    const std::string uuid = Answer(*victim, "R", &lines).second;
    if (AwaitEvent(*watcher, "N", uuid, seconds(10)) < 0) Fail("watcher missed " + uuid);
    const int64_t t0 = KillAtRandomPoint(*victim, rng);
    const int64_t t1 = AwaitEvent(*watcher, "D", uuid, seconds(20));
    if (t1 < 0) Fail("no delete after a kill");
    for (std::string& line : victim->TakeLines()) lines.push_back(std::move(line));
    AddKill(t0, t1, lines, milliseconds(2000), &split);
  }
  return split;
}

double GoRegistrationsPerSecond(const std::string& peer, const std::string& endpoints,
                                int registrars) {
  BackgroundProcess p({peer, "throughput", endpoints, std::to_string(registrars), "3000"});
  auto rate = p.ReadLine(seconds(60));
  auto done = p.ReadLine(seconds(120));
  if (!rate || rate->rfind("RATE ", 0) != 0 || done != "DONE") Fail("throughput");
  p.Wait(seconds(10));
  return std::atof(rate->c_str() + 5);
}

// Reads event lines of `watcher` until `count` have come; false at timeout.
bool CountEvents(BackgroundProcess& watcher, int count, seconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (count > 0 && std::chrono::steady_clock::now() < until) {
    if (auto line = watcher.ReadLine(milliseconds(200))) {
      if (line->find(" N ") != std::string::npos ||
          line->find(" D ") != std::string::npos) {
        --count;
      }
    }
  }
  return count == 0;
}

// Puts kCpuHosts host records of service "cpu" from kCpuWriters connections,
// then deletes them.
void PutThenDeleteHosts(const std::string& endpoints) {
  const auto write = [&](bool put) {
    std::vector<std::thread> writers;
    for (int w = 0; w < kCpuWriters; ++w) {
      writers.emplace_back([&, w] {
        auto raw = RawClient(endpoints);
        for (int i = w; i < kCpuHosts; i += kCpuWriters) {
          Host h;
          h.name = "10.4.0.1";
          h.ports = {{"http", "80"}};
          h.service_name = "cpu";
          h.uuid = absl::StrCat("cpu-", i);
          const std::string key = "/services/cpu/" + h.uuid;
          const bool ok = put ? raw->kv().Put({key, ToJson(h), 0, false}).ok()
                              : raw->kv().Delete({key, "", false}).ok();
          if (!ok) Fail("a write of " + key);
        }
      });
    }
    for (auto& t : writers) t.join();
  };
  write(true);
  write(false);
}

// Both watchers receive the same 2 x kCpuHosts events; the CPU time each
// spent meanwhile, per 1,000 events.
void CpuPerEvent(const std::string& endpoints, const std::string& peer,
                 PeerFigures* f) {
  auto ours = Helper({"subscribe", endpoints, "cpu"});
  auto go = StartPeer(peer, {"watch", endpoints, "/services/cpu/"});
  const double ours0 = CpuMs(ours->pid()), go0 = CpuMs(go->pid());
  std::thread writer([&] { PutThenDeleteHosts(endpoints); });
  // Both read on, so that neither blocks on a full pipe.
  std::thread read_go([&] {
    if (!CountEvents(*go, 2 * kCpuHosts, seconds(120))) Fail("Go watcher missed events");
  });
  if (!CountEvents(*ours, 2 * kCpuHosts, seconds(120))) Fail("etcdisc missed events");
  read_go.join();
  writer.join();
  const double per_1k = 1000.0 / (2 * kCpuHosts);
  f->etcdisc_cpu_ms_per_1k = (CpuMs(ours->pid()) - ours0) * per_1k;
  f->go_cpu_ms_per_1k = (CpuMs(go->pid()) - go0) * per_1k;
}

struct ManyWatches {
  long rss_kib = 0, threads = 0;
  std::string goroutines = "-";
  std::string streams = "-";  // etcdisc: "watch streams, keep-alive streams, watchers"
  Summary reg_new;
};

// kWatches services followed by one etcdisc process, as live views (their
// callbacks share the client's callback thread: a subscription's queue would
// need a reader thread each), and register -> New of one of them while it
// holds them all.
ManyWatches EtcdiscManyWatches(const std::string& endpoints) {
  std::vector<std::string> names;
  for (int s = 0; s < kWatches; ++s) names.push_back(absl::StrCat("svc-", s));
  std::string ready;
  auto many = Helper({"view", endpoints, absl::StrJoin(names, ",")}, &ready);
  ManyWatches m;
  m.rss_kib = RssKiB(many->pid());
  m.threads = ThreadCount(many->pid());
  m.streams = ready.substr(0, ready.rfind(' '));
  auto client = MakeClient(endpoints);
  m.reg_new = RegisterToNew(*client, *many, "svc-500");
  return m;
}

ManyWatches GoManyWatches(const std::string& endpoints, const std::string& peer) {
  ManyWatches m;
  auto many = StartPeer(peer, {"watches", endpoints, std::to_string(kWatches)},
                        &m.goroutines);
  m.rss_kib = RssKiB(many->pid());
  m.threads = ThreadCount(many->pid());
  auto registrar = StartRegistrar(peer, endpoints, "svc-500", "10");
  std::vector<double> reg_new, unused;
  GoRegisterAndStop(*registrar, *many, kLoadedSamples, &reg_new, &unused);
  m.reg_new = Summarize(reg_new);
  return m;
}

std::string Ratio(double ours, double theirs) {
  return theirs > 0 ? absl::StrFormat("%.2fx", ours / theirs) : "-";
}

std::string LatencyRows(const EtcdiscFigures& e, const PeerFigures& f) {
  const auto row = [](const std::string& name, double ours, double go) {
    return absl::StrFormat("| %s | %.3f | %.3f | %s |\n", name, ours, go, Ratio(ours, go));
  };
  return absl::StrCat(
      row("Register -> New seen by another process, p50 (ms)", e.reg_new.p50,
          f.go_reg_new.p50),
      row("Register -> New, p99 (ms)", e.reg_new.p99, f.go_reg_new.p99),
      row("Stop -> Down seen by another process, p50 (ms)", e.stop_down.p50,
          f.go_stop_down.p50),
      row("Stop -> Down, p99 (ms)", e.stop_down.p99, f.go_stop_down.p99),
      row("the same with etcdisc's health publishing off: Register -> New, p50 (ms)",
          e.quiet_reg_new.p50, f.go_reg_new.p50),
      row("the same with etcdisc's health publishing off: Stop -> Down, p50 (ms)",
          e.quiet_stop_down.p50, f.go_stop_down.p50),
      row("the same with etcdisc's share_lease (a registration of the service "
          "holding the lease): Register -> New, p50 (ms)",
          e.shared_reg_new.p50, f.go_reg_new.p50),
      row("the same with etcdisc's share_lease: Stop -> Down, p50 (ms)",
          e.shared_stop_down.p50, f.go_stop_down.p50),
      row("crossed, each client's own watcher replaced by the other's: Register -> "
          "New, p50 (ms; etcdisc's column: etcdisc writes, Go watches)",
          f.etcdisc_to_go_new.p50, f.go_to_etcdisc_new.p50),
      row("crossed: Stop -> Down, p50 (ms; etcdisc's column: etcdisc writes, Go "
          "watches; clientv3's: Go writes, etcdisc subscribes)",
          f.etcdisc_to_go_down.p50, f.go_to_etcdisc_down.p50),
      row(absl::StrFormat("settled: Stop -> Down %d ms after New, p50 (ms)",
                          kSettle.count()),
          f.etcdisc_settled_down.p50, f.go_settled_down.p50),
      row("settled: Stop -> Down, p99 (ms)", f.etcdisc_settled_down.p99,
          f.go_settled_down.p99));
}

}  // namespace

PeerFigures PeerBenchmarks(const std::string& endpoints, const std::string& peer,
                           int samples, int kills, const EtcdiscFigures& e,
                           const std::string& out_dir, std::string* report) {
  PeerFigures f;
  absl::StrAppend(report, "## etcdisc vs clientv3 (same run)\n\n");
  if (peer.empty() || ::access(peer.c_str(), X_OK) != 0) {
    absl::StrAppend(report,
        "Not measured: the clientv3 peer was not built (benchmarks/run.sh "
        "builds it when Go and etcd's Go packages are installed).\n\n");
    return f;
  }
  std::vector<double> reg_new, stop_down;
  {
    auto watcher = StartPeer(peer, {"watch", endpoints, "/services/bench-go/"});
    auto registrar = StartRegistrar(peer, endpoints, "bench-go", "10");
    GoRegisterAndStop(*registrar, *watcher, samples, &reg_new, &stop_down);
  }
  f.go_reg_new = Summarize(reg_new);
  f.go_stop_down = Summarize(stop_down);
  WriteCdf(out_dir + "/clientv3_register_new.dat", reg_new);
  WriteCdf(out_dir + "/clientv3_stop_down.dat", stop_down);
  Crossed(endpoints, peer, samples, &f);
  Settled(endpoints, peer, samples, &f);
  const KillSplit go_kills = GoKillToDown(peer, endpoints, kills);
  f.go_kill_down = Summarize(go_kills.total);
  f.go_kill_split = DescribeSplit(go_kills);
  const double go_1 = GoRegistrationsPerSecond(peer, endpoints, 1);
  f.go_reg_per_s_16 = GoRegistrationsPerSecond(peer, endpoints, 16);
  CpuPerEvent(endpoints, peer, &f);
  const ManyWatches ours = EtcdiscManyWatches(endpoints);
  const ManyWatches go = GoManyWatches(endpoints, peer);
  f.measured = true;

  const auto rate_row = [](const std::string& name, double a, double b) {
    return absl::StrFormat("| %s | %.0f | %.0f | %s |\n", name, a, b, Ratio(a, b));
  };
  absl::StrAppend(report,
      absl::StrFormat(
          "etcd's Go client (clientv3, from Debian's golang-etcd-server-dev) in "
          "`benchmarks/peers/clientv3`, doing what a Go service does: grant a "
          "lease, put the Go-format host record under it, keep it alive; revoke "
          "on stop; a Go watcher of the prefix in another process. Same etcd, "
          "same machine, same run; one process per role as for etcdisc. The "
          "%d watched services are ServiceViews in etcdisc and one clientv3 "
          "Watch each in Go.\n\n", kWatches),
      "| Figure | etcdisc | clientv3 | etcdisc / clientv3 |\n|---|---|---|---|\n",
      LatencyRows(e, f),
      absl::StrFormat("| kill -9 -> Down at TTL 2 s, median / max (ms) | %.0f / %.0f | "
                      "%.0f / %.0f | %s |\n", e.kill_down.p50, e.kill_down.max,
                      f.go_kill_down.p50, f.go_kill_down.max,
                      Ratio(e.kill_down.p50, f.go_kill_down.p50)),
      rate_row("registrations/s, 1 registrar", e.reg_per_s_1, go_1),
      rate_row("registrations/s, 16 registrars", e.reg_per_s_16, f.go_reg_per_s_16),
      rate_row("the same, etcdisc with share_lease", e.shared_reg_per_s_16,
               f.go_reg_per_s_16),
      absl::StrFormat("| client CPU per 1,000 events delivered (ms) | %.1f | %.1f | %s |\n",
                      f.etcdisc_cpu_ms_per_1k, f.go_cpu_ms_per_1k,
                      Ratio(f.etcdisc_cpu_ms_per_1k, f.go_cpu_ms_per_1k)),
      absl::StrFormat("| %d watched services in one process: RSS (MiB) | %.1f | %.1f | %s |\n",
                      kWatches, ours.rss_kib / 1024.0, go.rss_kib / 1024.0,
                      Ratio(ours.rss_kib, go.rss_kib)),
      absl::StrFormat("| the same: OS threads | %ld | %ld (and %s goroutines) | %s |\n",
                      ours.threads, go.threads, go.goroutines,
                      Ratio(ours.threads, go.threads)),
      absl::StrFormat("| the same: etcdisc's watch streams, keep-alive streams, "
                      "watchers | %s | | |\n", ours.streams),
      absl::StrFormat("| the same: register -> New p99 (ms), and over idle p99 | "
                      "%.3f (%.2fx) | %.3f (%.2fx) | %s |\n",
                      ours.reg_new.p99, ours.reg_new.p99 / e.reg_new.p99,
                      go.reg_new.p99, go.reg_new.p99 / f.go_reg_new.p99,
                      Ratio(ours.reg_new.p99, go.reg_new.p99)),
      absl::StrFormat(
          "\nThe floor in this run (raw put -> raw watch, p50): %.3f ms. "
          "Raw puts under a lease/s: %.0f (1 writer), %.0f (16). CPU per event: "
          "both watchers received the same %d events (%d hosts put, then "
          "deleted, from %d connections), CPU time from /proc (10 ms ticks).\n\n",
          e.floor.p50, e.put_per_s_1, e.put_per_s_16, 2 * kCpuHosts, kCpuHosts,
          kCpuWriters),
      "clientv3's kill -9 -> Down, split as etcdisc's is in section 3: ",
      f.go_kill_split, ".\n\n");
  return f;
}

}  // namespace etcdisc::bench
