// Subscriptions repair their view when etcd does not tell them everything:
// a lost event (periodic reconciliation), re-reads that keep failing (they
// back off), a consumer that fell behind (its watch ends), and registrations
// stuck on a slow etcd (they cannot hold re-reads back).
#include <atomic>
#include <string>
#include <vector>

#include "discovery/client_access.h"
#include "gtest/gtest.h"
#include "support/discovery_test.h"
#include "support/wait.h"
#include "util/mutex.h"

namespace etcdisc {
namespace {

using ::etcdisc::testing::DiscoveryTest;
using ::etcdisc::testing::PopThrough;
using ::etcdisc::testing::WaitFor;
using std::chrono::milliseconds;
using std::chrono::seconds;

class SubscriptionRepairTest : public DiscoveryTest {
 protected:
  std::unique_ptr<Client> ClientWith(ClientOptions options) {
    auto client = Client::Create(options);
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? *std::move(client) : nullptr;
  }
  static internal::EtcdClient& Inside(Client& client) {
    return internal::ClientAccess::Core(client).etcd();
  }
  static std::string UuidOf(const HostEvent& e) { return e.uuid(); }
};

TEST_F(SubscriptionRepairTest, ReconciliationRepairsAViewAfterEtcdLostAnEvent) {
  ClientOptions options = DiscoveryOptions();
  options.reconcile_interval = milliseconds(300);
  auto subscriber = ClientWith(options);
  ASSERT_NE(subscriber, nullptr);
  const std::string key = "/services/web/host-1";
  MustPut(key, R"({"name":"10.0.0.1"})");
  auto events = subscriber->Subscribe("web");
  ASSERT_TRUE(events.ok());
  // The delete never reaches the subscriber, as with etcd 3.4's bug around
  // compaction.
  Inside(*subscriber).watch().SetEventFilterForTesting(
      [key](const internal::WatchEvent& e) {
        return !(e.type == internal::WatchEvent::Type::kDelete && e.kv.key == key);
      });
  MustDelete(key);

  auto down = (*events)->Pop(seconds(10));
  ASSERT_TRUE(down.has_value());
  EXPECT_EQ(down->kind, HostEvent::Kind::kDown);
  EXPECT_EQ(down->uuid(), "host-1");
  EXPECT_GE(subscriber->Stats().corrections, 1);
  // Exactly once: nothing else arrives before a later marker.
  Inside(*subscriber).watch().SetEventFilterForTesting(nullptr);
  const std::string marker = PutMarker("web");
  auto before = PopThrough(**events, marker, UuidOf, seconds(10));
  EXPECT_TRUE(before.empty()) << before.size() << " extra events, first "
                              << before[0].uuid();
}

TEST_F(SubscriptionRepairTest, NewAndDownTakeTheUuidFromTheKey) {
  auto events = discovery().Subscribe("web");
  ASSERT_TRUE(events.ok());
  MustPut("/services/web/from-key",
          R"({"name":"10.0.0.1","uuid":"from-record","service_name":"db"})");
  auto created = (*events)->Pop(seconds(10));
  ASSERT_TRUE(created.has_value());
  EXPECT_EQ(created->uuid(), "from-key");
  EXPECT_EQ(created->host.uuid, "from-key");
  EXPECT_EQ(created->host.service_name, "web");
  MustDelete("/services/web/from-key");
  auto gone = (*events)->Pop(seconds(10));
  ASSERT_TRUE(gone.has_value());
  EXPECT_EQ(gone->kind, HostEvent::Kind::kDown);
  EXPECT_EQ(gone->uuid(), "from-key");
}

TEST_F(SubscriptionRepairTest, AnOverflowedSubscriptionEndsItsWatch) {
  ClientOptions options = DiscoveryOptions();
  options.subscription_capacity = 2;
  auto subscriber = ClientWith(options);
  ASSERT_NE(subscriber, nullptr);
  auto news = subscriber->SubscribeNew("web");
  ASSERT_TRUE(news.ok());
  ASSERT_EQ(subscriber->Stats().watchers, 1u);
  for (int i = 0; i < 4; ++i) {
    MustPut("/services/web/h" + std::to_string(i), R"({"name":"h"})");
  }
  ASSERT_TRUE(WaitFor([&] { return !(*news)->status().ok(); }, seconds(10)));
  EXPECT_EQ((*news)->status().code(), absl::StatusCode::kResourceExhausted);
  // The handle is still held, but nothing watches for it any more.
  EXPECT_TRUE(WaitFor([&] { return subscriber->Stats().watchers == 0; },
                      seconds(10)));
}

TEST_F(SubscriptionRepairTest, ReReadsThatKeepFailingBackOff) {
  ClientOptions options = DiscoveryOptions();
  options.reconcile_interval = milliseconds(0);
  auto subscriber = ClientWith(options);
  ASSERT_NE(subscriber, nullptr);
  auto events = subscriber->Subscribe("web");
  ASSERT_TRUE(events.ok());
  const std::string marker = PutMarker("web");  // The watch is running.
  EXPECT_TRUE(PopThrough(**events, marker, UuidOf, seconds(10)).empty());
  // Every read fails from now on; a reconnect makes the subscription check
  // its view, which needs a read. (Shared state: the hook may run after the
  // test body.)
  struct Counts {
    std::atomic<int> reads{0};
    std::atomic<bool> failing{true};
  };
  auto counts = std::make_shared<Counts>();
  std::atomic<int>& reads = counts->reads;
  std::atomic<bool>& failing = counts->failing;
  Inside(*subscriber).SetAnswerHookForTesting(
      [counts](absl::string_view what, absl::Status* status) {
        if (what != "Range" || !counts->failing) return;
        ++counts->reads;
        *status = absl::UnavailableError("refused by the test");
      });
  ASSERT_TRUE(cluster().Kill(0).ok());
  ASSERT_TRUE(cluster().Restart(0).ok());
  ASSERT_TRUE(WaitFor([&] { return reads >= 2; }, seconds(20)));
  const int at_start = reads;
  std::this_thread::sleep_for(seconds(4));  // A span in which to count reads.
  // Backing off from 100 ms, doubling to 5 s: at most a handful in 4 s. A
  // retry loop without a pause makes thousands.
  EXPECT_LT(reads - at_start, 20);

  failing = false;  // Reads work again: the view is repaired.
  MustPut("/services/web/after", R"({"name":"h"})");
  auto next = (*events)->Pop(seconds(20));
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->uuid(), "after");
  Inside(*subscriber).SetAnswerHookForTesting(nullptr);
}

TEST_F(SubscriptionRepairTest, RegistrationsStuckOnEtcdDoNotHoldBackSubscriptions) {
  ClientOptions options = DiscoveryOptions();
  options.worker_threads = 2;
  options.reconcile_interval = milliseconds(300);
  auto client = ClientWith(options);
  ASSERT_NE(client, nullptr);
  // Every registration's Txn answer is held: their threads are all busy.
  // (Shared state, released however the test ends, so that the client's
  // destruction never waits on a held thread.)
  struct Hold {
    internal::Mutex mu;
    bool release ABSL_GUARDED_BY(mu) = false;
    int held ABSL_GUARDED_BY(mu) = 0;
    void Release() {
      internal::MutexLock lock(&mu);
      release = true;
    }
  };
  auto hold = std::make_shared<Hold>();
  struct ReleaseAtEnd {
    std::shared_ptr<Hold> hold;
    ~ReleaseAtEnd() { hold->Release(); }
  } release_at_end{hold};
  Inside(*client).SetAnswerHookForTesting(
      [hold](absl::string_view what, absl::Status*) {
        if (what != "Txn") return;
        internal::MutexLock lock(&hold->mu);
        ++hold->held;
        hold->mu.Await(absl::Condition(&hold->release));
      });
  std::vector<std::unique_ptr<Registration>> regs;
  for (int i = 0; i < 4; ++i) {
    auto reg = client->Register("web", WebHost("10.0.0." + std::to_string(i)));
    ASSERT_TRUE(reg.ok());
    regs.push_back(*std::move(reg));
  }
  ASSERT_TRUE(WaitFor(
      [&] {
        internal::MutexLock lock(&hold->mu);
        return hold->held == 2;
      },
      seconds(10)));

  // A subscription whose view needs a re-read still gets it.
  const std::string key = "/services/db/host-1";
  MustPut(key, R"({"name":"10.0.0.1"})");
  auto downs = client->SubscribeDown("db");
  ASSERT_TRUE(downs.ok());
  Inside(*client).watch().SetEventFilterForTesting(
      [key](const internal::WatchEvent& e) { return e.kv.key != key; });
  MustDelete(key);
  auto down = (*downs)->Pop(seconds(10));
  EXPECT_TRUE(down.has_value());

  hold->Release();
  for (auto& r : regs) {
    EXPECT_TRUE(r->WaitRegistration(seconds(10)).ok());
  }
  Inside(*client).SetAnswerHookForTesting(nullptr);
}

}  // namespace
}  // namespace etcdisc
