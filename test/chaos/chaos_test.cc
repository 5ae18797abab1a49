// The chaos suite: registrar and subscriber processes on a 3-member etcd
// cluster while members are killed, restarted, paused, and the keyspace is
// compacted, also while a subscriber is cut off or frozen. At the end every
// subscriber's view must match etcd, with no event repeated or out of order,
// every ServiceView in them (the last OnChange call) must equal etcd too, with
// revisions never going back, and every registration still held must be in
// etcd. The registrars are also members of a cluster, killed -9 and started
// again under the same node id: every subscriber's view of the members must
// see each incarnation up once and down once, never two of one node at once,
// and end equal to etcd; and every incarnation that went down must have been
// cleaned up after (OnNodeDown, once per cluster) at least once.
//
// ETCDISC_CHAOS_SECONDS sets how long faults are injected (default 120).
#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "etcdisc/client.h"
#include "etcdisc/membership.h"
#include "gtest/gtest.h"
#include "support/etcd_cluster.h"
#include "support/process.h"
#include "support/wait.h"
#include "test/chaos/chaos_log.h"

namespace etcdisc::chaos {
namespace {

using ::etcdisc::testing::BackgroundProcess;
using ::etcdisc::testing::DescribeProcess;
using ::etcdisc::testing::EtcdCluster;
using ::etcdisc::testing::EtcdClusterOptions;
using ::etcdisc::testing::ProcessResult;
using ::etcdisc::testing::RunProcess;
using ::etcdisc::testing::WaitFor;
using std::chrono::milliseconds;
using std::chrono::seconds;

const char kServices[] = "svc-a,svc-b,svc-c";

std::vector<std::vector<std::string>> ReadLog(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::vector<std::string>> lines;
  std::string line;
  while (std::getline(in, line)) {
    lines.push_back(absl::StrSplit(line, ' ', absl::SkipEmpty()));
  }
  return lines;
}

// What one subscriber's log says, checked as it is replayed.
struct SubscriberView {
  std::string name;
  std::map<std::string, std::set<std::string>> live;  // service -> uuids
  // What the ServiceViews' last OnChange calls had, and at which revision.
  std::map<std::string, std::set<std::string>> view_live;
  std::map<std::string, int64_t> view_revision;
  int view_calls = 0;
  std::map<std::string, int64_t> first_seen_ms;       // uuid -> NEW time
  std::map<std::string, int64_t> down_ms;             // uuid -> last DOWN
  std::set<std::string> ever_new;
  // The members of "chaos" its ClusterView shows: node -> revision.
  std::map<std::string, int64_t> members;
  std::map<std::string, int64_t> last_incarnation;  // node -> highest revision
  std::set<std::string> downs;  // "node@revision" of every down seen
  int member_events = 0;
  std::vector<std::string> errors;
  int events = 0;
  int64_t resyncs = -1;
  bool ready = false;
};

// "VIEW ms service revision uuids": the view's whole state, never older than
// the one before.
void ReplayViewLine(const std::vector<std::string>& f, SubscriberView* view) {
  ++view->view_calls;
  const int64_t revision = std::atoll(f[3].c_str());
  int64_t& last = view->view_revision[f[2]];
  if (revision < last) {
    view->errors.push_back(absl::StrCat("view of ", f[2], " went back from revision ",
                                        last, " to ", revision));
  }
  last = revision;
  auto& live = view->view_live[f[2]];
  live.clear();
  if (f[4] == "-") return;
  for (absl::string_view uuid : absl::StrSplit(f[4], ',')) live.emplace(uuid);
}

// "MEMBER ms up|down node revision": one incarnation of a node at a time,
// each up once and down once, in revision order.
void ReplayMemberLine(const std::vector<std::string>& f, SubscriberView* view) {
  ++view->member_events;
  const std::string& node = f[3];
  const int64_t revision = std::atoll(f[4].c_str());
  auto live = view->members.find(node);
  if (f[2] == "up") {
    if (live != view->members.end()) {
      view->errors.push_back(absl::StrCat("up of ", node, "@", revision,
                                          " while ", node, "@", live->second,
                                          " is live"));
    }
    int64_t& last = view->last_incarnation[node];
    if (revision <= last) {
      view->errors.push_back(absl::StrCat("up of ", node, "@", revision,
                                          " after ", node, "@", last));
    }
    last = std::max(last, revision);
    view->members[node] = revision;
  } else if (live == view->members.end() || live->second != revision) {
    view->errors.push_back(
        absl::StrCat("down of ", node, "@", revision, ", not live"));
  } else {
    view->members.erase(live);
    view->downs.insert(absl::StrCat(node, "@", revision));
  }
}

// Hosts by service with the services that have none left out: the maps the
// test compares (etcd's, the registrars', each subscriber's) then agree on
// a service whose hosts are all gone, whether or not one of them saw it.
std::map<std::string, std::set<std::string>> WithoutEmpty(
    std::map<std::string, std::set<std::string>> hosts) {
  for (auto it = hosts.begin(); it != hosts.end();) {
    it = it->second.empty() ? hosts.erase(it) : std::next(it);
  }
  return hosts;
}

SubscriberView Replay(const std::string& name, const std::string& path) {
  SubscriberView view;
  view.name = name;
  for (const auto& f : ReadLog(path)) {
    if (f.empty()) continue;
    if (f[0] == "READY") view.ready = true;
    if (f[0] == "RESYNCS" && f.size() == 2) view.resyncs = std::atoll(f[1].c_str());
    if (f[0] == "CLOSED") view.errors.push_back(absl::StrJoin(f, " "));
    if (f[0] == "VIEW" && f.size() == 5) ReplayViewLine(f, &view);
    if (f[0] == "MEMBER" && f.size() == 5) ReplayMemberLine(f, &view);
    if ((f[0] != "NEW" && f[0] != "DOWN") || f.size() != 4) continue;
    ++view.events;
    const int64_t ms = std::atoll(f[1].c_str());
    auto& live = view.live[f[2]];
    if (f[0] == "NEW") {
      if (!live.insert(f[3]).second) {
        view.errors.push_back("NEW repeated for live host " + f[3]);
      }
      view.ever_new.insert(f[3]);
      view.first_seen_ms.emplace(f[3], ms);
    } else {
      if (live.erase(f[3]) == 0) {
        view.errors.push_back("DOWN for a host not live: " + f[3]);
      }
      view.down_ms[f[3]] = ms;
    }
  }
  view.live = WithoutEmpty(std::move(view.live));
  view.view_live = WithoutEmpty(std::move(view.view_live));
  return view;
}

class ChaosTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EtcdClusterOptions options;
    options.members = 3;
    if (Secure()) {
      options.tls = EtcdClusterOptions::Tls::kServer;
      options.auth = true;
    }
    auto cluster = EtcdCluster::Start(options);
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = *std::move(cluster);
    dir_ = ::testing::TempDir() + "/etcdisc-chaos-" + std::to_string(::getpid());
    std::filesystem::create_directories(dir_);
    const char* seconds_env = std::getenv("ETCDISC_CHAOS_SECONDS");
    duration_ = seconds(seconds_env ? std::atoi(seconds_env) : 120);
  }

