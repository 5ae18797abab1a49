// Cluster membership against a real etcd: joining, unique ids, views of the
// members, the leader, and cleanup run once.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "discovery/json.h"
#include "etcdisc/log.h"
#include "etcdisc/membership.h"
#include "gtest/gtest.h"
#include "discovery/client_access.h"
#include "membership/member_record.h"
#include "membership/membership_access.h"
#include "membership/node_key.h"
#include "support/discovery_test.h"
#include "support/process.h"
#include "support/wait.h"

namespace etcdisc {
namespace {

using ::etcdisc::internal::MembershipAccess;
using ::etcdisc::testing::BackgroundProcess;
using ::etcdisc::testing::DiscoveryTest;
using ::etcdisc::testing::WaitFor;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Every event a view passed to its callback.
class EventLog {
 public:
  void Record(const MembershipEvent& e) {
    std::lock_guard<std::mutex> lock(mu_);
    events_.push_back(e);
  }
  std::vector<MembershipEvent> events() const {
    std::lock_guard<std::mutex> lock(mu_);
    return events_;
  }
  // "up n1@12", "down n1@12", "leader n2@15" (or "leader -"), in order.
  std::vector<std::string> Lines() const {
    std::vector<std::string> out;
    for (const MembershipEvent& e : events()) {
      const char* kind = e.kind == MembershipEvent::Kind::kUp     ? "up"
                         : e.kind == MembershipEvent::Kind::kDown ? "down"
                                                                   : "leader";
      out.push_back(e.member.node.empty()
                        ? absl::StrCat(kind, " -")
                        : absl::StrCat(kind, " ", e.member.node, "@",
                                       e.member.revision));
    }
    return out;
  }
  bool Has(const std::string& line) const {
    for (const std::string& l : Lines()) {
      if (l == line) return true;
    }
    return false;
  }
  // The index of `line`, or -1.
  int IndexOf(const std::string& line) const {
    const std::vector<std::string> lines = Lines();
    for (size_t i = 0; i < lines.size(); ++i) {
      if (lines[i] == line) return static_cast<int>(i);
    }
    return -1;
  }

 private:
  mutable std::mutex mu_;
  std::vector<MembershipEvent> events_;
};

std::string At(const std::string& node, int64_t revision) {
  return absl::StrCat(node, "@", revision);
}

class MembershipTest : public DiscoveryTest {
 protected:
  // Each member has a client of its own, as separate processes would.
  Client& NewMemberClient() {
    clients_.push_back(NewDiscoveryClient());
    return *clients_.back();
  }
  std::unique_ptr<Membership> MustJoin(const std::string& node,
                                       JoinOptions options = {}) {
    auto member = Join(NewMemberClient(), "chat", node, options);
    EXPECT_TRUE(member.ok()) << member.status();
    return member.ok() ? *std::move(member) : nullptr;
  }
  // A view of "chat" whose events go to `log`.
  std::unique_ptr<ClusterView> MustWatch(EventLog* log) {
    auto view = ClusterView::Open(discovery(), "chat");
    EXPECT_TRUE(view.ok()) << view.status();
    if (!view.ok()) return nullptr;
    (*view)->OnEvent([log](const MembershipEvent& e) { log->Record(e); });
    return *std::move(view);
  }
  // The node ids etcd holds for "chat", oldest first.
  std::vector<std::string> EtcdNodes() {
    std::vector<std::string> nodes;
    auto members = etcdisc::Members(discovery(), "chat");
    EXPECT_TRUE(members.ok()) << members.status();
    if (!members.ok()) return nodes;
    for (const Member& m : *members) nodes.push_back(m.node);
    return nodes;
  }
  static std::vector<std::string> Nodes(const std::vector<Member>& members) {
    std::vector<std::string> nodes;
    for (const Member& m : members) nodes.push_back(m.node);
    return nodes;
  }
  // A lease granted by the test's own etcd-layer client.
  int64_t MustGrant(seconds ttl) {
    auto grant = client().lease().Grant(ttl);
    EXPECT_TRUE(grant.ok()) << grant.status();
    return grant.ok() ? grant->id : 0;
  }
  // Writes a member record as a process on another machine would.
  int64_t PutForeignMember(const std::string& node, int64_t lease) {
    return MustPut(
        "/clusters/chat/nodes/" + node,
        R"({"node":")" + node +
            R"(","hostname":"far-away","since":"2026-11-30T00:00:00.000Z",)"
            R"("meta":{},"process":"another-boot:4026531836:4242:99"})",
        lease);
  }
  // The CLI holding a membership, in a process of its own.
  std::unique_ptr<BackgroundProcess> StartCliMember(const std::string& node,
                                                    const std::string& ttl) {
    return std::make_unique<BackgroundProcess>(
        std::vector<std::string>{ETCDISC_CLI_PATH, "cluster", "join", "chat",
                                 "--node=" + node, "--ttl=" + ttl, "--json"},
        std::map<std::string, std::string>{
            {"ETCD_HOSTS", cluster().endpoints()}});
  }
  // The create revision of `node`'s key, once it is there.
  int64_t WaitForNode(const std::string& node) {
    int64_t revision = 0;
    EXPECT_TRUE(WaitFor(
        [&] {
          auto members = etcdisc::Members(discovery(), "chat");
          if (!members.ok()) return false;
          for (const Member& m : *members) {
            if (m.node == node) revision = m.revision;
          }
          return revision != 0;
        },
        seconds(20)));
    return revision;
  }

