#include <set>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "support/discovery_test.h"
#include "support/wait.h"

namespace etcdisc {
namespace {

using ::etcdisc::testing::DiscoveryTest;
using ::etcdisc::testing::WaitFor;
using std::chrono::milliseconds;
using std::chrono::seconds;

std::string UuidOfHost(const Host& h) { return h.uuid; }
std::string Itself(const std::string& s) { return s; }

// What a subscription delivered before `marker` (see PutMarker): everything
// written before the marker, with any duplicate among it.
std::vector<Host> NewsThrough(Subscription<Host>& news, const std::string& marker) {
  return ::etcdisc::testing::PopThrough(news, marker, UuidOfHost, seconds(30));
}
std::vector<std::string> DownsThrough(Subscription<std::string>& downs,
                                      const std::string& marker) {
  return ::etcdisc::testing::PopThrough(downs, marker, Itself, seconds(30));
}

std::vector<std::string> Uuids(const std::vector<Host>& hosts) {
  std::vector<std::string> out;
  for (const auto& h : hosts) out.push_back(h.uuid);
  return out;
}

class SubscribeTest : public DiscoveryTest {
 protected:
  // Everything both subscriptions deliver before a marker host's New and,
  // once that arrived, its Down: all that was written before.
  std::pair<std::vector<Host>, std::vector<std::string>> Through(
      Subscription<Host>& news, Subscription<std::string>& downs,
      const std::string& service) {
    const std::string marker = PutMarker(service);
    auto created = NewsThrough(news, marker);
    MustDelete("/services/" + service + "/" + marker);
    return {created, DownsThrough(downs, marker)};
  }
};

TEST_F(SubscribeTest, NewAndDownArriveInOrderAndOnlyOnce) {
  auto before = MustRegister("web", WebHost("10.0.0.1"));
  auto news = discovery().SubscribeNew("web");
  auto downs = discovery().SubscribeDown("web");
  ASSERT_TRUE(news.ok() && downs.ok());

  auto a = MustRegister("web", WebHost("10.0.0.2"));
  auto b = MustRegister("web", WebHost("10.0.0.3"));
  auto elsewhere = MustRegister("web2", WebHost("10.0.0.4"));
  ASSERT_TRUE(before->Stop().ok());
  ASSERT_TRUE(a->Stop().ok());

  auto [created, gone] = Through(**news, **downs, "web");
  EXPECT_EQ(Uuids(created), (std::vector<std::string>{a->UUID(), b->UUID()}));
  ASSERT_FALSE(created.empty());
  EXPECT_EQ(created[0].name, "10.0.0.2");
  EXPECT_EQ(created[0].service_name, "web");
  EXPECT_EQ(gone, (std::vector<std::string>{before->UUID(), a->UUID()}));
  EXPECT_TRUE((*news)->status().ok());
}

TEST_F(SubscribeTest, ExistingHostsComeFirstThenChangesWithNoGap) {
  auto a = MustRegister("web", WebHost("10.0.0.1"));
  auto b = MustRegister("web", WebHost("10.0.0.2"));
  SubscribeOptions options;
  options.existing = true;
  auto news = discovery().SubscribeNew("web", options);
  ASSERT_TRUE(news.ok());
  auto c = MustRegister("web", WebHost("10.0.0.3"));
  auto got = Uuids(NewsThrough(**news, PutMarker("web")));
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(std::set<std::string>(got.begin(), got.begin() + 2),
            (std::set<std::string>{a->UUID(), b->UUID()}));
  EXPECT_EQ(got[2], c->UUID());
}

TEST_F(SubscribeTest, MalformedRecordIsSkippedAndTheSubscriptionGoesOn) {
  auto news = discovery().SubscribeNew("web");
  auto downs = discovery().SubscribeDown("web");
  ASSERT_TRUE(news.ok() && downs.ok());
  MustPut("/services/web/garbage", "\x01\x02 not json");
  MustPut("/services/web/a/b", R"({"name":"too deep"})");
  auto good = MustRegister("web", WebHost("10.0.0.1"));
  MustDelete("/services/web/garbage");
  // A malformed record fixed in place counts as a new host then.
  MustPut("/services/web/fixed", "{");
  MustPut("/services/web/fixed", R"({"name":"10.0.0.8","ports":{"http":"1"}})");

  auto [created, gone] = Through(**news, **downs, "web");
  ASSERT_EQ(created.size(), 2u);
  EXPECT_EQ(created[0].uuid, good->UUID());
  EXPECT_EQ(created[1].uuid, "fixed");  // Taken from the key.
  EXPECT_TRUE(gone.empty());
  EXPECT_TRUE((*news)->status().ok());
}

TEST_F(SubscribeTest, MemberRestartLosesAndRepeatsNothing) {
  auto news = discovery().SubscribeNew("web");
  auto downs = discovery().SubscribeDown("web");
  ASSERT_TRUE(news.ok() && downs.ok());
  std::vector<std::unique_ptr<Registration>> regs;
  for (int i = 0; i < 3; ++i) {
    regs.push_back(MustRegister("web", WebHost("10.0.0." + std::to_string(i))));
  }
  ASSERT_TRUE(cluster().Kill(0).ok());
  ASSERT_TRUE(cluster().Restart(0).ok());
  for (int i = 3; i < 6; ++i) {
    regs.push_back(MustRegister("web", WebHost("10.0.0." + std::to_string(i))));
  }
  ASSERT_TRUE(regs[0]->Stop().ok());

  std::vector<std::string> expected;
  for (auto& r : regs) expected.push_back(r->UUID());
  auto [created, gone] = Through(**news, **downs, "web");
  EXPECT_EQ(Uuids(created), expected);
  EXPECT_EQ(gone, (std::vector<std::string>{regs[0]->UUID()}));
  // And that is what etcd holds.
  auto hosts = discovery().Get("web");
  ASSERT_TRUE(hosts.ok());
  EXPECT_EQ(hosts->All()->size(), regs.size() - 1);
}

TEST_F(SubscribeTest, TwoHundredSubscriptionsShareOneWatchStream) {
  std::vector<std::unique_ptr<Subscription<Host>>> subs;
  for (int i = 0; i < 200; ++i) {
    auto sub = discovery().SubscribeNew("svc" + std::to_string(i));
    ASSERT_TRUE(sub.ok()) << sub.status();
    subs.push_back(*std::move(sub));
  }
  auto other = NewDiscoveryClient();  // Registers from another connection.
  std::vector<std::unique_ptr<Registration>> regs;
  for (int i = 0; i < 200; ++i) {
    auto reg = other->Register("svc" + std::to_string(i), WebHost("10.0.0.1"));
    ASSERT_TRUE(reg.ok());
    regs.push_back(*std::move(reg));
  }
  for (int i = 0; i < 200; ++i) {
    auto host = subs[i]->Pop(seconds(20));
    ASSERT_TRUE(host.has_value()) << "subscription " << i;
    EXPECT_EQ(host->service_name, "svc" + std::to_string(i));
  }
  const ClientStats stats = discovery().Stats();
  EXPECT_EQ(stats.watch_streams_opened, 1);
  EXPECT_EQ(stats.watchers, 200u);
}

TEST_F(SubscribeTest, SlowConsumerClosesItsOwnSubscriptionOnlyAndStallsNothing) {
  ClientOptions options = DiscoveryOptions();
  options.subscription_capacity = 2;
  auto small = Client::Create(options);
  ASSERT_TRUE(small.ok());
  auto slow = (*small)->SubscribeNew("web");   // Never popped.
  auto quick = (*small)->SubscribeNew("web");  // Popped as events come.
  ASSERT_TRUE(slow.ok() && quick.ok());
  std::vector<std::unique_ptr<Registration>> regs;
  std::vector<std::string> received;
  for (int i = 0; i < 5; ++i) {
    regs.push_back(MustRegister("web", WebHost("10.0.0." + std::to_string(i))));
    auto host = (*quick)->Pop(seconds(10));
    ASSERT_TRUE(host.has_value());
    received.push_back(host->uuid);
  }
  EXPECT_EQ(received.size(), 5u);
  EXPECT_TRUE((*quick)->status().ok());
  EXPECT_EQ((*slow)->status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ((*slow)->pending(), 2u);
}

TEST_F(SubscribeTest, ClosingASubscriptionEndsItsWatch) {
  auto news = discovery().SubscribeNew("web");
  ASSERT_TRUE(news.ok());
  EXPECT_EQ(discovery().Stats().watchers, 1u);
  (*news)->Close();
  EXPECT_EQ(discovery().Stats().watchers, 0u);
  EXPECT_EQ((*news)->Pop(milliseconds(10)), std::nullopt);
  EXPECT_EQ((*news)->status().code(), absl::StatusCode::kCancelled);
}

TEST_F(SubscribeTest, InvalidServiceNameIsRefused) {
  EXPECT_EQ(discovery().SubscribeNew("a/b").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(discovery().SubscribeDown("").status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Compaction while a subscriber is cut off: it must re-read and deliver the
// difference, nothing more, nothing less.
class SubscribeCompactionTest : public SubscribeTest {
 protected:
  int Members() const override { return 3; }
};

TEST_F(SubscribeCompactionTest, CompactionWhileDisconnectedDeliversTheDifference) {
  // The subscriber talks to member 0 only, so killing it cuts it off.
  ClientOptions options = DiscoveryOptions();
  options.endpoints = cluster().endpoint(0);
  auto subscriber = Client::Create(options);
  ASSERT_TRUE(subscriber.ok());
  auto news = (*subscriber)->SubscribeNew("web");
  auto downs = (*subscriber)->SubscribeDown("web");
  ASSERT_TRUE(news.ok() && downs.ok());

  // Writers use members 1 and 2.
  options.endpoints = cluster().endpoint(1) + "," + cluster().endpoint(2);
  auto writer = Client::Create(options);
  ASSERT_TRUE(writer.ok());
  const auto register_host = [&](const std::string& name) {
    auto reg = (*writer)->Register("web", WebHost(name));
    EXPECT_TRUE(reg.ok());
    EXPECT_TRUE((*reg)->WaitRegistration(seconds(20)).ok());
    return *std::move(reg);
  };
  auto stays = register_host("10.0.0.1");
  auto leaves = register_host("10.0.0.2");
  // The two queues are two watches, and each re-reads on its own after the
  // compaction: a marker put after the restart could come and go while
  // `downs` re-reads, unseen by it like 10.0.0.4 below. So the Down marker
  // is put now, known to both before the cut (the Through proves it), and
  // deleted after the restart: its Down must come, from the watch or found
  // missing by a re-read.
  const std::string down_marker = PutMarker("web");
  auto [first, none] = Through(**news, **downs, "web");
  ASSERT_EQ(first.size(), 3u);
  ASSERT_TRUE(none.empty());

  ASSERT_TRUE(cluster().Kill(0).ok());
  const absl::Status stopped = leaves->Stop();  // Down while cut off.
  ASSERT_TRUE(stopped.ok()) << stopped;
  auto arrives = register_host("10.0.0.3");      // New while cut off.
  auto blinks = register_host("10.0.0.4");       // Comes and goes: unseen.
  ASSERT_TRUE(blinks->Stop().ok());
  auto revision = cluster().Revision();
  ASSERT_TRUE(revision.ok());
  ASSERT_TRUE(cluster().Compact(*revision).ok());
  ASSERT_TRUE(cluster().Restart(0).ok());

  auto created = NewsThrough(**news, PutMarker("web"));
  MustDelete("/services/web/" + down_marker);
  // Hex uuids sort before "marker-": one re-read reporting both keeps this
  // order too.
  auto gone = DownsThrough(**downs, down_marker);
  EXPECT_EQ(Uuids(created), (std::vector<std::string>{arrives->UUID()}));
  EXPECT_EQ(gone, (std::vector<std::string>{leaves->UUID()}));
  EXPECT_GE((*subscriber)->Stats().resyncs, 1);
  EXPECT_TRUE((*news)->status().ok());

  // And it keeps following afterwards.
  auto after = register_host("10.0.0.5");
  auto next = (*news)->Pop(seconds(10));
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->uuid, after->UUID());
}

}  // namespace
}  // namespace etcdisc
