// Balancer against a real etcd: it follows the service, new hosts are
// picked, hosts that go down are not, and the shard filter holds.
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "etcdisc/balancer.h"
#include "etcdisc/client.h"
#include "gtest/gtest.h"
#include "support/discovery_test.h"
#include "support/wait.h"

namespace etcdisc {
namespace {

using ::etcdisc::testing::DiscoveryTest;
using ::etcdisc::testing::WaitFor;
using std::chrono::seconds;

class BalancerTest : public DiscoveryTest {
 protected:
  std::unique_ptr<Balancer> MustOpen(const std::string& service,
                                     BalancerOptions options = {}) {
    auto balancer = Balancer::Open(discovery(), service, options);
    EXPECT_TRUE(balancer.ok()) << balancer.status();
    if (!balancer.ok()) return nullptr;
    const absl::Status ready = (*balancer)->WaitReady(seconds(10));
    EXPECT_TRUE(ready.ok()) << ready;
    return *std::move(balancer);
  }
  // The uuids of `n` picks.
  static std::multiset<std::string> Picks(const Balancer& balancer, int n) {
    std::multiset<std::string> uuids;
    for (int i = 0; i < n; ++i) {
      auto picked = balancer.Pick();
      if (picked.ok()) uuids.insert(picked->host().uuid);
    }
    return uuids;
  }
  static bool Has(const HostSnapshot& hosts, const std::string& uuid) {
    for (const Host& h : hosts.hosts()) {
      if (h.uuid == uuid) return true;
    }
    return false;
  }
};

TEST_F(BalancerTest, PicksTheHostsInEtcdRightAfterWaitReady) {
  auto a = MustRegister("api", WebHost("10.0.0.1"));
  auto b = MustRegister("api", WebHost("10.0.0.2"));
  auto balancer = MustOpen("api");
  ASSERT_NE(balancer, nullptr);
  const auto picks = Picks(*balancer, 10);
  EXPECT_EQ(picks.count(a->UUID()), 5u);
  EXPECT_EQ(picks.count(b->UUID()), 5u);
  auto picked = balancer->Pick();
  ASSERT_TRUE(picked.ok());
  EXPECT_EQ(picked->host().ports.at("http"), "80");
  EXPECT_EQ(picked->host().service_name, "api");
}

TEST_F(BalancerTest, ANewHostIsPickedAndAStoppedOneIsNot) {
  auto a = MustRegister("api", WebHost("10.0.0.1"));
  auto balancer = MustOpen("api");
  ASSERT_NE(balancer, nullptr);
  auto b = MustRegister("api", WebHost("10.0.0.2"));
  const std::string b_uuid = b->UUID();
  EXPECT_TRUE(WaitFor([&] { return Picks(*balancer, 2).count(b_uuid) == 1; },
                      seconds(10)));
  // A call under way to b when it stops.
  auto in_flight = balancer->Pick();
  while (in_flight.ok() && in_flight->host().uuid != b_uuid) {
    in_flight = balancer->Pick();
  }
  ASSERT_TRUE(in_flight.ok());
  ASSERT_TRUE(b->Stop().ok());
  ASSERT_TRUE(WaitFor([&] { return !Has(balancer->hosts(), b_uuid); },
                      seconds(10)));
  // From the change that removed it, b is never picked again.
  EXPECT_EQ(Picks(*balancer, 200).count(b_uuid), 0u);
  // The call under way ends and reports (no use after free under ASan).
  EXPECT_EQ(in_flight->host().ports.count("http"), 1u);
  in_flight->Succeeded();
}

TEST_F(BalancerTest, ABalancerWhoseClientShutDownSaysSoAndKeepsTheLastHosts) {
  auto a = MustRegister("api", WebHost("10.0.0.1"));
  auto client = NewDiscoveryClient();
  ASSERT_NE(client, nullptr);
  auto balancer = Balancer::Open(*client, "api");
  ASSERT_TRUE(balancer.ok()) << balancer.status();
  ASSERT_TRUE((*balancer)->WaitReady(seconds(10)).ok());
  EXPECT_TRUE((*balancer)->status().ok());
  client.reset();
  EXPECT_FALSE((*balancer)->status().ok());
  auto picked = (*balancer)->Pick();
  ASSERT_TRUE(picked.ok()) << picked.status();
  EXPECT_EQ(picked->host().uuid, a->UUID());
}

TEST_F(BalancerTest, NoHostIsUnavailableUntilOneRegisters) {
  auto balancer = MustOpen("empty");
  ASSERT_NE(balancer, nullptr);
  auto none = balancer->Pick();
  EXPECT_EQ(none.status().code(), absl::StatusCode::kUnavailable);
  auto a = MustRegister("empty", WebHost("10.0.0.1"));
  EXPECT_TRUE(WaitFor([&] { return balancer->Pick().ok(); }, seconds(10)));
}

TEST_F(BalancerTest, OnlyTheShardsHostsArePicked) {
  Host eu = WebHost("10.0.0.1");
  eu.shard = "eu";
  Host us = WebHost("10.0.0.2");
  us.shard = "us";
  auto a = MustRegister("api", eu);
  auto b = MustRegister("api", us);
  BalancerOptions options;
  options.shard = "eu";
  auto balancer = MustOpen("api", options);
  ASSERT_NE(balancer, nullptr);
  EXPECT_EQ(Picks(*balancer, 20).count(a->UUID()), 20u);
}

TEST_F(BalancerTest, AHostReportedFailingIsSkipped) {
  auto a = MustRegister("api", WebHost("10.0.0.1"));
  auto b = MustRegister("api", WebHost("10.0.0.2"));
  BalancerOptions options;
  options.ejection.failures = 2;
  options.ejection.backoff = std::chrono::minutes(5);
  options.ejection.max_backoff = std::chrono::minutes(5);
  auto balancer = MustOpen("api", options);
  ASSERT_NE(balancer, nullptr);
  balancer->ReportError(a->UUID());
  EXPECT_EQ(Picks(*balancer, 20).count(a->UUID()), 10u);  // One: not yet.
  balancer->ReportError(a->UUID());
  EXPECT_EQ(Picks(*balancer, 20).count(b->UUID()), 20u);
  // b goes down: a, though skipped, is the only host left.
  ASSERT_TRUE(b->Stop().ok());
  ASSERT_TRUE(WaitFor([&] { return balancer->hosts().size() == 1; }, seconds(10)));
  EXPECT_EQ(Picks(*balancer, 5).count(a->UUID()), 5u);
}

TEST_F(BalancerTest, BadOptionsAndNamesAreRefused) {
  BalancerOptions options;
  options.ejection.failures = -3;
  auto bad = Balancer::Open(discovery(), "api", options);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("-3"), absl::string_view::npos);
  auto bad_name = Balancer::Open(discovery(), "a/b");
  EXPECT_EQ(bad_name.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace etcdisc
