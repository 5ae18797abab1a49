// RegisterOptions::share_lease: a client's registrations of one TTL write
// under one lease; Stop() deletes a host's keys, and the last one revokes
// the lease. Checked against what etcd holds: its leases, and the lease each
// key is under.
#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "discovery/client_access.h"
#include "gtest/gtest.h"
#include "support/call_gate.h"
#include "support/discovery_test.h"
#include "support/event_recorder.h"
#include "support/wait.h"

namespace etcdisc {
namespace {

using ::etcdisc::testing::CallGate;
using ::etcdisc::testing::DiscoveryTest;
using ::etcdisc::testing::EventRecorder;
using ::etcdisc::testing::WaitFor;
using std::chrono::seconds;
using Kind = RegistrationEvent::Kind;

class ShareLeaseTest : public DiscoveryTest {
 protected:
  void TearDown() override {
    if (hooked_) Inside().SetSendHookForTesting(nullptr);
    DiscoveryTest::TearDown();
  }

  internal::EtcdClient& Inside() {
    return internal::ClientAccess::Core(discovery()).etcd();
  }
  void HoldSends(CallGate* gate) {
    Inside().SetSendHookForTesting(gate->SendHook());
    hooked_ = true;
  }

  // Shared, health records off (their lease would be counted too).
  static RegisterOptions Shared(seconds ttl = seconds(5)) {
    RegisterOptions options;
    options.ttl = ttl;
    options.health_interval = std::chrono::milliseconds(0);
    options.share_lease = true;
    return options;
  }

  std::set<int64_t> Leases() {
    auto ids = cluster().LeaseIds();
    EXPECT_TRUE(ids.ok()) << ids.status();
    return ids.ok() ? *ids : std::set<int64_t>{};
  }

  static std::string KeyOf(const Registration& reg) {
    return "/services/web/" + reg.UUID();
  }
  int64_t LeaseOf(const Registration& reg) { return RawLease(KeyOf(reg)); }
  bool Present(const std::string& key) { return !RawValue(key).empty(); }