  void TearDown() override {
    clients_.clear();
    DiscoveryTest::TearDown();
  }

 private:
  std::vector<std::unique_ptr<Client>> clients_;
};

TEST_F(MembershipTest, JoinWritesALeasedRecordThatMembersReadsBack) {
  JoinOptions options;
  options.meta = {{"zone", "eu-1"}, {"port", "3000"}};
  const auto before = std::chrono::system_clock::now();
  auto member = MustJoin("node1", options);
  ASSERT_NE(member, nullptr);
  EXPECT_TRUE(member->status().ok()) << member->status();
  EXPECT_EQ(member->node(), "node1");
  EXPECT_EQ(member->cluster(), "chat");

  auto members = etcdisc::Members(discovery(), "chat");
  ASSERT_TRUE(members.ok()) << members.status();
  ASSERT_EQ(members->size(), 1u);
  const Member& m = (*members)[0];
  EXPECT_EQ(m.node, "node1");
  EXPECT_EQ(m.hostname, "test-machine");
  EXPECT_EQ(m.meta, options.meta);
  EXPECT_EQ(m.revision, member->revision());
  EXPECT_GE(m.since, before - seconds(1));
  EXPECT_LE(m.since, std::chrono::system_clock::now() + seconds(1));
  // Under a lease, in the documented place, readable as JSON.
  EXPECT_NE(RawLease("/clusters/chat/nodes/node1"), 0);
  auto json = internal::ParseJson(RawValue("/clusters/chat/nodes/node1"));
  ASSERT_TRUE(json.ok()) << json.status();
  ASSERT_NE(json->Find("process"), nullptr);
  EXPECT_TRUE(absl::StrContains(json->Find("process")->text,
                       absl::StrCat(":", getpid(), ":")));
  // The view of the member itself agrees.
  EXPECT_TRUE(WaitFor([&] { return member->view().members().size() == 1; },
                      seconds(10)));
  EXPECT_EQ(member->view().leader()->node, "node1");
}

TEST_F(MembershipTest, AJoinUnderTheIdOfARunningProcessFailsAtOnceNamingIt) {
  auto first = MustJoin("node1");
  ASSERT_NE(first, nullptr);
  const int64_t revision = first->revision();

  auto second = Join(NewMemberClient(), "chat", "node1");
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(absl::IsAlreadyExists(second.status())) << second.status();
  const std::string message(second.status().message());
  EXPECT_TRUE(absl::StrContains(message, "\"node1\"")) << message;
  EXPECT_TRUE(absl::StrContains(message, "\"chat\"")) << message;
  EXPECT_TRUE(absl::StrContains(message, absl::StrCat("PID ", getpid()))) << message;
  // The holder is untouched.
  EXPECT_TRUE(first->status().ok());
  EXPECT_EQ(WaitForNode("node1"), revision);
  EXPECT_EQ(EtcdNodes(), std::vector<std::string>{"node1"});
}

