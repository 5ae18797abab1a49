// A chaos subscriber: follows several services and logs every event until
// SIGTERM. With "existing", it starts with the hosts present (a Get-then-watch
// view). It also holds a ServiceView of each service on the same client and
// logs each of its OnChange calls: "VIEW ms service revision uuid,uuid...",
// and a ClusterView of the cluster "chaos", logging each up and down:
// "MEMBER ms up|down node revision".
// Usage: chaos_subscriber ENDPOINTS SERVICES(comma) LOG [existing]
#include <signal.h>

#include <atomic>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "absl/debugging/failure_signal_handler.h"
#include "absl/debugging/symbolize.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "etcdisc/client.h"
#include "etcdisc/membership.h"
#include "etcdisc/view.h"
#include "test/chaos/chaos_log.h"

using etcdisc::chaos::LogWriter;
using etcdisc::chaos::NowMs;

namespace {

// "VIEW ms service revision uuids" ("-" for none).
std::string ViewLine(const std::string& service,
                     const etcdisc::HostSnapshot& snapshot) {
  std::vector<std::string> uuids;
  for (const etcdisc::Host& host : snapshot.hosts()) uuids.push_back(host.uuid);
  return absl::StrCat("VIEW ", NowMs(), " ", service, " ", snapshot.revision(),
                      " ", uuids.empty() ? "-" : absl::StrJoin(uuids, ","));
}

}  // namespace

int main(int argc, char** argv) {
  // A crash prints its stack on stderr, which is the test's.
  absl::InitializeSymbolizer(argv[0]);
  absl::InstallFailureSignalHandler(absl::FailureSignalHandlerOptions());
  if (argc < 4) return 2;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  const std::vector<std::string> services = absl::StrSplit(argv[2], ',');
  LogWriter log(argv[3]);
  // TLS and the etcd user, if any, from the environment (ChaosTest sets them).
  auto from_environment = etcdisc::ClientOptionsFromEnvironment();
  if (!from_environment.ok()) return 1;
  etcdisc::ClientOptions options = *std::move(from_environment);
  options.endpoints = argv[1];
  options.call_timeout = std::chrono::seconds(2);
  auto client = etcdisc::Client::Create(options);
  if (!client.ok() || !log.ok()) return 1;
  etcdisc::SubscribeOptions subscribe;
  subscribe.existing = argc > 4 && std::string(argv[4]) == "existing";

  std::vector<std::unique_ptr<etcdisc::Subscription<etcdisc::HostEvent>>> subs;
  for (const std::string& service : services) {
    // The cluster may be in the middle of a fault: try until it answers.
    while (true) {
      auto sub = (*client)->Subscribe(service, subscribe);
      if (sub.ok()) {
        subs.push_back(*std::move(sub));
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  std::vector<std::unique_ptr<etcdisc::ServiceView>> views;
  for (const std::string& service : services) {
    auto view = etcdisc::ServiceView::Open(**client, service);
    if (!view.ok()) return 1;
    (*view)->OnChange([&log, service](const etcdisc::HostSnapshot& snapshot) {
      log.Line(ViewLine(service, snapshot));
    });
    views.push_back(*std::move(view));
  }
  std::unique_ptr<etcdisc::ClusterView> members;
  while (members == nullptr) {
    auto opened = etcdisc::ClusterView::Open(**client, "chaos");
    if (opened.ok()) {
      members = *std::move(opened);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  members->OnEvent([&log](const etcdisc::MembershipEvent& e) {
    if (e.kind == etcdisc::MembershipEvent::Kind::kLeader) return;
    log.Line(absl::StrCat("MEMBER ", NowMs(), " ",
                          e.kind == etcdisc::MembershipEvent::Kind::kUp ? "up"
                                                                        : "down",
                          " ", e.member.node, " ", e.member.revision));
  });
  log.Line("READY");
  std::vector<std::thread> readers;
  for (size_t i = 0; i < subs.size(); ++i) {
    readers.emplace_back([&, i] {
      while (auto e = subs[i]->Pop()) {
        const bool is_new = e->kind == etcdisc::HostEvent::Kind::kNew;
        log.Line(absl::StrCat(is_new ? "NEW " : "DOWN ", NowMs(), " ",
                              services[i], " ", e->uuid()));
      }
      if (!subs[i]->status().ok() &&
          subs[i]->status().code() != absl::StatusCode::kCancelled) {
        log.Line(absl::StrCat("CLOSED ", services[i], " ",
                              subs[i]->status().ToString()));
      }
    });
  }
  // Each second, a view whose status changed is logged (a view that ended
  // would otherwise only show as a difference at the end).
  std::map<std::string, std::string> statuses;
  const auto note_status = [&](const std::string& what, const absl::Status& s) {
    std::string& last = statuses[what];
    if (last.empty()) last = "OK";
    if (s.ToString() == last) return;
    last = s.ToString();
    log.Line(absl::StrCat("VSTATUS ", NowMs(), " ", what, " ", last));
  };
  const timespec second{1, 0};
  while (sigtimedwait(&set, nullptr, &second) != SIGTERM) {
    for (const auto& view : views) note_status(view->service(), view->status());
    note_status("members", members->status());
  }
  log.Line(absl::StrCat("RESYNCS ", (*client)->Stats().resyncs));
  for (auto& s : subs) s->Close();
  for (auto& t : readers) t.join();
  for (const auto& view : views) {
    if (!view->status().ok()) {
      log.Line(absl::StrCat("CLOSED view ", view->service(), " ",
                            view->status().ToString()));
    }
  }
  views.clear();
  if (!members->status().ok()) {
    log.Line(absl::StrCat("CLOSED members ", members->status().ToString()));
  }
  members.reset();
  log.Line("END");
  return 0;
}
