// The etcd layer against a 3-member cluster losing members.
#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "support/etcd_test.h"
#include "support/event_log.h"
#include "support/wait.h"

namespace etcdisc::internal {
namespace {

using ::etcdisc::testing::EtcdClusterTest;
using ::etcdisc::testing::EventLog;
using ::etcdisc::testing::WaitFor;
using std::chrono::milliseconds;
using std::chrono::seconds;

class FailoverTest : public EtcdClusterTest {
 protected:
  // A client whose first endpoint is member `first`, so that its streams
  // start there.
  std::unique_ptr<EtcdClient> ClientStartingAt(int first,
                                               milliseconds call_timeout) {
    std::vector<std::string> urls;
    for (int k = 0; k < cluster().size(); ++k) {
      urls.push_back(cluster().endpoint((first + k) % cluster().size()));
    }
    EtcdClientOptions options = EtcdOptionsFrom(ClientOptions());
    options.endpoints = absl::StrJoin(urls, ",");
    options.call_timeout = call_timeout;
    auto created = EtcdClient::Create(options);
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? *std::move(created) : nullptr;
  }

  // Waits until `log` holds one event for every version of every key under
  // `prefix` that etcd holds (a retried Put may have been applied twice),
  // then checks each key's events against etcd: as many as its versions, the
  // last at its mod revision, all in revision order with no repeat.
  void ExpectEventsMatchEtcd(const EventLog& log, const std::string& prefix) {
    auto now = client().kv().Range(RangeRequest::Prefix(prefix));
    ASSERT_TRUE(now.ok()) << now.status();
    size_t versions = 0;
    for (const auto& kv : now->kvs) versions += kv.version;
    ASSERT_TRUE(log.WaitForEvents(versions, seconds(30)))
        << log.events().size() << " of " << versions << " events";
    const auto events = log.events();
    EXPECT_EQ(events.size(), versions);
    for (size_t i = 1; i < events.size(); ++i) {
      EXPECT_LT(events[i - 1].kv.mod_revision, events[i].kv.mod_revision);
    }
    for (const auto& kv : now->kvs) {
      int64_t count = 0, last = 0;
      for (const auto& e : events) {
        if (e.kv.key != kv.key) continue;
        ++count;
        last = e.kv.mod_revision;
      }
      EXPECT_EQ(count, kv.version) << kv.key;
      EXPECT_EQ(last, kv.mod_revision) << kv.key;
    }
  }

  // Puts through `writer`, retrying while the cluster elects a leader.
  int64_t PutRetrying(EtcdClient& writer, const std::string& key) {
    int64_t revision = 0;
    EXPECT_TRUE(WaitFor(
        [&] {
          auto response = writer.kv().Put({key, "v", 0, false});
          if (response.ok()) revision = response->revision;
          return response.ok();
        },
        seconds(20)));
    return revision;
  }
};

TEST_F(FailoverTest, KillingTheLeaderKeepsWatchesAndLeasesGoing) {
  auto leader = cluster().Leader();
  ASSERT_TRUE(leader.ok()) << leader.status();
  auto watcher = ClientStartingAt(*leader, seconds(2));
  auto start = cluster().Revision();
  ASSERT_TRUE(start.ok());

  EventLog log;
  WatchOptions options;
  options.key = "/f/";
  options.range_end = PrefixRangeEnd("/f/");
  options.start_revision = *start + 1;
  watcher->watch().Watch(options, log.Handler());
  auto grant = watcher->lease().Grant(seconds(3));
  ASSERT_TRUE(grant.ok()) << grant.status();
  std::atomic<bool> lost{false};
  watcher->keeper().Keep(grant->id, grant->ttl_seconds,
                         [&](const absl::Status&) { lost = true; });

  for (int i = 0; i < 10; ++i) {
    PutRetrying(client(), "/f/before/" + std::to_string(i));
  }
  ASSERT_TRUE(log.WaitForEvents(10, seconds(10)));
  ASSERT_TRUE(cluster().Kill(*leader).ok());
  for (int i = 0; i < 10; ++i) {
    PutRetrying(client(), "/f/after/" + std::to_string(i));
  }
  ExpectEventsMatchEtcd(log, "/f/");
  EXPECT_GE(watcher->watch().streams_opened(), 2);

  // For two TTLs after the kill, the lease lives on.
  EXPECT_TRUE(::etcdisc::testing::HoldsFor([&] { return !lost; }, seconds(6)));
  auto ttl = client().lease().TimeToLive(grant->id, false);
  ASSERT_TRUE(ttl.ok()) << ttl.status();
  EXPECT_GT(ttl->ttl_seconds, 0);
  watcher->keeper().Forget(grant->id);  // Before `lost` goes out of scope.
}

TEST_F(FailoverTest, CallToAPausedMemberFailsWithinItsDeadlineThenMovesOn) {
  const milliseconds deadline(1000);
  auto paused_first = ClientStartingAt(0, deadline);
  // Connect first, so that the call meets a member that stops answering.
  ASSERT_TRUE(paused_first->kv().Put({"/p/warm", "v", 0, false}).ok());
  ASSERT_TRUE(cluster().Pause(0).ok());

  const auto before = std::chrono::steady_clock::now();
  auto failed = paused_first->kv().Put({"/p/k", "v", 0, false});
  const auto took = std::chrono::steady_clock::now() - before;
  EXPECT_TRUE(failed.status().code() == absl::StatusCode::kDeadlineExceeded ||
              failed.status().code() == absl::StatusCode::kUnavailable)
      << failed.status();
  // Bounded by the deadline (with slack for a loaded machine), not hung.
  EXPECT_LT(took, deadline + seconds(2));

  auto next = paused_first->kv().Put({"/p/k", "v", 0, false});
  EXPECT_TRUE(next.ok()) << next.status();
  ASSERT_TRUE(cluster().Resume(0).ok());
}

TEST_F(FailoverTest, ReadToAKilledMemberIsRetriedOnTheNextOne) {
  // A follower, so that the cluster keeps its leader: this is about moving
  // on from a dead member, not about riding out an election.
  auto leader = cluster().Leader();
  ASSERT_TRUE(leader.ok()) << leader.status();
  const int victim = (*leader + 1) % cluster().size();
  auto client = ClientStartingAt(victim, seconds(2));
  ASSERT_TRUE(cluster().Kill(victim).ok());
  auto range = client->kv().Range(RangeRequest::Prefix("/"));
  EXPECT_TRUE(range.ok()) << range.status();
}

TEST_F(FailoverTest, WatchMovesOffAPausedMember) {
  auto start = cluster().Revision();
  ASSERT_TRUE(start.ok());
  auto watcher = ClientStartingAt(0, seconds(2));
  EventLog log;
  WatchOptions options;
  options.key = "/q/";
  options.range_end = PrefixRangeEnd("/q/");
  options.start_revision = *start + 1;
  watcher->watch().Watch(options, log.Handler());
  PutRetrying(client(), "/q/0");
  ASSERT_TRUE(log.WaitForEvents(1, seconds(10)));

  ASSERT_TRUE(cluster().Pause(0).ok());
  // Member 0 holds the stream but answers nothing: the progress probe must
  // notice and move the watch to another member.
  auto writer = ClientStartingAt(1, seconds(2));
  for (int i = 1; i <= 5; ++i) PutRetrying(*writer, "/q/" + std::to_string(i));
  ExpectEventsMatchEtcd(log, "/q/");
  ASSERT_TRUE(cluster().Resume(0).ok());
}

}  // namespace
}  // namespace etcdisc::internal