TEST_F(MembershipTest, OfTwoJoinersRacingForOneIdExactlyOneWinsEveryRound) {
  Client& a = NewMemberClient();
  Client& b = NewMemberClient();
  for (int round = 0; round < 100; ++round) {
    const std::string node = absl::StrCat("racer-", round);
    std::promise<void> go;
    std::shared_future<void> start = go.get_future().share();
    auto race = [&](Client& c) {
      start.wait();
      return Join(c, "chat", node);
    };
    auto fa = std::async(std::launch::async, race, std::ref(a));
    auto fb = std::async(std::launch::async, race, std::ref(b));
    go.set_value();
    auto ra = fa.get();
    auto rb = fb.get();
    ASSERT_NE(ra.ok(), rb.ok()) << "round " << round << ": " << ra.status()
                                << " / " << rb.status();
    const absl::Status& lost = ra.ok() ? rb.status() : ra.status();
    EXPECT_TRUE(absl::IsAlreadyExists(lost)) << lost;
    // etcd holds exactly the winner's incarnation.
    const int64_t won = ra.ok() ? (*ra)->revision() : (*rb)->revision();
    EXPECT_EQ(WaitForNode(node), won);
  }
}

TEST_F(MembershipTest, AnIdHeldByAProcessOfThisMachineThatEndedIsTakenAtOnce) {
  EventLog log;
  auto view = MustWatch(&log);
  ASSERT_NE(view, nullptr);
  // A member with a long TTL, killed: only revoking its lease frees the id
  // before a minute has passed.
  auto crashed = StartCliMember("node1", "60s");
  const int64_t old_revision = WaitForNode("node1");
  ASSERT_NE(old_revision, 0);
  const pid_t dead = crashed->pid();
  crashed->Signal(SIGKILL);
  crashed->Wait(seconds(10));  // Reaped: its PID no longer names it.

  std::vector<std::string> lines;
  std::mutex lines_mu;
  SetLogLevel(LogLevel::kInfo);
  SetLogSink([&](const LogRecord& r) {
    std::lock_guard<std::mutex> lock(lines_mu);
    lines.emplace_back(r.message);
  });
  auto member = MustJoin("node1");
  SetLogSink(nullptr);
  SetLogLevel(LogLevel::kWarning);
  ASSERT_NE(member, nullptr);
  EXPECT_GT(member->revision(), old_revision);
  {
    std::lock_guard<std::mutex> lock(lines_mu);
    bool revoked = false;
    for (const std::string& l : lines) {
      revoked |= absl::StrContains(l, absl::StrCat("PID ", dead, ", which has ended"));
    }
    EXPECT_TRUE(revoked) << "no log line says PID " << dead << " ended";
  }
  // Every observer sees the old incarnation go before the new one comes.
  const std::string down = "down " + At("node1", old_revision);
  const std::string up = "up " + At("node1", member->revision());
  ASSERT_TRUE(WaitFor([&] { return log.Has(up); }, seconds(10)));
  EXPECT_GE(log.IndexOf(down), 0);
  EXPECT_LT(log.IndexOf(down), log.IndexOf(up));
}

TEST_F(MembershipTest, AnIdHeldElsewhereIsTakenOnceItsLeaseRunsOut) {
  EventLog log;
  auto view = MustWatch(&log);
  ASSERT_NE(view, nullptr);
  // A holder on another machine that died: its lease is never refreshed.
  const int64_t lease = MustGrant(seconds(2));
  const int64_t old_revision = PutForeignMember("node1", lease);
  auto member = MustJoin("node1");
  ASSERT_NE(member, nullptr);
  const std::string down = "down " + At("node1", old_revision);
  const std::string up = "up " + At("node1", member->revision());
  ASSERT_TRUE(WaitFor([&] { return log.Has(up); }, seconds(10)));
  EXPECT_GE(log.IndexOf(down), 0);
  EXPECT_LT(log.IndexOf(down), log.IndexOf(up));
  EXPECT_EQ(EtcdNodes(), std::vector<std::string>{"node1"});
}

TEST_F(MembershipTest, AnIdHeldElsewhereByALiveProcessIsRefusedNamingItsHost) {
  const int64_t lease = MustGrant(seconds(2));
  client().keeper().Keep(lease, 2, [](const absl::Status&) {});
  const int64_t revision = PutForeignMember("node1", lease);
  auto member = Join(NewMemberClient(), "chat", "node1");
  client().keeper().Forget(lease);
  ASSERT_FALSE(member.ok());
  EXPECT_TRUE(absl::IsAlreadyExists(member.status())) << member.status();
  const std::string message(member.status().message());
  EXPECT_TRUE(absl::StrContains(message, "far-away")) << message;
  EXPECT_TRUE(absl::StrContains(message, "\"node1\"")) << message;
  EXPECT_EQ(WaitForNode("node1"), revision);  // Still the holder's key.
}

