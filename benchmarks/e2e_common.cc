#include "benchmarks/e2e_common.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "discovery/client_access.h"
#include "discovery/options.h"
#include "httplib.h"
#include "util/proc_files.h"

namespace etcdisc::bench {

std::string self_path;

void Emit(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

std::unique_ptr<Client> MakeClient(const std::string& endpoints,
                                   const std::string& key_prefix) {
  absl::StatusOr<ClientOptions> options = ClientOptionsFromEnvironment();
  if (!options.ok()) {
    std::fprintf(stderr, "%s\n", options.status().ToString().c_str());
    std::exit(1);
  }
  options->endpoints = endpoints;
  if (!key_prefix.empty()) options->key_prefix = key_prefix;
  auto client = Client::Create(*options);
  if (!client.ok()) {
    std::fprintf(stderr, "%s\n", client.status().ToString().c_str());
    std::exit(1);
  }
  return *std::move(client);
}

std::unique_ptr<internal::EtcdClient> RawClient(const std::string& endpoints) {
  internal::EtcdClientOptions options = internal::EtcdOptionsFrom(ClientOptions());
  options.endpoints = endpoints;
  auto client = internal::EtcdClient::Create(options);
  if (!client.ok()) std::exit(1);
  return *std::move(client);
}

Summary RegisterToNew(Client& client, BackgroundProcess& watcher,
                      const std::string& service) {
  Host host;
  host.name = "10.3.0.1";
  host.ports = {{"http", "80"}};
  std::vector<double> ms;
  for (int i = -20; i < kLoadedSamples; ++i) {
    const int64_t t0 = NowNs();
    auto reg = client.Register(service, host);
    if (!reg.ok()) std::exit(1);
    const int64_t t1 = AwaitEvent(watcher, "N", (*reg)->UUID(), seconds(10));
    if (t1 < 0 || !(*reg)->Stop().ok()) std::exit(1);
    if (AwaitEvent(watcher, "D", (*reg)->UUID(), seconds(10)) < 0) std::exit(1);
    if (i >= 0) ms.push_back((t1 - t0) / 1e6);
  }
  return Summarize(ms);
}

void RegisterAndStop(Client& client, BackgroundProcess& watcher,
                     const std::string& service, int samples,
                     std::vector<double>* reg_new, std::vector<double>* stop_down,
                     const RegisterOptions& options,
                     const std::function<void()>& before_stop,
                     LatencySplit* split) {
  Host host;
  host.name = "10.0.0.1";
  host.ports = {{"http", "8080"}};
  // When the last Txn answer (the registration's write) reached the client.
  auto answered = std::make_shared<std::atomic<int64_t>>(0);
  internal::EtcdClient& etcd = internal::ClientAccess::Core(client).etcd();
  if (split != nullptr) {
    etcd.SetAnswerHookForTesting([answered](absl::string_view what, absl::Status*) {
      if (what == "Txn") answered->store(NowNs());
    });
  }
  for (int i = -50; i < samples; ++i) {
    const int64_t t0 = NowNs();
    auto reg = client.Register(service, host, options);
    if (!reg.ok()) std::exit(1);
    const int64_t t1 = AwaitEvent(watcher, "N", (*reg)->UUID(), seconds(10));
    // Registered before it stops: its Txn was answered.
    if (split != nullptr && !(*reg)->WaitRegistration(seconds(10)).ok()) std::exit(1);
    const int64_t written = answered->load();
    if (before_stop) before_stop();
    const int64_t t2 = NowNs();
    if (!(*reg)->Stop().ok()) std::exit(1);
    const int64_t t3 = AwaitEvent(watcher, "D", (*reg)->UUID(), seconds(10));
    if (t1 < 0 || t3 < 0) std::exit(1);
    if (i < 0) continue;
    reg_new->push_back((t1 - t0) / 1e6);
    stop_down->push_back((t3 - t2) / 1e6);
    if (split != nullptr) {
      split->first.push_back((written - t0) / 1e6);
      split->second.push_back((t1 - written) / 1e6);
    }
  }
  if (split != nullptr) etcd.SetAnswerHookForTesting(nullptr);
}

double CpuMs(pid_t pid) {
  const std::string stat =
      internal::ReadSmallFile("/proc/" + std::to_string(pid) + "/stat");
  const std::vector<absl::string_view> fields = internal::StatFields(stat);
  long utime = 0, stime = 0;  // stat(5)'s fields 14 and 15, in clock ticks.
  if (fields.size() < 13 || !absl::SimpleAtoi(fields[11], &utime) ||
      !absl::SimpleAtoi(fields[12], &stime)) {
    std::fprintf(stderr, "bench: cannot read the CPU time of process %d\n", pid);
    std::exit(1);
  }
  return (utime + stime) * 1000.0 / ::sysconf(_SC_CLK_TCK);
}

std::map<std::string, double> EtcdMetrics(const std::string& endpoint) {
  std::map<std::string, double> figures;
  httplib::Client http(endpoint);
  http.set_read_timeout(10, 0);
  auto res = http.Get("/metrics");
  if (!res || res->status != 200) return figures;
  for (absl::string_view line : absl::StrSplit(res->body, '\n')) {
    const size_t space = line.rfind(' ');
    if (line.empty() || line[0] == '#' || space == absl::string_view::npos) continue;
    double value = 0;
    if (absl::SimpleAtod(line.substr(space + 1), &value)) {
      figures[std::string(line.substr(0, space))] = value;
    }
  }
  return figures;
}

double Figure(const std::map<std::string, double>& figures, const std::string& name) {
  auto it = figures.find(name);
  return it == figures.end() ? -1 : it->second;
}

const CallMetrics* FindCall(const ClientMetrics& metrics, const std::string& method) {
  for (const CallMetrics& call : metrics.calls) {
    if (call.method == method) return &call;
  }
  return nullptr;
}

uint64_t LeaseGrantsMade(const Client& client) {
  const ClientMetrics metrics = client.Metrics();
  const CallMetrics* grants = FindCall(metrics, "LeaseGrant");
  return grants != nullptr ? grants->duration_seconds.count : 0;
}

std::string ms3(double v) { return absl::StrFormat("%.3f", v); }

std::string Row(const std::string& name, const Summary& s) {
  return absl::StrCat("| ", name, " | ", s.n, " | ", ms3(s.p50), " | ", ms3(s.p90),
                      " | ", ms3(s.p99), " | ", ms3(s.max), " |\n");
}

int64_t AwaitEvent(BackgroundProcess& watcher, const std::string& tag,
                   const std::string& id, milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  const std::string suffix = absl::StrCat(" ", tag, " ", id);
  while (std::chrono::steady_clock::now() < until) {
    auto line = watcher.ReadLine(milliseconds(200));
    if (!line) continue;
    if (line->size() > suffix.size() &&
        line->compare(line->size() - suffix.size(), suffix.size(), suffix) == 0) {
      return std::atoll(line->c_str());
    }
  }
  return -1;
}

std::unique_ptr<BackgroundProcess> StartHelper(
    const std::vector<std::string>& argv, std::string* ready,
    const std::map<std::string, std::string>& env) {
  auto p = std::make_unique<BackgroundProcess>(argv, env);
  // 10,000 services take a while to follow.
  auto line = p->ReadLine(seconds(300));
  if (!line || line->rfind("READY", 0) != 0) {
    std::fprintf(stderr, "helper %s %s did not start\n", argv[0].c_str(),
                 argv.size() > 1 ? argv[1].c_str() : "");
    std::exit(1);
  }
  if (ready != nullptr) *ready = line->substr(std::min<size_t>(6, line->size()));
  return p;
}

std::unique_ptr<BackgroundProcess> Helper(
    std::vector<std::string> args, std::string* ready,
    const std::map<std::string, std::string>& env) {
  args.insert(args.begin(), self_path);
  return StartHelper(args, ready, env);
}

void WaitRandomPointOfExpiryScan(std::mt19937& rng) {
  std::this_thread::sleep_for(
      milliseconds(std::uniform_int_distribution<int>(0, 500)(rng)));
}

int64_t KillAtRandomPoint(BackgroundProcess& victim, std::mt19937& rng) {
  std::this_thread::sleep_for(
      milliseconds(std::uniform_int_distribution<int>(0, 667)(rng)));
  const int64_t killed = NowNs();
  victim.Signal(SIGKILL);
  victim.Wait(seconds(5));
  return killed;
}

void AddKill(int64_t killed_ns, int64_t down_ns,
             const std::vector<std::string>& lines, milliseconds ttl,
             KillSplit* split) {
  int64_t refreshed = -1;
  for (const std::string& line : lines) {
    const size_t tag = line.find(" K ");
    const int64_t at = std::atoll(line.c_str());
    if (tag != std::string::npos && at < killed_ns) refreshed = std::max(refreshed, at);
  }
  if (refreshed < 0) {
    std::fprintf(stderr, "bench: a victim printed no refresh before its kill\n");
    std::exit(1);
  }
  const int64_t ends = refreshed + std::chrono::nanoseconds(ttl).count();
  split->total.push_back((down_ns - killed_ns) / 1e6);
  split->left.push_back((ends - killed_ns) / 1e6);
  split->after.push_back((down_ns - ends) / 1e6);
}

std::string DescribeSplit(const KillSplit& split) {
  const Summary left = Summarize(split.left), after = Summarize(split.after);
  return absl::StrFormat(
      "what the lease had left at the kill (last refresh + TTL - kill): min "
      "%.0f, median %.0f, max %.0f ms; from the lease's end to the Down "
      "(etcd's expiry scan, the revoke, the delivery): min %.0f, median %.0f, "
      "max %.0f ms",
      left.min, left.p50, left.max, after.min, after.p50, after.max);
}

}  // namespace etcdisc::bench