 private:
  bool hooked_ = false;
};

TEST_F(ShareLeaseTest, RegistrationsOfOneServiceAndTtlWriteUnderOneLease) {
  // All at once: the first grant is waited for, not repeated.
  std::vector<std::unique_ptr<Registration>> regs;
  for (int i = 0; i < 16; ++i) {
    auto reg = discovery().Register(
        "web", WebHost("10.0.0." + std::to_string(i + 1)), Shared());
    ASSERT_TRUE(reg.ok()) << reg.status();
    regs.push_back(*std::move(reg));
  }
  for (auto& reg : regs) ASSERT_TRUE(reg->WaitRegistration(seconds(10)).ok());
  const int64_t lease = LeaseOf(*regs[0]);
  ASSERT_NE(lease, 0);
  for (auto& reg : regs) EXPECT_EQ(LeaseOf(*reg), lease) << reg->UUID();
  EXPECT_EQ(RawLease("/service_infos/web"), lease);
  EXPECT_EQ(Leases(), std::set<int64_t>{lease});
  EXPECT_EQ(discovery().Metrics().leases_kept, 1);

  // Another TTL or another service shares another lease; without the
  // option, a lease of its own.
  auto other_ttl = MustRegister("web", WebHost("10.0.1.1"), Shared(seconds(7)));
  auto other_service = MustRegister("api", WebHost("10.0.1.2"), Shared());
  RegisterOptions own = Shared();
  own.share_lease = false;
  auto alone = MustRegister("web", WebHost("10.0.1.3"), own);
  ASSERT_TRUE(other_ttl && other_service && alone);
  const std::set<int64_t> expected = {
      lease, LeaseOf(*other_ttl),
      RawLease("/services/api/" + other_service->UUID()), LeaseOf(*alone)};
  EXPECT_EQ(expected.size(), 4u);
  EXPECT_EQ(Leases(), expected);
}

TEST_F(ShareLeaseTest, StopDeletesItsKeysAndTheLastStopRevokesTheLease) {
  auto a = MustRegister("web", WebHost("10.0.0.1"), Shared());
  auto b = MustRegister("web", WebHost("10.0.0.2"), Shared());
  ASSERT_TRUE(a && b);
  const int64_t lease = LeaseOf(*a);
  const std::string a_key = KeyOf(*a), b_key = KeyOf(*b);

  ASSERT_TRUE(a->Stop().ok());
  EXPECT_FALSE(Present(a_key));
  EXPECT_EQ(RawLease(b_key), lease);
  EXPECT_EQ(RawLease("/service_infos/web"), lease);
  EXPECT_EQ(Leases(), std::set<int64_t>{lease});

  ASSERT_TRUE(b->Stop().ok());
  EXPECT_FALSE(Present(b_key));
  EXPECT_FALSE(Present("/service_infos/web"));
  EXPECT_TRUE(Leases().empty()) << "etcd still holds " << Leases().size();
  EXPECT_EQ(discovery().Metrics().leases_kept, 0);

  // And the next registration grants a new one.
  auto c = MustRegister("web", WebHost("10.0.0.3"), Shared());
  ASSERT_NE(c, nullptr);
  EXPECT_NE(LeaseOf(*c), 0);
  EXPECT_NE(LeaseOf(*c), lease);
}

TEST_F(ShareLeaseTest, ALostSharedLeaseBringsEveryHostBackUnderOneNewLease) {
  EventRecorder a_events, b_events;
  auto a = MustRegister("web", WebHost("10.0.0.1"), Shared(),
                        a_events.Callback());
  auto b = MustRegister("web", WebHost("10.0.0.2"), Shared(),
                        b_events.Callback());
  ASSERT_TRUE(a && b);
  const int64_t lost = LeaseOf(*a);
  ASSERT_TRUE(client().lease().Revoke(lost).ok());

  ASSERT_TRUE(WaitFor(
      [&] {
        const int64_t la = LeaseOf(*a);
        return la != 0 && la != lost && LeaseOf(*b) == la;
      },
      seconds(15)))
      << "a under " << LeaseOf(*a) << ", b under " << LeaseOf(*b);
  const int64_t now = LeaseOf(*a);
  EXPECT_TRUE(WaitFor([&] { return Leases() == std::set<int64_t>{now}; },
                      seconds(10)))
      << "etcd holds " << Leases().size() << " leases";
  EXPECT_TRUE(WaitFor([&] { return a->Ready() && b->Ready(); }, seconds(10)));
  for (EventRecorder* events : {&a_events, &b_events}) {
    EXPECT_TRUE(WaitFor([&] { return events->Saw(Kind::kReregistered); },
                        seconds(10)));
    EXPECT_TRUE(events->Saw(Kind::kLost));
  }
}

// A write whose request has not reached etcd when Stop() runs must not put
// the host back after Stop() deleted it: under a shared lease that another
// registration keeps alive, such a key would stay.
TEST_F(ShareLeaseTest, AWriteHeldBeforeItsSendWhenStopRunsLeavesNoKey) {
  auto keeper = MustRegister("web", WebHost("10.0.0.1"), Shared());
  ASSERT_NE(keeper, nullptr);
  CallGate gate;
  HoldSends(&gate);
  gate.Arm("Txn");
  auto late = discovery().Register("web", WebHost("10.0.0.2"), Shared());
  ASSERT_TRUE(late.ok()) << late.status();
  ASSERT_TRUE(gate.WaitHeld(seconds(10)));
  const std::string key = KeyOf(**late);

  // Every change of the late host's key from now on (its write is not sent).
  struct Seen {
    internal::Mutex mu;
    bool put = false;
  };
  auto seen = std::make_shared<Seen>();
  internal::RangeRequest read;
  read.key = key;
  auto before = client().kv().Range(read);
  ASSERT_TRUE(before.ok()) << before.status();
  ASSERT_TRUE(before->kvs.empty());
  internal::WatchOptions watch;
  watch.key = key;
  watch.start_revision = before->revision + 1;
  const auto id = client().watch().Watch(watch, [seen](internal::WatchUpdate u) {
    internal::MutexLock lock(&seen->mu);
    for (const auto& e : u.events) {
      if (e.type == internal::WatchEvent::Type::kPut) seen->put = true;
    }
  });

  absl::Status stopped = absl::UnknownError("not run");
  std::atomic<bool> returned{false};
  std::thread stop([&] {
    stopped = (*late)->Stop();
    returned = true;
  });
  // Whatever fails below, the held call goes and the thread is joined.
  struct Joined {
    CallGate& gate;
    std::thread& thread;
    ~Joined() {
      gate.Release();
      if (thread.joinable()) thread.join();
    }
  } joined{gate, stop};
  ASSERT_TRUE(WaitFor(
      [&] {
        for (const auto& r : discovery().Metrics().registrations) {
          if (r.uuid == (*late)->UUID()) return r.state == "stopped";
        }
        return false;
      },
      seconds(10)));
  // Stop() waits for the write it cannot take back.
  EXPECT_FALSE(returned);
  gate.Release();  // The Txn goes out now, after Stop() began.
  stop.join();
  EXPECT_TRUE(stopped.ok()) << stopped;
  // Its write reached etcd (no Stop() can take back a sent call)...
  EXPECT_TRUE(WaitFor(
      [&] {
        internal::MutexLock lock(&seen->mu);
        return seen->put;
      },
      seconds(10)));
  client().watch().Cancel(id);
  // ...and Stop() deleted it afterwards.
  EXPECT_FALSE(Present(key));
  EXPECT_TRUE(Present(KeyOf(*keeper)));
}

}  // namespace
}  // namespace etcdisc