TEST_F(MembershipTest, AnIdHeldByAKeyWithoutALeaseIsRefused) {
  PutForeignMember("node1", /*lease=*/0);
  auto member = Join(NewMemberClient(), "chat", "node1");
  ASSERT_FALSE(member.ok());
  EXPECT_TRUE(absl::IsAlreadyExists(member.status())) << member.status();
  EXPECT_TRUE(absl::StrContains(member.status().message(), "without a lease"))
      << member.status();
}

TEST_F(MembershipTest, AViewSeesEachUpAndDownOnceAndFollowsTheLeader) {
  EventLog log;
  auto view = MustWatch(&log);
  ASSERT_NE(view, nullptr);
  auto n1 = MustJoin("node1");
  auto n2 = MustJoin("node2");
  auto n3 = MustJoin("node3");
  ASSERT_TRUE(n1 && n2 && n3);
  ASSERT_TRUE(WaitFor([&] { return log.Has("up " + At("node3", n3->revision())); },
                      seconds(10)));
  EXPECT_EQ(view->leader()->node, "node1");
  EXPECT_TRUE(WaitFor([&] { return n1->IsLeader(); }, seconds(10)));
  EXPECT_FALSE(n2->IsLeader());
  EXPECT_FALSE(n3->IsLeader());

  const int64_t r1 = n1->revision();
  ASSERT_TRUE(n1->Leave().ok());
  EXPECT_FALSE(n1->IsLeader());
  ASSERT_TRUE(WaitFor([&] { return log.Has("leader " + At("node2", n2->revision())); },
                      seconds(10)));
  EXPECT_TRUE(WaitFor([&] { return n2->IsLeader(); }, seconds(10)));
  EXPECT_EQ(Nodes(view->members()), EtcdNodes());
  EXPECT_EQ(EtcdNodes(), (std::vector<std::string>{"node2", "node3"}));

  // In order: three ups, node1 the leader once it came, node1 down, then
  // node2 the leader; nothing twice.
  std::vector<std::string> lines = log.Lines();
  std::set<std::string> seen;
  for (const std::string& l : lines) {
    EXPECT_TRUE(seen.insert(l).second) << "twice: " << l;
  }
  EXPECT_LT(log.IndexOf("up " + At("node1", r1)),
            log.IndexOf("leader " + At("node1", r1)));
  EXPECT_LT(log.IndexOf("leader " + At("node1", r1)),
            log.IndexOf("down " + At("node1", r1)));
  EXPECT_LT(log.IndexOf("down " + At("node1", r1)),
            log.IndexOf("leader " + At("node2", n2->revision())));
  EXPECT_GE(log.IndexOf("up " + At("node2", n2->revision())), 0);
}

TEST_F(MembershipTest, AKilledLeaderIsFollowedByTheNextOldestMember) {
  auto leader = StartCliMember("node1", "2s");
  ASSERT_NE(WaitForNode("node1"), 0);
  auto n2 = MustJoin("node2");
  auto n3 = MustJoin("node3");
  ASSERT_TRUE(n2 && n3);
  ASSERT_TRUE(WaitFor([&] { return n3->view().members().size() == 3; },
                      seconds(10)));
  EXPECT_EQ(n2->view().leader()->node, "node1");
  EXPECT_FALSE(n2->IsLeader());

  leader->Signal(SIGKILL);
  leader->Wait(seconds(10));
  ASSERT_TRUE(WaitFor([&] { return n2->IsLeader(); }, seconds(20)));
  EXPECT_TRUE(WaitFor([&] { return n3->view().leader()->node == "node2"; },
                      seconds(10)));
  EXPECT_FALSE(n3->IsLeader());
  EXPECT_EQ(n3->view().leader()->revision, n2->revision());
}

// Members on a 3-member etcd, each client on every endpoint.
class FailoverMembershipTest : public MembershipTest {
 protected:
  int Members() const override { return 3; }
};