  // ETCDISC_CHAOS_SECURE=1: etcd with TLS and authentication, every process
  // a password user (registrar) that gets its token anew after each restart.
  static bool Secure() {
    const char* secure = std::getenv("ETCDISC_CHAOS_SECURE");
    return secure != nullptr && std::string(secure) == "1";
  }
  // The environment of the registrar and subscriber processes: TLS and the
  // user, as ClientOptionsFromEnvironment reads them.
  std::map<std::string, std::string> ChildEnv() const {
    if (!Secure()) return {};
    return {{"ETCD_CACERT", cluster_->certs().ca_file},
            {"ETCD_USER", "registrar"},
            {"ETCD_PASSWORD", cluster_->Password("registrar")}};
  }

  std::unique_ptr<BackgroundProcess> StartSubscriber(const std::string& name,
                                                     const std::string& endpoints,
                                                     bool existing) {
    std::vector<std::string> argv = {ETCDISC_CHAOS_SUBSCRIBER, endpoints,
                                     kServices, Path(name)};
    if (existing) argv.push_back("existing");
    auto process = std::make_unique<BackgroundProcess>(argv, ChildEnv());
    EXPECT_TRUE(WaitFor([&] { return Replay(name, Path(name)).ready; }, seconds(60)))
        << name << " did not start";
    return process;
  }
  std::string Path(const std::string& name) const { return dir_ + "/" + name + ".log"; }

  // etcd's host keys now: service -> uuids.
  // A client of the whole cluster, as the child processes log in.
  absl::StatusOr<std::unique_ptr<Client>> CheckingClient() const {
    ClientOptions options;
    options.endpoints = cluster_->endpoints();
    options.tls = cluster_->ClientTls();
    if (Secure()) options.auth = cluster_->ClientAuth("registrar");
    return Client::Create(options);
  }

