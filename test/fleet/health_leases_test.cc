// The leases a client's health records share, against a real etcd: one live
// lease for all the registrations of a client, one retired lease for the
// stops of a window, one grant when many ask at once, the same id asked
// again after a lost answer, and a lease reported gone replaced.
#include "fleet/health_leases.h"

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "discovery/client_access.h"
#include "etcdisc/client.h"
#include "gtest/gtest.h"
#include "support/call_gate.h"
#include "support/discovery_test.h"
#include "support/wait.h"

namespace etcdisc {
namespace {

using ::etcdisc::testing::CallGate;
using ::etcdisc::testing::WaitFor;
using internal::HealthLeases;
using std::chrono::milliseconds;
using std::chrono::seconds;

class HealthLeasesTest : public testing::DiscoveryTest {
 protected:
  static RegisterOptions Fast() {
    RegisterOptions options;
    options.ttl = seconds(2);
    options.health_interval = milliseconds(200);
    options.health_retention = seconds(3600);
    return options;
  }
  // The lease of `uuid`'s health record (a host of web); 0 if none.
  int64_t RecordLease(const std::string& uuid, bool went = false) {
    internal::RangeRequest read;
    read.key = "/service_health/web/" + uuid;
    auto range = client().kv().Range(read);
    if (!range.ok() || range->kvs.empty()) return 0;
    const bool says_went =
        range->kvs[0].value.find("\"went_at\"") != std::string::npos;
    return says_went == went ? range->kvs[0].lease : 0;
  }
  int64_t WaitRecordLease(const std::string& uuid, bool went = false) {
    int64_t lease = 0;
    WaitFor([&] { return (lease = RecordLease(uuid, went)) != 0; },
            seconds(20));
    return lease;
  }
  int64_t GrantedTtl(int64_t lease) {
    auto ttl = client().lease().TimeToLive(lease, false);
    EXPECT_TRUE(ttl.ok()) << ttl.status();
    return ttl.ok() ? ttl->granted_ttl_seconds : -1;
  }
  std::shared_ptr<HealthLeases> NewLeases() {
    return std::make_shared<HealthLeases>(
        internal::ClientAccess::SharedCore(discovery()));
  }
};

TEST_F(HealthLeasesTest, AClientsRegistrationsShareALiveLeaseAndTheirStopsARetiredOne) {
  auto a = MustRegister("web", WebHost("web-1"), Fast());
  auto b = MustRegister("web", WebHost("web-2"), Fast());
  ASSERT_TRUE(a != nullptr && b != nullptr);
  const int64_t live = WaitRecordLease(a->UUID());
  ASSERT_NE(live, 0);
  EXPECT_EQ(WaitRecordLease(b->UUID()), live);
  EXPECT_EQ(GrantedTtl(live), 3600);

  // Another client has a live lease of its own.
  auto other = NewDiscoveryClient();
  auto c = other->Register("web", WebHost("web-3"), Fast());
  ASSERT_TRUE(c.ok()) << c.status();
  const int64_t other_live = WaitRecordLease((*c)->UUID());
  EXPECT_NE(other_live, 0);
  EXPECT_NE(other_live, live);

  // Stops within a minute share a retired lease, never refreshed.
  ASSERT_TRUE(a->Stop().ok());
  ASSERT_TRUE(b->Stop().ok());
  const int64_t retired = WaitRecordLease(a->UUID(), /*went=*/true);
  ASSERT_NE(retired, 0);
  EXPECT_NE(retired, live);
  EXPECT_EQ(WaitRecordLease(b->UUID(), /*went=*/true), retired);
  EXPECT_EQ(GrantedTtl(retired), 3600 + 60);
  EXPECT_FALSE(
      internal::ClientAccess::Core(discovery()).etcd().keeper().IsKept(retired));
  // The live lease stays kept for the client's next registration.
  EXPECT_TRUE(
      internal::ClientAccess::Core(discovery()).etcd().keeper().IsKept(live));
  auto d = MustRegister("web", WebHost("web-4"), Fast());
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(WaitRecordLease(d->UUID()), live);
}

// The second caller waits for the held grant rather than asking again: one
// lease in etcd, handed to both.
TEST_F(HealthLeasesTest, CallersDuringAGrantWaitForItAndGetTheSameLease) {
  auto leases = NewLeases();
  CallGate gate;
  auto& etcd = internal::ClientAccess::Core(discovery()).etcd();
  etcd.SetAnswerHookForTesting(gate.Hook());
  gate.Arm("LeaseGrant");
  auto first = std::async(std::launch::async,
                          [&] { return leases->Live(seconds(600)); });
  ASSERT_TRUE(gate.WaitHeld(seconds(20)));
  auto second = std::async(std::launch::async,
                           [&] { return leases->Live(seconds(600)); });
  gate.Release();
  auto a = first.get();
  auto b = second.get();
  etcd.SetAnswerHookForTesting(nullptr);
  ASSERT_TRUE(a.ok() && b.ok()) << a.status() << b.status();
  EXPECT_EQ(*a, *b);
  auto count = cluster().LeaseCount();
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_EQ(*count, 1);
  EXPECT_EQ(GrantedTtl(*a), 600);
}

TEST_F(HealthLeasesTest, AGrantWhoseAnswerWasLostIsAskedAgainUnderTheSameId) {
  auto leases = NewLeases();
  auto& etcd = internal::ClientAccess::Core(discovery()).etcd();
  // etcd grants the lease, but the first answer is lost on the way.
  auto lost = std::make_shared<std::atomic<int>>(1);
  etcd.SetAnswerHookForTesting([lost](absl::string_view what,
                                      absl::Status* status) {
    if (what == "LeaseGrant" && lost->fetch_sub(1) > 0) {
      *status = absl::UnavailableError("answer lost");
    }
  });
  auto failed = leases->Live(seconds(600));
  EXPECT_TRUE(absl::IsUnavailable(failed.status())) << failed.status();
  auto granted = leases->Live(seconds(600));
  etcd.SetAnswerHookForTesting(nullptr);
  ASSERT_TRUE(granted.ok()) << granted.status();
  auto count = cluster().LeaseCount();
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_EQ(*count, 1);  // The first grant's lease, not a second one.
}

TEST_F(HealthLeasesTest, ALeaseReportedGoneIsReplacedAndOthersAreKept) {
  auto leases = NewLeases();
  const auto deadline = [] {
    return std::chrono::steady_clock::now() + seconds(3);
  };
  auto live = leases->Live(seconds(600));
  auto retired = leases->Retired(seconds(3600), deadline());
  ASSERT_TRUE(live.ok() && retired.ok()) << live.status() << retired.status();
  auto live_again = leases->Live(seconds(600));
  auto retired_again = leases->Retired(seconds(3600), deadline());
  ASSERT_TRUE(live_again.ok() && retired_again.ok());
  EXPECT_EQ(*live_again, *live);
  EXPECT_EQ(*retired_again, *retired);
  // A report of a lease that is not handed out changes nothing.
  leases->Gone(*live + 1);
  live_again = leases->Live(seconds(600));
  ASSERT_TRUE(live_again.ok()) << live_again.status();
  EXPECT_EQ(*live_again, *live);
  // Revoked behind its back and reported: replaced, and no longer refreshed.
  ASSERT_TRUE(client().lease().Revoke(*live).ok());
  leases->Gone(*live);
  auto& keeper = internal::ClientAccess::Core(discovery()).etcd().keeper();
  EXPECT_FALSE(keeper.IsKept(*live));
  auto replaced = leases->Live(seconds(600));
  ASSERT_TRUE(replaced.ok()) << replaced.status();
  EXPECT_NE(*replaced, *live);
  EXPECT_TRUE(keeper.IsKept(*replaced));
  retired_again = leases->Retired(seconds(3600), deadline());
  ASSERT_TRUE(retired_again.ok()) << retired_again.status();
  EXPECT_EQ(*retired_again, *retired);
  // A retention under a minute has no window: each stop its own lease.
  auto short_a = leases->Retired(seconds(30), deadline());
  auto short_b = leases->Retired(seconds(30), deadline());
  ASSERT_TRUE(short_a.ok() && short_b.ok());
  EXPECT_NE(*short_a, *short_b);
  EXPECT_EQ(GrantedTtl(*short_a), 30);
}

TEST_F(HealthLeasesTest, ALiveLeaseEtcdDropsIsHeardByItsKeeperAndReplaced) {
  auto leases = NewLeases();
  // A 3 s retention: refreshed every second, so its loss is heard soon.
  auto live = leases->Live(seconds(3));
  ASSERT_TRUE(live.ok()) << live.status();
  auto& keeper = internal::ClientAccess::Core(discovery()).etcd().keeper();
  ASSERT_TRUE(keeper.IsKept(*live));
  ASSERT_TRUE(client().lease().Revoke(*live).ok());
  ASSERT_TRUE(WaitFor([&] { return !keeper.IsKept(*live); }, seconds(20)));
  // Its lost-handler reports it gone: the next call grants another.
  EXPECT_TRUE(WaitFor(
      [&] {
        auto replaced = leases->Live(seconds(3));
        return replaced.ok() && *replaced != *live;
      },
      seconds(20)));
}

}  // namespace
}  // namespace etcdisc