TEST_F(FailoverMembershipTest, KillingTheEtcdLeaderTakesNoMemberDown) {
  EventLog log;
  auto view = MustWatch(&log);
  ASSERT_NE(view, nullptr);
  std::vector<std::unique_ptr<Membership>> nodes;
  std::map<std::string, int64_t> joined;  // node -> revision
  for (const char* node : {"node1", "node2", "node3"}) {
    nodes.push_back(MustJoin(node));
    ASSERT_NE(nodes.back(), nullptr);
    joined[node] = nodes.back()->revision();
  }
  ASSERT_TRUE(WaitFor([&] { return nodes[0]->IsLeader(); }, seconds(10)));

  auto etcd_leader = cluster().Leader(seconds(10));
  ASSERT_TRUE(etcd_leader.ok()) << etcd_leader.status();
  ASSERT_TRUE(cluster().Kill(*etcd_leader).ok());
  ASSERT_TRUE(cluster().Leader(seconds(20)).ok()) << "no new etcd leader";
  ASSERT_TRUE(cluster().Restart(*etcd_leader).ok())
      << cluster().LogTail(*etcd_leader);
  // A lease not refreshed through the election would have expired by then.
  const auto expired_by = std::chrono::steady_clock::now() + seconds(2) +
                          milliseconds(1500);

  // Settled: past that time, every member holds its membership, node1 with
  // a lease etcd answered for after the election, and the view agrees with
  // etcd.
  std::map<std::string, int64_t> in_etcd;
  ASSERT_TRUE(WaitFor(
      [&] {
        if (std::chrono::steady_clock::now() < expired_by) return false;
        for (const auto& n : nodes) {
          if (!n->status().ok()) return false;
        }
        if (!nodes[0]->IsLeader()) return false;
        auto members = etcdisc::Members(discovery(), "chat");
        if (!members.ok()) return false;
        in_etcd.clear();
        for (const Member& m : *members) in_etcd[m.node] = m.revision;
        std::map<std::string, int64_t> seen;
        for (const Member& m : view->members()) seen[m.node] = m.revision;
        return seen == in_etcd;
      },
      seconds(30)));
  // The same incarnations as before the kill, and none seen going down.
  EXPECT_EQ(in_etcd, joined);
  for (size_t i = 0; i < nodes.size(); ++i) {
    EXPECT_EQ(nodes[i]->revision(), joined[nodes[i]->node()]);
  }
  for (const std::string& line : log.Lines()) {
    EXPECT_FALSE(absl::StartsWith(line, "down")) << line;
  }
  EXPECT_FALSE(nodes[1]->IsLeader());
  const std::optional<Member> leader = view->leader();
  ASSERT_TRUE(leader.has_value());
  EXPECT_EQ(leader->node, "node1");
}

class ProxiedMembershipTest : public MembershipTest {};

TEST_F(ProxiedMembershipTest,
       ALeaderCutOffFromEtcdStopsBeingLeaderBeforeTheNextBecomesOne) {
  auto proxy = cluster().StartProxy();
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  ClientOptions through_proxy = DiscoveryOptions();
  through_proxy.endpoints = *proxy;
  auto cut_client = Client::Create(through_proxy);
  ASSERT_TRUE(cut_client.ok()) << cut_client.status();
  auto n1 = Join(**cut_client, "chat", "node1");
  ASSERT_TRUE(n1.ok()) << n1.status();
  auto n2 = MustJoin("node2");
  ASSERT_NE(n2, nullptr);
  ASSERT_TRUE(WaitFor([&] { return (*n1)->IsLeader(); }, seconds(10)));

  // node1 can no longer refresh its lease, nor see it expire.
  cluster().StopProxy();
  int samples = 0;
  int n1_last_leader = -1;
  int n2_first_leader = -1;
  const bool replaced = WaitFor(
      [&] {
        const bool one = (*n1)->IsLeader();
        const bool two = n2->IsLeader();
        EXPECT_FALSE(one && two) << "two leaders at sample " << samples;
        if (one) n1_last_leader = samples;
        if (two && n2_first_leader < 0) n2_first_leader = samples;
        ++samples;
        return two;
      },
      seconds(30));
  ASSERT_TRUE(replaced);
  EXPECT_LT(n1_last_leader, n2_first_leader);
  EXPECT_FALSE((*n1)->IsLeader());
  // Its own view still shows it as the oldest member: only its lease told.
  EXPECT_EQ((*n1)->view().leader()->node, "node1");
  n1->reset();
}

