// Harder faults: a registrar frozen past its TTL, etcd wiped, the whole
// cluster down, and shutdown while everything is reconnecting.
#include <signal.h>

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "discovery/client_access.h"
#include "discovery/client_core.h"
#include "gtest/gtest.h"
#include "support/discovery_test.h"
#include "support/process.h"
#include "support/wait.h"

namespace etcdisc {
namespace {

using ::etcdisc::testing::BackgroundProcess;
using ::etcdisc::testing::DiscoveryTest;
using ::etcdisc::testing::WaitFor;
using std::chrono::milliseconds;
using std::chrono::seconds;

class FaultTest : public DiscoveryTest {
 protected:
  ClientOptions DiscoveryOptions() const override {
    ClientOptions options = DiscoveryTest::DiscoveryOptions();
    options.call_timeout = seconds(1);
    return options;
  }
  RegisterOptions Ttl2s() const {
    RegisterOptions options;
    options.ttl = seconds(2);
    return options;
  }
};

TEST_F(FaultTest, RegistrarPausedPastItsTtlGoesDownThenComesBackWithTheSameUuid) {
  auto events = discovery().Subscribe("web");
  ASSERT_TRUE(events.ok());
  BackgroundProcess registrar({ETCDISC_REGISTRAR_PATH, cluster().endpoints(),
                               "web", "10.0.0.1", "2000"});
  auto uuid = registrar.ReadLine(seconds(20));
  ASSERT_TRUE(uuid.has_value());
  auto first = (*events)->Pop(seconds(10));
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->kind, HostEvent::Kind::kNew);
  EXPECT_EQ(first->uuid(), *uuid);

  registrar.Signal(SIGSTOP);
  auto down = (*events)->Pop(seconds(20));  // Its 2 s lease expires.
  ASSERT_TRUE(down.has_value());
  EXPECT_EQ(down->kind, HostEvent::Kind::kDown);
  EXPECT_EQ(down->uuid(), *uuid);

  registrar.Signal(SIGCONT);  // It learns its lease is gone and registers again.
  auto back = (*events)->Pop(seconds(20));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->kind, HostEvent::Kind::kNew);
  EXPECT_EQ(back->uuid(), *uuid);
}

TEST_F(FaultTest, RegistrationsComeBackAfterEtcdIsWipedAndRestartedEmpty) {
  auto a = MustRegister("web", WebHost("10.0.0.1"), Ttl2s());
  auto b = MustRegister("db", WebHost("10.0.0.2"), Ttl2s());
  // A host written by another tool, with no lease: the wiped etcd loses it
  // and nobody writes it again.
  MustPut("/services/web/orphan-1", R"({"name":"10.0.0.9"})");
  auto events = discovery().Subscribe("web", SubscribeOptions{true});
  ASSERT_TRUE(events.ok());
  std::set<std::string> live;
  auto drain = [&] {
    while (auto e = (*events)->TryPop()) {
      if (e->kind == HostEvent::Kind::kNew) {
        EXPECT_TRUE(live.insert(e->uuid()).second) << "New twice: " << e->uuid();
      } else {
        EXPECT_EQ(live.erase(e->uuid()), 1u) << "Down unannounced: " << e->uuid();
      }
    }
  };
  ASSERT_TRUE(WaitFor([&] { drain(); return live.size() == 2; }, seconds(10)));

  ASSERT_TRUE(cluster().Kill(0).ok());
  ASSERT_TRUE(cluster().RestartEmpty(0).ok());
  for (const auto* reg : {&a, &b}) {
    const std::string service = reg == &a ? "web" : "db";
    EXPECT_TRUE(WaitFor(
        [&] {
          return !RawValue("/services/" + service + "/" + (*reg)->UUID()).empty() &&
                 !RawValue("/service_infos/" + service).empty();
        },
        seconds(30)))
        << service;
  }
  // The subscriber's view comes to what the new store holds: the orphan is
  // reported down, the re-registered host is live (whether or not it was
  // seen to go and come back).
  EXPECT_TRUE(WaitFor(
      [&] {
        drain();
        return live == std::set<std::string>{a->UUID()};
      },
      seconds(30)));
  EXPECT_TRUE(a->Ready());
  EXPECT_TRUE((*events)->status().ok());
}

