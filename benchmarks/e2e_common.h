// The pieces of the end-to-end benchmark shared by its sections: helper
// processes (this same binary in another role) that print timestamped lines,
// and the report's table rows.
#ifndef ETCDISC_BENCHMARKS_E2E_COMMON_H_
#define ETCDISC_BENCHMARKS_E2E_COMMON_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
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
std::unique_ptr<Client> MakeClient(const std::string& endpoints);

// A client of the etcd layer alone (no discovery), plain, of `endpoints`.
// Exits the process when it cannot be made.
std::unique_ptr<internal::EtcdClient> RawClient(const std::string& endpoints);

// Register -> the "N <uuid>" line of `watcher`, 300 times after 20 for
// warm-up, each registration stopped and its "D" awaited before the next.
Summary RegisterToNew(Client& client, BackgroundProcess& watcher,
                      const std::string& service);

// Registers and stops a host of `service` `samples` times (after 50 for
// warm-up), timing Register -> New and Stop -> Down as `watcher` sees them.
// Each registration is stopped `settle` after its New was seen (0: at once).
void RegisterAndStop(Client& client, BackgroundProcess& watcher,
                     const std::string& service, int samples,
                     std::vector<double>* reg_new, std::vector<double>* stop_down,
                     const RegisterOptions& options = RegisterOptions(),
                     milliseconds settle = milliseconds(0));

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

// Waits until a random point of a keep-alive cycle of 2 s / 3, then kills
// `victim` -9 and reaps it; returns when it was killed (NowNs).
int64_t KillAtRandomPoint(BackgroundProcess& victim, std::mt19937& rng);

}  // namespace etcdisc::bench

#endif  // ETCDISC_BENCHMARKS_E2E_COMMON_H_