TEST_F(MembershipTest, ACleanupRunsOnceInTheClusterWhenAMemberIsKilled) {
  auto victim = StartCliMember("node1", "2s");
  const int64_t revision = WaitForNode("node1");
  ASSERT_NE(revision, 0);
  std::mutex mu;
  std::map<std::string, int> runs;  // By the member that ran it.
  std::vector<std::unique_ptr<Membership>> survivors;
  for (const std::string node : {"node2", "node3"}) {
    survivors.push_back(MustJoin(node));
    ASSERT_NE(survivors.back(), nullptr);
    auto added = survivors.back()->OnNodeDown([&, node](const Member& down) {
      std::lock_guard<std::mutex> lock(mu);
      if (down.node == "node1") ++runs[node];
    });
    ASSERT_TRUE(added.ok()) << added.status();
  }

  victim->Signal(SIGKILL);
  victim->Wait(seconds(10));
  // Both survivors have seen their claim through: one ran it, the other
  // found it claimed.
  const std::string claim_key =
      absl::StrCat("/clusters/chat/cleanup/cleanup/node1/", revision);
  ASSERT_TRUE(WaitFor(
      [&] {
        return MembershipAccess::ClaimsSettled(*survivors[0], claim_key) == 1 &&
               MembershipAccess::ClaimsSettled(*survivors[1], claim_key) == 1;
      },
      seconds(30)));
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(runs.size(), 1u);
  const std::string runner = runs.begin()->first;
  EXPECT_EQ(runs.begin()->second, 1);
  auto claim = internal::ParseJson(RawValue(claim_key));
  ASSERT_TRUE(claim.ok()) << claim.status();
  EXPECT_EQ(claim->Find("by")->text, runner);
  EXPECT_EQ(claim->Find("state")->text, "done");
}

TEST_F(MembershipTest, ACleanupWhoseClaimantDiesBeforeFinishingRunsOnAnother) {
  auto victim = MustJoin("node1");
  ASSERT_NE(victim, nullptr);
  const int64_t revision = victim->revision();
  const std::string claim_key =
      absl::StrCat("/clusters/chat/cleanup/cleanup/node1/", revision);
  std::mutex mu;
  std::vector<std::string> entered;  // Members whose callback began.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::vector<std::unique_ptr<Membership>> survivors;
  // Lets the held callback go however the test ends, before the survivors
  // go (their destruction waits for it).
  struct Releaser {
    std::promise<void>* release;
    bool done = false;
    void Now() {
      if (!done) release->set_value();
      done = true;
    }
    ~Releaser() { Now(); }
  } releaser{&release};
  for (const std::string node : {"node2", "node3"}) {
    survivors.push_back(MustJoin(node));
    ASSERT_NE(survivors.back(), nullptr);
    auto added = survivors.back()->OnNodeDown([&, node](const Member& down) {
      // The claimant's own key goes with its lease too: only node1 counts.
      if (down.node != "node1") return;
      bool first;
      {
        std::lock_guard<std::mutex> lock(mu);
        first = entered.empty();
        entered.push_back(node);
      }
      if (first) released.wait();  // Held, as a slow cleanup would be.
    });
    ASSERT_TRUE(added.ok()) << added.status();
  }
  ASSERT_TRUE(victim->Leave().ok());
  ASSERT_TRUE(WaitFor(
      [&] {
        std::lock_guard<std::mutex> lock(mu);
        return entered.size() == 1;
      },
      seconds(20)));
  std::string claimant;
  {
    std::lock_guard<std::mutex> lock(mu);
    claimant = entered[0];
  }
  Membership& held = *survivors[claimant == "node2" ? 0 : 1];
  // The claimant "dies": its lease goes, and its claim with it.
  const int64_t lease = RawLease(claim_key);
  ASSERT_EQ(lease, MembershipAccess::Lease(held));
  ASSERT_TRUE(client().lease().Revoke(lease).ok());
  ASSERT_TRUE(WaitFor(
      [&] {
        std::lock_guard<std::mutex> lock(mu);
        return entered.size() == 2;
      },
      seconds(20)));
  std::string other;
  {
    std::lock_guard<std::mutex> lock(mu);
    other = entered[1];
  }
  EXPECT_NE(other, claimant);
  ASSERT_TRUE(WaitFor(
      [&] {
        auto claim = internal::ParseJson(RawValue(claim_key));
        return claim.ok() && claim->Find("state") != nullptr &&
               claim->Find("state")->text == "done";
      },
      seconds(10)));
  releaser.Now();
  // The first claimant finishing late does not take the claim back.
  ASSERT_TRUE(WaitFor(
      [&] { return MembershipAccess::ClaimsSettled(held, claim_key) == 1; },
      seconds(10)));
  auto claim = internal::ParseJson(RawValue(claim_key));
  ASSERT_TRUE(claim.ok()) << claim.status();
  EXPECT_EQ(claim->Find("by")->text, other);
}