TEST_F(FaultTest, AnEndpointThatNowLeadsToAnotherClusterIsFollowedAfresh) {
  auto reg = MustRegister("web", WebHost("10.0.0.1"), Ttl2s());
  auto events = discovery().Subscribe("web");
  ASSERT_TRUE(events.ok());
  const std::string before = PutMarker("web");
  ASSERT_TRUE(::etcdisc::testing::PopThrough(
                  **events, before, [](const HostEvent& e) { return e.uuid(); },
                  seconds(10))
                  .empty());
  ASSERT_TRUE(cluster().Kill(0).ok());
  ASSERT_TRUE(cluster().RestartAsNewCluster().ok());
  // Writes enough that the new cluster's revisions pass the old ones, so
  // only the cluster id tells the histories apart.
  for (int i = 0; i < 20; ++i) MustPut("/other/" + std::to_string(i), "x");

  // The registration is back in the new cluster, and the subscription,
  // after re-reading, follows it: a host that appears there is reported.
  EXPECT_TRUE(reg->WaitRegistration(seconds(30)).ok());
  EXPECT_TRUE(WaitFor(
      [&] { return !RawValue("/services/web/" + reg->UUID()).empty(); },
      seconds(30)));
  auto later = MustRegister("web", WebHost("10.0.0.2"), Ttl2s());
  ASSERT_NE(later, nullptr);
  bool seen = false;
  while (auto e = (*events)->Pop(seconds(20))) {
    if (e->uuid() == later->UUID() && e->kind == HostEvent::Kind::kNew) {
      seen = true;
      break;
    }
  }
  EXPECT_TRUE(seen);
  EXPECT_TRUE((*events)->status().ok());
}

class WholeClusterFaultTest : public FaultTest {
 protected:
  int Members() const override { return 3; }
};

TEST_F(WholeClusterFaultTest, EverythingRecoversAfterAllMembersWereDownPastTheTtl) {
  auto reg = MustRegister("web", WebHost("10.0.0.1"), Ttl2s());
  auto events = discovery().Subscribe("web");
  ASSERT_TRUE(events.ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(cluster().Kill(i).ok());

  // Meanwhile calls fail within their deadline (1 s), with UNAVAILABLE.
  const auto start = std::chrono::steady_clock::now();
  auto hosts = discovery().Get("web");
  EXPECT_TRUE(absl::IsUnavailable(hosts.status()) ||
              absl::IsDeadlineExceeded(hosts.status()))
      << hosts.status();
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(5));
  std::this_thread::sleep_for(seconds(4));  // Down past the TTL.

  ASSERT_TRUE(cluster().RestartAll().ok());
  // etcd restores its leases with a fresh TTL on restart, so the keys may
  // never have gone; either way they are there again, and once the client
  // has reconnected its calls work.
  absl::StatusOr<ServiceHosts> read = absl::UnavailableError("not yet");
  EXPECT_TRUE(WaitFor(
      [&] {
        read = discovery().Get("web");
        return read.ok() && read->First().ok();
      },
      seconds(30)))
      << read.status();
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->First()->uuid, reg->UUID());
  ASSERT_TRUE(reg->WaitRegistration(seconds(30)).ok());
  EXPECT_NE(RawValue("/services/web/" + reg->UUID()), "");

  // The subscription still works, with nothing invented in between: up to
  // the next host's New, only its own host went down and came back (or
  // nothing happened), and what it shows is what etcd holds.
  auto other = MustRegister("web", WebHost("10.0.0.2"), Ttl2s());
  auto before = ::etcdisc::testing::PopThrough(
      **events, other->UUID(), [](const HostEvent& e) { return e.uuid(); },
      seconds(20));
  bool live = true;
  for (const HostEvent& e : before) {
    EXPECT_EQ(e.uuid(), reg->UUID());
    EXPECT_EQ(e.kind == HostEvent::Kind::kNew, !live) << "out of order";
    live = e.kind == HostEvent::Kind::kNew;
  }
  EXPECT_TRUE(live);
  auto now = discovery().Get("web");
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->All()->size(), 2u);
  EXPECT_TRUE((*events)->status().ok());
}

