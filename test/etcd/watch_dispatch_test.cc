// WatchHub's handling of answers, driven through its dispatch seam with no
// etcd: which cluster answered, and what each watcher is given.
#include <atomic>
#include <vector>

#include "discovery/options.h"
#include "etcd/etcd_client.h"
#include "gtest/gtest.h"
#include "support/event_log.h"
#include "support/wait.h"

namespace etcdisc::internal {
namespace {

class WatchDispatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EtcdClientOptions options = EtcdOptionsFrom(ClientOptions());
    options.endpoints = "http://127.0.0.1:1";  // Never answers.
    auto client = EtcdClient::Create(options);
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *std::move(client);
  }
  WatchId WatchFrom(int64_t revision, ::etcdisc::testing::EventLog* log) {
    WatchOptions options;
    options.key = "/services/web/";
    options.range_end = PrefixRangeEnd(options.key);
    options.start_revision = revision;
    return client_->watch().Watch(options, log->Handler());
  }
  static etcdserverpb::WatchResponse Put(uint64_t cluster, int64_t revision) {
    etcdserverpb::WatchResponse r;
    r.mutable_header()->set_cluster_id(cluster);
    r.mutable_header()->set_revision(revision);
    auto* e = r.add_events();
    e->mutable_kv()->set_key("/services/web/a");
    e->mutable_kv()->set_mod_revision(revision);
    e->mutable_kv()->set_create_revision(revision);
    return r;
  }
  static etcdserverpb::WatchResponse Created(int64_t revision) {
    etcdserverpb::WatchResponse r;
    r.mutable_header()->set_cluster_id(111);
    r.mutable_header()->set_revision(revision);
    r.set_created(true);
    r.set_watch_id(7);
    return r;
  }
  std::unique_ptr<EtcdClient> client_;
};

TEST_F(WatchDispatchTest, AnotherClusterIdEndsEveryWatcherWithAborted) {
  ::etcdisc::testing::EventLog first, second;
  const WatchId a = WatchFrom(5, &first);
  WatchFrom(5, &second);
  client_->watch().DispatchForTesting(a, Put(111, 5));
  ASSERT_EQ(first.events().size(), 1u);
  // A later answer, revision ahead, from a cluster with another id: the
  // revisions no longer mean the same history.
  client_->watch().DispatchForTesting(a, Put(222, 9));
  EXPECT_EQ(first.events().size(), 1u);  // The event of the other cluster.
  for (auto* log : {&first, &second}) {
    internal::WatchUpdate end;
    ASSERT_TRUE(log->WaitForEnd(std::chrono::milliseconds(0), &end));
    EXPECT_EQ(end.status.code(), absl::StatusCode::kAborted) << end.status;
  }
  EXPECT_EQ(client_->watch().size(), 0u);
}

TEST_F(WatchDispatchTest, AnswersWithoutAClusterIdChangeNothing) {
  // etcd's gRPC proxy makes up some answers itself, with an empty header.
  ::etcdisc::testing::EventLog log;
  const WatchId a = WatchFrom(5, &log);
  client_->watch().DispatchForTesting(a, Put(111, 5));
  client_->watch().DispatchForTesting(a, Put(0, 6));
  client_->watch().DispatchForTesting(a, Put(111, 7));
  EXPECT_EQ(log.events().size(), 3u);
  EXPECT_FALSE(log.WaitForEnd(std::chrono::milliseconds(0), nullptr));
}

TEST_F(WatchDispatchTest, EventsAlreadyDeliveredAreNotRepeated) {
  ::etcdisc::testing::EventLog log;
  const WatchId a = WatchFrom(5, &log);
  client_->watch().DispatchForTesting(a, Put(111, 5));
  client_->watch().DispatchForTesting(a, Put(111, 5));  // Replayed on resume.
  client_->watch().DispatchForTesting(a, Put(111, 4));  // Before the start.
  EXPECT_EQ(log.events().size(), 1u);
}

TEST_F(WatchDispatchTest, AMemberBehindTheWatchIsAskedAgainBeforeTheWatchEnds) {
  // A create answered by a member whose store is behind what the watcher
  // has delivered: a lagging follower catches up, a wiped store does not.
  ::etcdisc::testing::EventLog log;
  WatchHub& hub = client_->watch();
  const WatchId a = WatchFrom(5, &log);
  hub.DispatchForTesting(a, Created(4));
  hub.DispatchForTesting(a, Put(111, 5));
  ASSERT_EQ(log.events().size(), 1u);  // Delivered through revision 5.
  // From here the watcher resumes at 6; a member at 3 is behind. Each time
  // the create is asked again after a pause (queued: no stream is open).
  for (int answer = 1; answer <= 5; ++answer) {
    hub.DispatchForTesting(a, Created(3));
    EXPECT_FALSE(log.WaitForEnd(std::chrono::milliseconds(0), nullptr))
        << "ended after " << answer << " answers behind";
    ASSERT_TRUE(::etcdisc::testing::WaitFor(
        [&] { return hub.queued_creates() == 1; }, std::chrono::seconds(10)))
        << "not asked again after answer " << answer;
  }
  // The sixth in a row: the store lost what was delivered.
  hub.DispatchForTesting(a, Created(3));
  internal::WatchUpdate end;
  ASSERT_TRUE(log.WaitForEnd(std::chrono::milliseconds(0), &end));
  EXPECT_EQ(end.status.code(), absl::StatusCode::kAborted) << end.status;
  EXPECT_NE(end.status.message().find("behind revision 5"), std::string::npos)
      << end.status;
}

TEST_F(WatchDispatchTest, AMemberThatCaughtUpStartsTheCountAfresh) {
  ::etcdisc::testing::EventLog log;
  WatchHub& hub = client_->watch();
  const WatchId a = WatchFrom(5, &log);
  hub.DispatchForTesting(a, Created(4));
  hub.DispatchForTesting(a, Put(111, 5));
  for (int round = 0; round < 2; ++round) {
    for (int answer = 1; answer <= 5; ++answer) {
      hub.DispatchForTesting(a, Created(3));
    }
    hub.DispatchForTesting(a, Created(5));  // Caught up.
  }
  EXPECT_FALSE(log.WaitForEnd(std::chrono::milliseconds(0), nullptr));
  EXPECT_EQ(hub.size(), 1u);
}

}  // namespace
}  // namespace etcdisc::internal