  // etcd's host keys now: service -> uuids; nothing if etcd could not be
  // read (the caller waits and asks again).
  static std::optional<std::map<std::string, std::set<std::string>>> EtcdState(
      Client& client) {
    std::map<std::string, std::set<std::string>> state;
    for (absl::string_view service : absl::StrSplit(kServices, ',')) {
      auto hosts = client.Get(service);
      if (!hosts.ok()) return std::nullopt;
      auto& set = state[std::string(service)];
      for (const Host& h : hosts->All().value_or(std::vector<Host>{})) {
        set.insert(h.uuid);
      }
    }
    return WithoutEmpty(std::move(state));
  }

  // etcd's members of "chaos" now: node -> revision; nothing if etcd could
  // not be read.
  static std::optional<std::map<std::string, int64_t>> EtcdMembers(
      Client& client) {
    std::map<std::string, int64_t> members;
    auto read = Members(client, "chaos");
    if (!read.ok()) return std::nullopt;
    for (const Member& m : *read) members[m.node] = m.revision;
    return members;
  }

  // The cleanups the registrars ran: "node@revision" -> how many times.
  std::map<std::string, int> Cleanups() {
    std::map<std::string, int> runs;
    for (int r = 0; r < 3; ++r) {
      for (const auto& f : ReadLog(Path("registrar" + std::to_string(r)))) {
        if (f.size() == 4 && f[0] == "CLEANUP") ++runs[f[2] + "@" + f[3]];
      }
    }
    return runs;
  }

  // What still differs between the registrars, etcd and the subscribers'
  // logs at the end; empty when everything agrees.
  std::string Unsettled(
      const std::map<std::string, std::set<std::string>>& held,
      const std::map<std::string, std::set<std::string>>& state,
      const std::map<std::string, int64_t>& members,
      const std::map<std::string, std::unique_ptr<BackgroundProcess>>& subscribers) {
    std::string why;
    if (state != held) absl::StrAppend(&why, "\n etcd's hosts differ from the registrars'");
    if (members.size() != 3) {
      absl::StrAppend(&why, "\n etcd has ", members.size(), " members:",
                      Describe(members));
    }
    for (const auto& [name, p] : subscribers) {
      const SubscriberView view = Replay(name, Path(name));
      if (view.live != state) absl::StrAppend(&why, "\n ", name, "'s hosts differ");
      if (view.view_live != state) {
        absl::StrAppend(&why, "\n ", name, "'s ServiceViews differ");
      }
      if (view.members != members) {
        absl::StrAppend(&why, "\n ", name, "'s members:", Describe(view.members),
                        " etcd's:", Describe(members));
      }
    }
    const std::map<std::string, int> cleanups = Cleanups();
    for (const std::string& down : Replay("steady", Path("steady")).downs) {
      if (!cleanups.count(down)) absl::StrAppend(&why, "\n not cleaned up: ", down);
    }
    return why;
  }
  static std::string Describe(const std::map<std::string, int64_t>& members) {
    std::string text;
    for (const auto& [node, revision] : members) {
      absl::StrAppend(&text, " ", node, "@", revision);
    }
    return text;
  }
  // The lines of a log whose first word is one of `kinds`, as logged.
  static std::vector<std::string> LinesOf(const std::string& path,
                                          const std::set<std::string>& kinds) {
    std::vector<std::string> lines;
    for (const auto& f : ReadLog(path)) {
      if (!f.empty() && kinds.count(f[0])) lines.push_back(absl::StrJoin(f, " "));
    }
    return lines;
  }
  // The registrars' last lines about their membership.
  std::string RegistrarMembershipLines() {
    std::string text;
    for (int r = 0; r < 3; ++r) {
      std::vector<std::string> lines =
          LinesOf(Path("registrar" + std::to_string(r)),
                  {"MSTATUS", "JOINED", "JOINFAILED", "CLEANUP"});
      if (lines.size() > 8) lines.erase(lines.begin(), lines.end() - 8);
      absl::StrAppend(&text, "\n registrar", r, ":\n  ", absl::StrJoin(lines, "\n  "));
    }
    return text;
  }

  // The subscribers' lines about views whose status changed.
  std::string SubscriberStatusLines() {
    std::string text;
    for (const char* name : {"steady", "cutoff", "late"}) {
      for (const std::string& line : LinesOf(Path(name), {"VSTATUS", "CLOSED"})) {
        absl::StrAppend(&text, "\n ", name, ": ", line);
      }
    }
    return text;
  }

