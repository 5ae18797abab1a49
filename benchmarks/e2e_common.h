// The pieces of the end-to-end benchmark shared by its sections: helper
// processes (this same binary in another role) that print timestamped lines,
// and the report's table rows.
#ifndef ETCDISC_BENCHMARKS_E2E_COMMON_H_
#define ETCDISC_BENCHMARKS_E2E_COMMON_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "benchmarks/bench_util.h"
#include "etcd/etcd_client.h"
#include "etcdisc/client.h"
#include "support/process.h"

namespace etcdisc::bench {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::BackgroundProcess;

// This binary, for starting helpers (set by main).
extern std::string self_path;

// Prints `line` on stdout at once: a helper's output to the measuring process.
void Emit(const std::string& line);
// A client of `endpoints`, with TLS and the etcd user from the environment
// (the secure phase sets ETCD_CACERT, ETCD_USER and ETCD_PASSWORD). Exits
// the process when it cannot be made.
std::unique_ptr<Client> MakeClient(const std::string& endpoints,
                                   const std::string& key_prefix = "");

// A client of the etcd layer alone (no discovery), plain, of `endpoints`.
// Exits the process when it cannot be made.
std::unique_ptr<internal::EtcdClient> RawClient(const std::string& endpoints);

// The samples of a register -> New p99 set beside an idle one: 300 made a
// p99 that moved by 2x between runs.
constexpr int kLoadedSamples = 1000;

// Register -> the "N <uuid>" line of `watcher`, kLoadedSamples times after 20 for
// warm-up, each registration stopped and its "D" awaited before the next.
Summary RegisterToNew(Client& client, BackgroundProcess& watcher,
                      const std::string& service);

// A write -> event latency split in two, sample by sample: until the writer
// had its answer (first), then until the watcher saw it (second).
using LatencySplit = std::pair<std::vector<double>, std::vector<double>>;

// Registers and stops a host of `service` `samples` times (after 50 for
// warm-up), timing Register -> New and Stop -> Down as `watcher` sees them.
// Each registration is stopped once its New was seen and `before_stop` (if
// any) has returned. With `split`, each Register -> New is also split in
// two: Register() until the answer of the registration's Txn reached the
// client (its connection's answer hook), into split->first, and from then
// until the New, into split->second.
void RegisterAndStop(Client& client, BackgroundProcess& watcher,
                     const std::string& service, int samples,
                     std::vector<double>* reg_new, std::vector<double>* stop_down,
                     const RegisterOptions& options = RegisterOptions(),
                     const std::function<void()>& before_stop = nullptr,
                     LatencySplit* split = nullptr);

// CPU time process `pid` has used so far (user + system), in milliseconds;
// exits when it cannot be read.
double CpuMs(pid_t pid);

// The CPU a set of processes uses from Start on.
struct CpuMeter {
  std::vector<double> ms;  // Per process, at the start.
  std::vector<pid_t> pids;
  void Start(std::vector<pid_t> p) {
    pids = std::move(p);
    ms.clear();
    for (pid_t pid : pids) ms.push_back(CpuMs(pid));
  }
  // CPU seconds per second of `wall_s` since Start, over all of them.
  double Cores(double wall_s) const {
    double used = 0;
    for (size_t i = 0; i < pids.size(); ++i) used += CpuMs(pids[i]) - ms[i];
    return used / 1000.0 / wall_s;
  }
};

// etcd's own figures from its /metrics page at `endpoint`, by name (labels
// included); empty when the page could not be read.
std::map<std::string, double> EtcdMetrics(const std::string& endpoint);
// One of them; -1 when absent.
double Figure(const std::map<std::string, double>& figures, const std::string& name);

// `method`'s calls in `metrics`; nullptr when it was never called.
const CallMetrics* FindCall(const ClientMetrics& metrics, const std::string& method);
// The LeaseGrant calls `client` has made so far.
uint64_t LeaseGrantsMade(const Client& client);

// "| name | n | p50 | p90 | p99 | max |" in ms.
std::string Row(const std::string& name, const Summary& s);
// Reads lines from `watcher` until one ends with " <tag> <id>"; returns its
// timestamp (ns), or -1 after `timeout`.
int64_t AwaitEvent(BackgroundProcess& watcher, const std::string& tag,
                   const std::string& id, milliseconds timeout);
// Starts `argv` and waits for its READY line (the rest of it kept in `ready`
// if asked for). Exits when it does not come.
std::unique_ptr<BackgroundProcess> StartHelper(
    const std::vector<std::string>& argv, std::string* ready = nullptr,
    const std::map<std::string, std::string>& env = {});
// StartHelper of this binary in a helper role.
std::unique_ptr<BackgroundProcess> Helper(
    std::vector<std::string> args, std::string* ready = nullptr,
    const std::map<std::string, std::string>& env = {});

// Waits until a random point of etcd's expiry scan, which runs every 500 ms:
// call it before starting each victim of a kill loop. A victim started right
// after the previous one's Down (which that scan produced) would grant its
// lease, and so reach its end, at nearly the same point of every scan cycle,
// and each kill would wait the same (nearly the longest) time for the scan.
void WaitRandomPointOfExpiryScan(std::mt19937& rng);

// Waits until a random point of a keep-alive cycle of 2 s / 3, then kills
// `victim` -9 and reaps it; returns when it was killed (NowNs).
int64_t KillAtRandomPoint(BackgroundProcess& victim, std::mt19937& rng);

// kill -9 -> Down, split at the lease's end as its holder knew it. A victim
// prints "<ns> K <uuid>" at each refresh of its lease; its last one before
// the kill, plus the TTL, is when the lease ends. `left`: what the lease
// had left at the kill (the client's part: how recently it refreshed);
// `after`: from that end to the Down (etcd's part: its expiry scan, the
// revoke through raft, the delivery).
struct KillSplit {
  std::vector<double> total, left, after;  // ms, one per kill
};
// Adds one kill to `split`: killed and down at `killed_ns` and `down_ns`,
// `lines` all the victim printed. Exits when no refresh came before the kill.
void AddKill(int64_t killed_ns, int64_t down_ns,
             const std::vector<std::string>& lines, milliseconds ttl,
             KillSplit* split);
// "median total = median left + median after" in words, for a report.
std::string DescribeSplit(const KillSplit& split);

}  // namespace etcdisc::bench

#endif  // ETCDISC_BENCHMARKS_E2E_COMMON_H_
