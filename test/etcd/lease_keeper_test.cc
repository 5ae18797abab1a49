#include "etcd/lease_keeper.h"

#include <atomic>

#include "support/notification.h"
#include "gtest/gtest.h"
#include "support/etcd_test.h"
#include "support/wait.h"

namespace etcdisc::internal {
namespace {

using ::etcdisc::testing::EtcdTest;
using ::etcdisc::testing::HoldsFor;
using ::etcdisc::testing::WaitFor;
using std::chrono::milliseconds;
using std::chrono::seconds;

class LeaseKeeperTest : public EtcdTest {
 protected:
  bool KeyExists(const std::string& key) {
    RangeRequest request;
    request.key = key;
    auto range = client().kv().Range(request);
    EXPECT_TRUE(range.ok()) << range.status();
    return range.ok() && range->kvs.size() == 1;
  }
};

TEST_F(LeaseKeeperTest, KeptLeaseOutlivesThreeTimesItsTtl) {
  auto grant = client().lease().Grant(seconds(2));
  ASSERT_TRUE(grant.ok()) << grant.status();
  ASSERT_EQ(grant->ttl_seconds, 2);
  MustPut("/leased", "v", grant->id);
  std::atomic<bool> lost{false};
  client().keeper().Keep(grant->id, grant->ttl_seconds,
                         [&](const absl::Status&) { lost = true; });

  // Still there after three TTLs, checked all along.
  EXPECT_TRUE(HoldsFor([&] { return KeyExists("/leased"); },
                       seconds(6) + milliseconds(500)));
  EXPECT_FALSE(lost);
  EXPECT_TRUE(client().keeper().IsKept(grant->id));
  auto ttl = client().lease().TimeToLive(grant->id, /*keys=*/true);
  ASSERT_TRUE(ttl.ok()) << ttl.status();
  EXPECT_GT(ttl->ttl_seconds, 0);
  ASSERT_EQ(ttl->keys.size(), 1u);
  EXPECT_EQ(ttl->keys[0], "/leased");
  client().keeper().Forget(grant->id);  // Before `lost` goes out of scope.
}

TEST_F(LeaseKeeperTest, RevokedLeaseTakesItsKeys) {
  auto grant = client().lease().Grant(seconds(30));
  ASSERT_TRUE(grant.ok()) << grant.status();
  MustPut("/leased/a", "1", grant->id);
  MustPut("/leased/b", "2", grant->id);
  ASSERT_TRUE(KeyExists("/leased/a"));
  ASSERT_TRUE(client().lease().Revoke(grant->id).ok());
  EXPECT_FALSE(KeyExists("/leased/a"));
  EXPECT_FALSE(KeyExists("/leased/b"));
  auto ttl = client().lease().TimeToLive(grant->id, false);
  ASSERT_TRUE(ttl.ok()) << ttl.status();
  EXPECT_EQ(ttl->ttl_seconds, -1);
}

TEST_F(LeaseKeeperTest, LeaseRevokedElsewhereIsReportedLostAsNotFound) {
  auto grant = client().lease().Grant(seconds(3));
  ASSERT_TRUE(grant.ok()) << grant.status();
  ::etcdisc::testing::Notification lost;
  absl::Status why;
  client().keeper().Keep(grant->id, grant->ttl_seconds,
                         [&](const absl::Status& status) {
                           why = status;
                           lost.Notify();
                         });
  auto other = NewClient();
  ASSERT_TRUE(other->lease().Revoke(grant->id).ok());
  // The next refresh (within TTL/3) hears that the lease is gone.
  ASSERT_TRUE(lost.WaitFor(std::chrono::seconds(10)));
  EXPECT_EQ(why.code(), absl::StatusCode::kNotFound) << why;
  EXPECT_FALSE(client().keeper().IsKept(grant->id));
}

TEST_F(LeaseKeeperTest, LeaseThatEtcdKeptThroughAnOutageIsNotReportedLost) {
  auto grant = client().lease().Grant(seconds(4));
  ASSERT_TRUE(grant.ok()) << grant.status();
  MustPut("/leased", "v", grant->id);
  std::atomic<int> lost{0};
  client().keeper().Keep(grant->id, grant->ttl_seconds,
                         [&](const absl::Status&) { ++lost; });
  // Down for longer than the TTL: no refresh can be confirmed. etcd restores
  // its leases on restart with a fresh TTL, so the lease was never gone and
  // must not be reported lost.
  ASSERT_TRUE(cluster().Kill(0).ok());
  std::this_thread::sleep_for(seconds(5));  // The outage.
  ASSERT_TRUE(cluster().Restart(0).ok());
  // For two more TTLs the keeper must keep it on the new stream.
  EXPECT_TRUE(HoldsFor([&] { return KeyExists("/leased"); }, seconds(8)));
  EXPECT_EQ(lost, 0);
  EXPECT_TRUE(client().keeper().IsKept(grant->id));
  client().keeper().Forget(grant->id);  // Before `lost` goes out of scope.
}

TEST_F(LeaseKeeperTest, ValidUntilFollowsAnsweredRefreshesAndStopsWithoutThem) {
  using Clock = std::chrono::steady_clock;
  const auto asked = Clock::now();
  auto grant = client().lease().Grant(seconds(2));
  ASSERT_TRUE(grant.ok()) << grant.status();
  EXPECT_EQ(client().keeper().ValidUntil(grant->id), Clock::time_point{});
  client().keeper().Keep(grant->id, grant->ttl_seconds,
                         [](const absl::Status&) {}, asked);
  // From the grant's send time (or from a first refresh already answered,
  // which the keeper may have sent at once: later, never earlier).
  EXPECT_GE(client().keeper().ValidUntil(grant->id),
            asked + seconds(grant->ttl_seconds));
  // Each answered refresh moves it on.
  ASSERT_TRUE(WaitFor(
      [&] { return client().keeper().ValidUntil(grant->id) > asked + seconds(3); },
      seconds(10)));
  // Without answers it stays where the last one left it, and passes.
  client().keeper().SetAnswerFilterForTesting([](int64_t) { return false; });
  const auto last = client().keeper().ValidUntil(grant->id);
  ASSERT_TRUE(WaitFor([&] { return Clock::now() > last; }, seconds(5)));
  EXPECT_EQ(client().keeper().ValidUntil(grant->id), last);
  client().keeper().SetAnswerFilterForTesting(nullptr);
  client().keeper().Forget(grant->id);
  EXPECT_EQ(client().keeper().ValidUntil(grant->id), Clock::time_point{});
}

TEST_F(LeaseKeeperTest, ForgottenLeaseIsNoLongerRefreshed) {
  auto grant = client().lease().Grant(seconds(2));
  ASSERT_TRUE(grant.ok()) << grant.status();
  MustPut("/leased", "v", grant->id);
  std::atomic<bool> lost{false};
  client().keeper().Keep(grant->id, grant->ttl_seconds,
                         [&](const absl::Status&) { lost = true; });
  client().keeper().Forget(grant->id);
  EXPECT_TRUE(WaitFor([&] { return !KeyExists("/leased"); }, seconds(10)));
  EXPECT_FALSE(lost);
}

TEST_F(LeaseKeeperTest, ManyLeasesShareOneStream) {
  std::vector<int64_t> ids;
  for (int i = 0; i < 50; ++i) {
    auto grant = client().lease().Grant(seconds(2));
    ASSERT_TRUE(grant.ok()) << grant.status();
    client().keeper().Keep(grant->id, grant->ttl_seconds,
                           [](const absl::Status&) {});
    ids.push_back(grant->id);
  }
  // Past one TTL, so that refreshes were needed, none is lost.
  EXPECT_TRUE(HoldsFor(
      [&] {
        for (int64_t id : ids) {
          if (!client().keeper().IsKept(id)) return false;
        }
        return true;
      },
      seconds(3)));
  for (int64_t id : ids) {
    auto ttl = client().lease().TimeToLive(id, false);
    ASSERT_TRUE(ttl.ok()) << ttl.status();
    EXPECT_GT(ttl->ttl_seconds, 0) << "lease " << id;
    EXPECT_TRUE(client().keeper().IsKept(id));
  }
  EXPECT_EQ(client().keeper().streams_opened(), 1);
}

}  // namespace
}  // namespace etcdisc::internal