  // Starts registrar r and waits until it has blocked the signals the test
  // sends (SIGUSR1 would end it before then).
  std::unique_ptr<BackgroundProcess> StartRegistrar(int r) {
    const std::string path = Path("registrar" + std::to_string(r));
    auto process = std::make_unique<BackgroundProcess>(
        std::vector<std::string>{ETCDISC_CHAOS_REGISTRAR, cluster_->endpoints(),
                                 kServices, std::to_string(r + 1), path},
        ChildEnv());
    const std::string pid = std::to_string(process->pid());
    EXPECT_TRUE(WaitFor(
        [&] {
          for (const std::string& line : LinesOf(path, {"START"})) {
            if (absl::EndsWith(line, " " + pid)) return true;
          }
          return false;
        },
        seconds(30)))
        << "registrar " << r << " did not start: " << process->HowItEnded();
    return process;
  }

  std::unique_ptr<EtcdCluster> cluster_;
  std::string dir_;
  seconds duration_{120};
};

TEST_F(ChaosTest, SubscribersMatchEtcdAfterMinutesOfFaults) {
  std::mt19937 rng(std::random_device{}());
  const auto pick = [&](int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(rng);
  };
  // steady: all endpoints; cutoff: member 2 only, so that killing it cuts
  // the subscriber off while the keyspace is compacted.
  std::map<std::string, std::unique_ptr<BackgroundProcess>> subscribers;
  subscribers["steady"] = StartSubscriber("steady", cluster_->endpoints(), false);
  subscribers["cutoff"] = StartSubscriber("cutoff", cluster_->endpoint(2), false);
  std::vector<std::unique_ptr<BackgroundProcess>> registrars;
  for (int r = 0; r < 3; ++r) registrars.push_back(StartRegistrar(r));

  std::map<std::string, int> faults;
  const auto compact = [&] {
    auto revision = cluster_->Revision();
    if (revision.ok() && cluster_->Compact(*revision).ok()) ++faults["compaction"];
  };
  const auto until = std::chrono::steady_clock::now() + duration_;
  bool late_started = false;
  while (std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(milliseconds(pick(2000, 5000)));
    if (!late_started && std::chrono::steady_clock::now() > until - duration_ / 2) {
      // A Get-then-watch view joining in the middle of it all.
      subscribers["late"] = StartSubscriber("late", cluster_->endpoints(), true);
      late_started = true;
    }
    switch (pick(0, 5)) {
      case 0: {  // kill -9 a member, the leader half of the time
        auto leader = cluster_->Leader(seconds(5));
        const int victim = leader.ok() && pick(0, 1) ? *leader : pick(0, 2);
        ASSERT_TRUE(cluster_->Kill(victim).ok());
        ++faults[leader.ok() && victim == *leader ? "kill leader" : "kill member"];
        std::this_thread::sleep_for(milliseconds(pick(1000, 4000)));
        ASSERT_TRUE(cluster_->Restart(victim).ok()) << cluster_->LogTail(victim);
        break;
      }
      case 1: {  // pause a member past the election timeout
        const int victim = pick(0, 2);
        ASSERT_TRUE(cluster_->Pause(victim).ok());
        ++faults["pause member"];
        std::this_thread::sleep_for(milliseconds(pick(1000, 3000)));
        ASSERT_TRUE(cluster_->Resume(victim).ok());
        break;
      }
      case 2: {  // compact while the cut-off subscriber's member is down
        ASSERT_TRUE(cluster_->Kill(2).ok());
        ++faults["kill member"];
        std::this_thread::sleep_for(milliseconds(pick(1500, 3000)));
        compact();
        ASSERT_TRUE(cluster_->Restart(2).ok()) << cluster_->LogTail(2);
        break;
      }
      case 3: {  // compact while a subscriber is frozen (slow consumer)
        subscribers["steady"]->Signal(SIGSTOP);
        ++faults["freeze subscriber"];
        std::this_thread::sleep_for(milliseconds(pick(1000, 3000)));
        compact();
        subscribers["steady"]->Signal(SIGCONT);
        break;
      }
      case 4: {  // kill -9 a registrar, and start it again at once
        const int victim = pick(0, 2);
        registrars[victim]->Signal(SIGKILL);
        registrars[victim]->Wait(seconds(10));
        registrars[victim] = StartRegistrar(victim);
        ++faults["kill registrar"];
        break;
      }
      default:
        compact();
    }
  }

  // Quiet down: registrars stop churning and say what they hold.
  for (auto& r : registrars) r->Signal(SIGUSR1);
  std::map<std::string, std::set<std::string>> held;  // uuid -> service
  std::set<std::string> registered;
  for (int r = 0; r < 3; ++r) {
    const std::string path = Path("registrar" + std::to_string(r));
    ASSERT_TRUE(WaitFor(
        [&] { return !LinesOf(path, {"QUIET"}).empty(); },
        seconds(60)))
        << "registrar " << r << " did not go quiet: "
        << DescribeProcess(*registrars[r]);
    for (const auto& f : ReadLog(path)) {
      if (f.size() == 3 && f[0] == "LIVE") held[f[1]].insert(f[2]);
      if (f.size() == 4 && f[0] == "REG") registered.insert(f[3]);
    }
  }
  // Hosts stopped while etcd failed to hear it expire with their 2 s TTL;
  // then etcd and every subscriber must agree.
  std::map<std::string, std::set<std::string>> final_state;
  std::map<std::string, int64_t> final_members;
  std::string unsettled;
  const bool settled = WaitFor(
      [&] {
        auto client = CheckingClient();
        std::optional<std::map<std::string, std::set<std::string>>> state;
        std::optional<std::map<std::string, int64_t>> members;
        if (client.ok()) {
          state = EtcdState(**client);
          members = EtcdMembers(**client);
        }
        if (!state || !members) {
          unsettled = "\n etcd could not be read";
          return false;
        }
        final_state = *std::move(state);
        final_members = *std::move(members);
        unsettled = Unsettled(held, final_state, final_members, subscribers);
        return unsettled.empty();
      },
      seconds(60));
  ASSERT_TRUE(settled) << "not settled after 60 s:" << unsettled
                       << RegistrarMembershipLines() << SubscriberStatusLines();

  for (auto& [name, p] : subscribers) p->Signal(SIGTERM);
  for (auto& [name, p] : subscribers) EXPECT_EQ(p->Wait(seconds(30)), 0) << name;
  for (auto& r : registrars) r->Signal(SIGTERM);

  int events = 0;
  int64_t longest_behind_ms = 0;
  std::map<std::string, int64_t> reg_ms;
  for (int r = 0; r < 3; ++r) {
    for (const auto& f : ReadLog(Path("registrar" + std::to_string(r)))) {
      if (f.size() == 4 && f[0] == "REG") reg_ms.emplace(f[3], std::atoll(f[1].c_str()));
    }
  }
  for (const auto& [name, p] : subscribers) {
    const SubscriberView view = Replay(name, Path(name));
    events += view.events;
    EXPECT_TRUE(view.errors.empty())
        << name << ": " << absl::StrJoin(view.errors, "; ");
    EXPECT_EQ(view.live, final_state) << name;
    EXPECT_EQ(view.view_live, final_state) << name << "'s ServiceViews";
    EXPECT_EQ(view.members, final_members) << name << "'s ClusterView";
    if (name == "steady" && view.resyncs == 0) {
      // Never re-read: it must have seen every registration.
      for (const std::string& uuid : registered) {
        EXPECT_TRUE(view.ever_new.count(uuid)) << name << " missed " << uuid;
      }
    }
    // The late view starts with hosts registered before it existed: how far
    // behind it was says nothing about delivery.
    for (const auto& [uuid, seen] : view.first_seen_ms) {
      if (name == "late") break;
      auto reg = reg_ms.find(uuid);
      if (reg != reg_ms.end()) {
        longest_behind_ms = std::max(longest_behind_ms, seen - reg->second);
      }
    }
    std::printf("chaos: subscriber %-6s events %5d resyncs %lld view calls %d "
                "member events %d\n",
                name.c_str(), view.events, static_cast<long long>(view.resyncs),
                view.view_calls, view.member_events);
  }
  int cleaned_twice = 0;
  for (const auto& [incarnation, n] : Cleanups()) cleaned_twice += n > 1;
  std::printf("chaos: members down %zu, of which cleaned up more than once "
              "%d (when a claimant was killed before it finished)\n",
              Replay("steady", Path("steady")).downs.size(), cleaned_twice);
  std::string fault_text;
  int fault_count = 0;
  for (const auto& [kind, n] : faults) {
    fault_count += n;
    absl::StrAppend(&fault_text, " ", kind, "=", n);
  }
  std::printf("chaos: %lld s of faults; registrations %zu; events checked %d; "
              "faults %d:%s; longest a subscriber was behind a registration: "
              "%lld ms\n",
              static_cast<long long>(duration_.count()), registered.size(), events,
              fault_count, fault_text.c_str(), static_cast<long long>(longest_behind_ms));
}

}  // namespace
}  // namespace etcdisc::chaos