TEST_F(MembershipTest, AClaimWhoseAnswerWasLostIsRunNotWaitedForForever) {
  auto victim = MustJoin("node1");
  ASSERT_NE(victim, nullptr);
  const std::string claim_key = absl::StrCat(
      "/clusters/chat/cleanup/cleanup/node1/", victim->revision());
  Client& survivor_client = NewMemberClient();
  auto survivor = Join(survivor_client, "chat", "node2");
  ASSERT_TRUE(survivor.ok()) << survivor.status();
  std::atomic<int> runs{0};
  ASSERT_TRUE((*survivor)
                  ->OnNodeDown([&](const Member& down) {
                    if (down.node == "node1") ++runs;
                  })
                  .ok());
  // The survivor's claim is written, but its answer says Unavailable. (The
  // hook may run after the test body: its state is shared.)
  auto lose_next = std::make_shared<std::atomic<bool>>(true);
  internal::ClientAccess::Core(survivor_client)
      .etcd()
      .SetAnswerHookForTesting(
          [lose_next](absl::string_view what, absl::Status* status) {
            if (what == "Txn" && status->ok() && lose_next->exchange(false)) {
              *status = absl::UnavailableError("answer lost by the test");
            }
          });
  ASSERT_TRUE(victim->Leave().ok());
  ASSERT_TRUE(WaitFor([&] { return runs == 1; }, seconds(20)));
  EXPECT_FALSE(*lose_next);  // The claim's answer was the one lost.
  ASSERT_TRUE(WaitFor(
      [&] {
        return MembershipAccess::ClaimsSettled(**survivor, claim_key) == 1;
      },
      seconds(10)));
  EXPECT_EQ(runs, 1);
  auto claim = internal::ParseJson(RawValue(claim_key));
  ASSERT_TRUE(claim.ok()) << claim.status();
  EXPECT_EQ(claim->Find("state")->text, "done");
  internal::ClientAccess::Core(survivor_client)
      .etcd()
      .SetAnswerHookForTesting(nullptr);
}

// TakeNodeKey against this membership's own earlier writes, by their token.
TEST_F(MembershipTest, ANodeKeyHoldingOurTokenIsOursAndAnotherTokenIsNot) {
  internal::ClientCore& core = internal::ClientAccess::Core(discovery());
  auto node = [&](const std::string& token) {
    internal::MemberRecord record;
    record.member.hostname = "test-machine";
    record.process = "another-boot:1:2:3";  // Elsewhere: never judged gone.
    record.token = token;
    return internal::NodeKey{"chat", "node1", "/clusters/chat/nodes/node1",
                             internal::EncodeMember(record), token};
  };
  const int64_t mine = MustGrant(seconds(30));
  // Written, answer lost: taken again as it is, under the same lease.
  auto first = internal::TakeNodeKey(core, node("t-1"), mine);
  ASSERT_TRUE(first.ok()) << first.status();
  auto again = internal::TakeNodeKey(core, node("t-1"), mine);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, *first);
  // Under a lease of ours that could not be revoked: revoked, then taken.
  // (The new lease is kept alive, as a live member's is.)
  const int64_t next = MustGrant(seconds(2));
  client().keeper().Keep(next, 2, [](const absl::Status&) {});
  auto moved = internal::TakeNodeKey(core, node("t-1"), next);
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_GT(*moved, *first);
  EXPECT_EQ(RawLease("/clusters/chat/nodes/node1"), next);
  auto old = client().lease().TimeToLive(mine, false);
  ASSERT_TRUE(old.ok()) << old.status();
  EXPECT_EQ(old->ttl_seconds, -1);
  // Another membership (another token) is refused: the key's lease is
  // refreshed while it waits.
  auto other = internal::TakeNodeKey(core, node("t-2"), MustGrant(seconds(30)));
  client().keeper().Forget(next);
  EXPECT_TRUE(absl::IsAlreadyExists(other.status())) << other.status();
}

TEST_F(MembershipTest, LeaveTakesAMemberDownAtOnceAndDestructionLeaves) {
  EventLog log;
  auto view = MustWatch(&log);
  ASSERT_NE(view, nullptr);
  auto n1 = MustJoin("node1", JoinOptions{seconds(60), {}});
  auto n2 = MustJoin("node2", JoinOptions{seconds(60), {}});
  ASSERT_TRUE(n1 && n2);
  const int64_t r1 = n1->revision();
  const int64_t r2 = n2->revision();
  // With a 60 s TTL, a down within the test's deadlines is the revoke.
  ASSERT_TRUE(n1->Leave().ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(n1->status())) << n1->status();
  EXPECT_TRUE(WaitFor([&] { return log.Has("down " + At("node1", r1)); },
                      seconds(10)));
  n2.reset();
  EXPECT_TRUE(WaitFor([&] { return log.Has("down " + At("node2", r2)); },
                      seconds(10)));
  EXPECT_TRUE(EtcdNodes().empty());
  EXPECT_TRUE(WaitFor([&] { return log.Has("leader -"); }, seconds(10)));
  // Leave after Leave is OK; the view of the member goes on until destroyed.
  EXPECT_TRUE(n1->Leave().ok());
  EXPECT_TRUE(n1->view().status().ok());
}