TEST_F(FaultTest, ShutdownWhileReconnectingWithCallsInFlightNeitherHangsNorCrashes) {
  std::vector<std::unique_ptr<Client>> clients;
  std::vector<std::unique_ptr<Registration>> regs;
  std::vector<std::unique_ptr<Subscription<Host>>> subs;
  for (int c = 0; c < 3; ++c) {
    clients.push_back(NewDiscoveryClient());
    for (int r = 0; r < 3; ++r) {
      auto reg = clients.back()->Register(
          "web", WebHost("10.0." + std::to_string(c) + "." + std::to_string(r)),
          Ttl2s());
      ASSERT_TRUE(reg.ok());
      ASSERT_TRUE((*reg)->WaitRegistration(seconds(10)).ok());
      regs.push_back(*std::move(reg));
    }
    auto sub = clients.back()->SubscribeNew("web");
    ASSERT_TRUE(sub.ok());
    subs.push_back(*std::move(sub));
  }
  // The only member goes: every client's streams end and keep trying to
  // reconnect (they cannot succeed) until the shutdown below.
  ASSERT_TRUE(cluster().Kill(0).ok());
  ASSERT_TRUE(WaitFor(
      [&] {
        for (auto& c : clients) {
          if (c->Stats().keepalive_stream_open) return false;
        }
        return true;
      },
      seconds(10)));

  std::atomic<int> finished{0};
  std::vector<std::thread> threads;
  for (auto& sub : subs) {  // Blocked consumers.
    threads.emplace_back([&, s = sub.get()] {
      while (s->Pop(milliseconds(50)) || s->status().ok()) {
      }
      ++finished;
    });
  }
  for (auto& reg : regs) {  // Stops and waits racing with the shutdown.
    threads.emplace_back([&, r = reg.get()] {
      r->WaitRegistration(milliseconds(200)).IgnoreError();
      r->Stop().IgnoreError();
      ++finished;
    });
  }
  for (auto& client : clients) {  // Clients shut down from their own threads.
    threads.emplace_back([&, c = client.release()] {
      delete c;
      ++finished;
    });
  }
  const size_t expected = threads.size();
  EXPECT_TRUE(WaitFor([&] { return finished.load() == static_cast<int>(expected); },
                      seconds(60)))
      << finished.load() << " of " << expected << " finished";
  for (auto& t : threads) t.join();
  for (auto& sub : subs) {
    EXPECT_FALSE(sub->status().ok());  // Closed by the shutdown, with why.
  }
  regs.clear();  // Handles that outlived their client are inert.
  subs.clear();
}

}  // namespace
}  // namespace etcdisc

namespace etcdisc {
namespace {

// A client given one member of three, a follower (so that killing it
// leaves the leader in place), with endpoint sync on.
class EndpointSyncTest : public ::etcdisc::testing::DiscoveryTest {
 protected:
  int Members() const override { return 3; }
  ClientOptions DiscoveryOptions() const override {
    auto leader = cluster().Leader();
    EXPECT_TRUE(leader.ok()) << leader.status();
    given_ = leader.ok() ? (*leader + 1) % cluster().size() : 1;
    ClientOptions options = DiscoveryTest::DiscoveryOptions();
    options.endpoints = cluster().endpoint(given_);
    options.endpoint_sync_interval = std::chrono::seconds(1);
    return options;
  }
  mutable int given_ = 1;
};

TEST_F(EndpointSyncTest, RegistrationsAndSubscriptionsOutliveTheOneMemberGiven) {
  internal::EtcdClient& etcd =
      internal::ClientAccess::Core(discovery()).etcd();
  ASSERT_TRUE(::etcdisc::testing::WaitFor(
      [&] { return etcd.endpoints().size() == 3; }, seconds(10)))
      << etcd.endpoints().size() << " endpoints";
  auto news = discovery().SubscribeNew("web");
  ASSERT_TRUE(news.ok()) << news.status();
  auto before = MustRegister("web", WebHost("10.0.0.1"));
  ASSERT_TRUE((*news)->Pop(seconds(10)).has_value());

  ASSERT_TRUE(cluster().Kill(given_).ok());
  auto after = MustRegister("web", WebHost("10.0.0.2"));
  ASSERT_NE(after, nullptr);
  auto seen = (*news)->Pop(seconds(30));
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->uuid, after->UUID());
  auto hosts = discovery().Get("web");
  ASSERT_TRUE(hosts.ok()) << hosts.status();
  EXPECT_EQ(hosts->All()->size(), 2u);
}

}  // namespace
}  // namespace etcdisc