namespace etcdisc::internal {
namespace {

TEST_F(FailoverTest, AClientGivenOneMemberLearnsTheOthersAndOutlivesIt) {
  // A follower, so that the cluster keeps its leader when it is killed.
  auto leader = cluster().Leader();
  ASSERT_TRUE(leader.ok()) << leader.status();
  const int given = (*leader + 1) % cluster().size();
  EtcdClientOptions options = EtcdOptionsFrom(ClientOptions());
  options.endpoints = cluster().endpoint(given);
  auto created = EtcdClient::Create(options);
  ASSERT_TRUE(created.ok()) << created.status();
  EtcdClient& client = **created;
  ASSERT_EQ(client.endpoints().size(), 1u);

  auto changed = client.SyncEndpoints();
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_TRUE(*changed);
  std::vector<std::string> expected;
  for (int i = 0; i < cluster().size(); ++i) {
    expected.push_back(cluster().endpoint(i));
  }
  std::vector<std::string> now = client.endpoints();
  std::sort(now.begin(), now.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(now, expected);
  // The member in use stays in use, and asking again changes nothing.
  EXPECT_EQ(client.endpoints().front(), cluster().endpoint(given));
  changed = client.SyncEndpoints();
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_FALSE(*changed);

  // The member it was given goes: watches and calls carry on elsewhere.
  auto start = cluster().Revision();
  ASSERT_TRUE(start.ok());
  EventLog log;
  WatchOptions watch;
  watch.key = "/sync/";
  watch.range_end = PrefixRangeEnd("/sync/");
  watch.start_revision = *start + 1;
  client.watch().Watch(watch, log.Handler());
  PutRetrying(client, "/sync/before");
  ASSERT_TRUE(log.WaitForEvents(1, seconds(10)));
  ASSERT_TRUE(cluster().Kill(given).ok());
  PutRetrying(client, "/sync/after");
  ASSERT_TRUE(log.WaitForEvents(2, seconds(20)))
      << log.events().size() << " events";
  EXPECT_EQ(log.events()[1].kv.key, "/sync/after");
}

}  // namespace
}  // namespace etcdisc::internal

namespace etcdisc::internal {
namespace {

TEST_F(FailoverTest, MemberListsSwappedWhileCallsAndAWatchRunLoseNothing) {
  auto writer = ClientStartingAt(0, seconds(2));
  auto start = cluster().Revision();
  ASSERT_TRUE(start.ok());
  EventLog log;
  WatchOptions watch;
  watch.key = "/swap/";
  watch.range_end = PrefixRangeEnd("/swap/");
  watch.start_revision = *start + 1;
  writer->watch().Watch(watch, log.Handler());

  // Another thread swaps between all three members and two of them.
  std::vector<Endpoint> all, two;
  for (int i = 0; i < cluster().size(); ++i) {
    auto parsed = ParseEndpoints(cluster().endpoint(i));
    ASSERT_TRUE(parsed.ok());
    all.push_back(parsed->front());
    if (i > 0) two.push_back(parsed->front());
  }
  std::atomic<bool> done{false};
  std::atomic<int> swaps{0};
  std::thread swapper([&] {
    while (!done) {
      writer->SetEndpointsForTesting(swaps % 2 ? all : two);
      swaps.fetch_add(1);
      std::this_thread::sleep_for(milliseconds(5));
    }
  });
  // Puts go on until the lists have changed 20 times under them.
  for (int i = 0; i < 50 || swaps < 20; ++i) {
    PutRetrying(*writer, "/swap/" + std::to_string(i));
  }
  done = true;
  swapper.join();
  ExpectEventsMatchEtcd(log, "/swap/");
}

}  // namespace
}  // namespace etcdisc::internal