TEST_F(MembershipTest, AMemberWhoseLeaseIsLostJoinsAgainAsANewIncarnation) {
  EventLog log;
  auto view = MustWatch(&log);
  ASSERT_NE(view, nullptr);
  auto member = MustJoin("node1");
  ASSERT_NE(member, nullptr);
  const int64_t first = member->revision();
  ASSERT_TRUE(client().lease().Revoke(MembershipAccess::Lease(*member)).ok());
  ASSERT_TRUE(WaitFor(
      [&] { return member->status().ok() && member->revision() > first; },
      seconds(20)));
  const std::string down = "down " + At("node1", first);
  const std::string up = "up " + At("node1", member->revision());
  ASSERT_TRUE(WaitFor([&] { return log.Has(up); }, seconds(10)));
  EXPECT_LT(log.IndexOf(down), log.IndexOf(up));
  EXPECT_EQ(WaitForNode("node1"), member->revision());
}

TEST_F(MembershipTest, AMemberWhoseKeyIsDeletedJoinsAgain) {
  auto member = MustJoin("node1");
  ASSERT_NE(member, nullptr);
  const int64_t first = member->revision();
  MustDelete("/clusters/chat/nodes/node1");
  ASSERT_TRUE(WaitFor(
      [&] { return member->status().ok() && member->revision() > first; },
      seconds(20)));
  EXPECT_EQ(WaitForNode("node1"), member->revision());
  EXPECT_NE(RawLease("/clusters/chat/nodes/node1"), 0);
}

TEST_F(MembershipTest, BadInputIsRefusedNamingTheValueAndWritesNothing) {
  auto expect_invalid = [&](absl::StatusOr<std::unique_ptr<Membership>> m,
                            const std::string& named) {
    ASSERT_FALSE(m.ok()) << named;
    EXPECT_TRUE(absl::IsInvalidArgument(m.status())) << m.status();
    EXPECT_TRUE(absl::StrContains(m.status().message(), named)) << m.status();
  };
  Client& c = NewMemberClient();
  expect_invalid(Join(c, "a/b", "node1"), "\"a/b\"");
  expect_invalid(Join(c, "chat", "node 1"), "\"node 1\"");
  expect_invalid(Join(c, "chat", "node1", JoinOptions{milliseconds(500), {}}),
                 "500ms");
  JoinOptions big;
  for (int i = 0; i < 65; ++i) big.meta[absl::StrCat("k", i)] = "v";
  expect_invalid(Join(c, "chat", "node1", big), "65 entries");
  EXPECT_TRUE(EtcdNodes().empty());

  auto member = MustJoin("node1");
  ASSERT_NE(member, nullptr);
  auto job = member->OnNodeDown([](const Member&) {}, {true, "a/b"});
  EXPECT_TRUE(absl::IsInvalidArgument(job.status())) << job.status();
  EXPECT_TRUE(member->status().ok());  // Still a member.
  auto view = ClusterView::Open(c, "bad name");
  EXPECT_TRUE(absl::IsInvalidArgument(view.status())) << view.status();
}

TEST_F(MembershipTest, AMalformedRecordIsSkippedAndNeverStopsAView) {
  EventLog log;
  auto view = MustWatch(&log);
  ASSERT_NE(view, nullptr);
  MustPut("/clusters/chat/nodes/garbage", "{not json");
  MustPut("/clusters/chat/nodes/wrong-type", R"({"meta":"zone"})");
  auto member = MustJoin("node1");
  ASSERT_NE(member, nullptr);
  ASSERT_TRUE(WaitFor([&] { return log.Has("up " + At("node1", member->revision())); },
                      seconds(10)));
  EXPECT_EQ(Nodes(view->members()), std::vector<std::string>{"node1"});
  EXPECT_EQ(EtcdNodes(), std::vector<std::string>{"node1"});
  EXPECT_TRUE(view->status().ok());
  // The joiner itself is not confused by them either.
  EXPECT_TRUE(member->IsLeader() ||
              WaitFor([&] { return member->IsLeader(); }, seconds(10)));
}

}  // namespace
}  // namespace etcdisc
