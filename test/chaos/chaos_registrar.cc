// A chaos registrar: registers and stops hosts of several services at random,
// logging each step, until SIGUSR1 (go quiet: log what is live) and SIGTERM.
// It is also a member of the cluster "chaos" as "registrar<SEED>" (killed
// and started again under the same id by the test), and logs each cleanup
// it runs for a member that went down.
// Usage: chaos_registrar ENDPOINTS SERVICES(comma) SEED LOG
#include <signal.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "absl/debugging/failure_signal_handler.h"
#include "absl/debugging/symbolize.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "etcdisc/client.h"
#include "etcdisc/membership.h"
#include "test/chaos/chaos_log.h"

using etcdisc::chaos::LogWriter;
using etcdisc::chaos::NowMs;

int main(int argc, char** argv) {
  // A crash prints its stack on stderr, which is the test's.
  absl::InitializeSymbolizer(argv[0]);
  absl::InstallFailureSignalHandler(absl::FailureSignalHandlerOptions());
  if (argc != 5) return 2;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  const std::vector<std::string> services = absl::StrSplit(argv[2], ',');
  std::mt19937 rng(static_cast<unsigned>(std::atoi(argv[3])));
  LogWriter log(argv[4]);
  // From here SIGUSR1 and SIGTERM wait for us: the test may send them.
  log.Line(absl::StrCat("START ", NowMs(), " ", ::getpid()));
  // TLS and the etcd user, if any, from the environment (ChaosTest sets them).
  auto from_environment = etcdisc::ClientOptionsFromEnvironment();
  if (!from_environment.ok()) return 1;
  etcdisc::ClientOptions options = *std::move(from_environment);
  options.endpoints = argv[1];
  options.call_timeout = std::chrono::seconds(2);
  auto client = etcdisc::Client::Create(options);
  if (!client.ok() || !log.ok()) return 1;

  // The cluster may be in the middle of a fault: try until it answers.
  const std::string node = absl::StrCat("registrar", argv[3]);
  etcdisc::JoinOptions join;
  join.ttl = std::chrono::seconds(2);
  std::unique_ptr<etcdisc::Membership> member;
  while (member == nullptr) {
    auto joined = etcdisc::Join(**client, "chaos", node, join);
    if (joined.ok()) {
      member = *std::move(joined);
    } else {
      log.Line(absl::StrCat("JOINFAILED ", NowMs(), " ", joined.status().ToString()));
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  log.Line(absl::StrCat("JOINED ", NowMs(), " ", node, " ", member->revision()));
  auto cleanup = member->OnNodeDown([&log](const etcdisc::Member& down) {
    log.Line(absl::StrCat("CLEANUP ", NowMs(), " ", down.node, " ", down.revision));
  });
  if (!cleanup.ok()) return 1;

  struct Live {
    std::string service;
    std::unique_ptr<etcdisc::Registration> registration;
  };
  std::vector<Live> live;
  std::string member_status;
  bool quiet = false;
  int next_host = 0;
  while (true) {
    timespec wait{0, std::uniform_int_distribution<long>(50, 400)(rng) * 1000000L};
    const int signal = sigtimedwait(&set, nullptr, &wait);
    if (signal == SIGTERM) break;
    const std::string status_now =
        absl::StrCat(member->revision(), " ", member->status().ToString());
    if (status_now != member_status) {
      member_status = status_now;
      log.Line(absl::StrCat("MSTATUS ", NowMs(), " ", status_now));
    }
    if (signal == SIGUSR1 && !quiet) {
      quiet = true;
      for (const Live& l : live) {
        log.Line(absl::StrCat("LIVE ", l.service, " ", l.registration->UUID()));
      }
      log.Line("QUIET");
    }
    if (quiet) continue;
    const bool add = live.size() < 4 ||
                     (live.size() < 12 && std::uniform_int_distribution<int>(0, 1)(rng));
    if (add) {
      const std::string service =
          services[std::uniform_int_distribution<size_t>(0, services.size() - 1)(rng)];
      etcdisc::Host host;
      host.name = absl::StrCat("10.", std::atoi(argv[3]) % 250, ".", next_host / 250,
                               ".", next_host % 250);
      ++next_host;
      host.ports = {{"http", "8080"}};
      etcdisc::RegisterOptions ro;
      ro.ttl = std::chrono::seconds(2);
      auto reg = (*client)->Register(service, host, ro);
      if (!reg.ok()) continue;
      // It may take a while during faults; it registers by itself anyway.
      if ((*reg)->WaitRegistration(std::chrono::seconds(15)).ok()) {
        log.Line(absl::StrCat("REG ", NowMs(), " ", service, " ", (*reg)->UUID()));
        live.push_back({service, *std::move(reg)});
      }
    } else {
      const size_t i = std::uniform_int_distribution<size_t>(0, live.size() - 1)(rng);
      const std::string uuid = live[i].registration->UUID();
      const absl::Status stopped = live[i].registration->Stop();
      log.Line(absl::StrCat("STOP ", NowMs(), " ", live[i].service, " ", uuid,
                            stopped.ok() ? " ok" : " error"));
      live.erase(live.begin() + i);
    }
  }
  return 0;
}
