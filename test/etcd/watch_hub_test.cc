#include "etcd/watch_hub.h"

#include <atomic>
#include <vector>

#include "gtest/gtest.h"
#include "support/etcd_test.h"
#include "support/event_log.h"
#include "support/wait.h"

namespace etcdisc::internal {
namespace {

using ::etcdisc::testing::EtcdTest;
using ::etcdisc::testing::EventLog;
using ::etcdisc::testing::WaitFor;
using std::chrono::milliseconds;
using std::chrono::seconds;

WatchOptions PrefixFrom(const std::string& prefix, int64_t revision) {
  WatchOptions options;
  options.key = prefix;
  options.range_end = PrefixRangeEnd(prefix);
  options.start_revision = revision;
  return options;
}

std::vector<int64_t> Revisions(const std::vector<WatchEvent>& events) {
  std::vector<int64_t> out;
  for (const auto& e : events) out.push_back(e.kv.mod_revision);
  return out;
}

class WatchHubTest : public EtcdTest {};

TEST_F(WatchHubTest, PrefixWatchDeliversPutsAndDeletesInRevisionOrder) {
  auto start = cluster().Revision();
  ASSERT_TRUE(start.ok()) << start.status();
  EventLog log;
  client().watch().Watch(PrefixFrom("/w/", *start + 1), log.Handler());

  std::vector<int64_t> written;
  written.push_back(MustPut("/w/a", "1"));
  written.push_back(MustPut("/w/b", "2"));
  MustPut("/other", "not watched");
  written.push_back(MustDelete("/w/a"));
  written.push_back(MustPut("/w/b", "3"));

  ASSERT_TRUE(log.WaitForEvents(4, seconds(10)));
  const auto events = log.events();
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(Revisions(events), written);
  EXPECT_EQ(events[0].type, WatchEvent::Type::kPut);
  EXPECT_EQ(events[0].kv.key, "/w/a");
  EXPECT_EQ(events[2].type, WatchEvent::Type::kDelete);
  EXPECT_EQ(events[2].kv.key, "/w/a");
  EXPECT_EQ(events[3].kv.value, "3");
}

TEST_F(WatchHubTest, WatchFromNowSkipsThePast) {
  MustPut("/w/old", "x");
  EventLog log;
  WatchOptions options = PrefixFrom("/w/", 0);
  client().watch().Watch(options, log.Handler());
  // The watch is created asynchronously: keep writing until one arrives.
  ASSERT_TRUE(WaitFor(
      [&] {
        MustPut("/w/new", "y");
        return log.WaitForEvents(1, std::chrono::milliseconds(200));
      },
      seconds(10)));
  for (const auto& e : log.events()) EXPECT_EQ(e.kv.key, "/w/new");
}

TEST_F(WatchHubTest, PrevKvCarriesTheValueBeforeTheChange) {
  auto start = cluster().Revision();
  ASSERT_TRUE(start.ok());
  EventLog log;
  WatchOptions options = PrefixFrom("/w/", *start + 1);
  options.prev_kv = true;
  client().watch().Watch(options, log.Handler());
  MustPut("/w/k", "before");
  MustDelete("/w/k");
  ASSERT_TRUE(log.WaitForEvents(2, seconds(10)));
  const auto events = log.events();
  ASSERT_TRUE(events[1].prev_kv.has_value());
  EXPECT_EQ(events[1].prev_kv->value, "before");
}

TEST_F(WatchHubTest, CancelledWatcherHearsNothingMore) {
  auto start = cluster().Revision();
  ASSERT_TRUE(start.ok());
  EventLog cancelled, kept;
  const WatchId id =
      client().watch().Watch(PrefixFrom("/w/", *start + 1), cancelled.Handler());
  client().watch().Watch(PrefixFrom("/w/", *start + 1), kept.Handler());
  MustPut("/w/1", "a");
  ASSERT_TRUE(cancelled.WaitForEvents(1, seconds(10)));
  client().watch().Cancel(id);
  MustPut("/w/2", "b");
  ASSERT_TRUE(kept.WaitForEvents(2, seconds(10)));
  EXPECT_EQ(cancelled.events().size(), 1u);
  EXPECT_EQ(client().watch().size(), 1u);
}

TEST_F(WatchHubTest, WatchFromACompactedRevisionReportsTheCompactRevision) {
  const int64_t first = MustPut("/w/k", "1");
  MustPut("/w/k", "2");
  const int64_t last = MustPut("/w/k", "3");
  ASSERT_TRUE(cluster().Compact(last).ok());

  EventLog log;
  client().watch().Watch(PrefixFrom("/w/", first), log.Handler());
  WatchUpdate end;
  ASSERT_TRUE(log.WaitForEnd(seconds(10), &end));
  EXPECT_EQ(end.status.code(), absl::StatusCode::kOutOfRange) << end.status;
  EXPECT_EQ(end.compact_revision, last);
  EXPECT_TRUE(log.events().empty());
  EXPECT_EQ(client().watch().size(), 0u);
}

// etcd releases older than the fix of etcd issue 18089 (Debian 12 has
// 3.4.23), compacting at a delete's revision, drop that delete's tombstone:
// a watch from exactly that revision then skips the delete without a word.
// The hub must deliver it or end the watch as compacted, so that the caller
// reads again.
TEST_F(WatchHubTest, ADeleteAtTheCompactRevisionIsNeverSkippedSilently) {
  MustPut("/w/k", "2");
  MustPut("/w/k", "3");
  const int64_t deleted = MustDelete("/w/k");
  const int64_t put = MustPut("/w/k", "6");
  ASSERT_TRUE(cluster().Compact(deleted).ok());

  EventLog log;
  client().watch().Watch(PrefixFrom("/w/", deleted), log.Handler());
  WatchUpdate end;
  const auto ended = [&] { return log.WaitForEnd(milliseconds(0), &end); };
  ASSERT_TRUE(WaitFor([&] { return ended() || log.events().size() >= 2; },
                      seconds(10)));
  if (ended()) {
    EXPECT_EQ(end.status.code(), absl::StatusCode::kOutOfRange) << end.status;
    EXPECT_EQ(end.compact_revision, deleted);
    EXPECT_TRUE(log.events().empty());
  } else {
    EXPECT_EQ(Revisions(log.events()), (std::vector<int64_t>{deleted, put}))
        << "the delete at " << deleted << " was skipped";
  }
}

TEST_F(WatchHubTest, ResumesAfterMemberRestartLosingAndRepeatingNothing) {
  auto start = cluster().Revision();
  ASSERT_TRUE(start.ok());
  EventLog log;
  client().watch().Watch(PrefixFrom("/w/", *start + 1), log.Handler());

  std::vector<int64_t> written;
  for (int i = 0; i < 20; ++i) {
    written.push_back(MustPut("/w/" + std::to_string(i), "before"));
  }
  ASSERT_TRUE(log.WaitForEvents(5, seconds(10)));
  ASSERT_TRUE(cluster().Kill(0).ok());
  ASSERT_TRUE(cluster().Restart(0).ok());
  for (int i = 0; i < 20; ++i) {
    // The first writes may find the client still reconnecting.
    int64_t revision = 0;
    ASSERT_TRUE(WaitFor(
        [&] {
          PutRequest put{"/w/" + std::to_string(i), "after", 0, false};
          auto response = client().kv().Put(put);
          if (response.ok()) revision = response->revision;
          return response.ok();
        },
        seconds(20)));
    written.push_back(revision);
  }
  // A marker written last: once it arrives, any repeat of the others would
  // have arrived before it.
  written.push_back(MustPut("/w/marker", "last"));
  ASSERT_TRUE(log.WaitForEvents(written.size(), seconds(20)));
  EXPECT_EQ(Revisions(log.events()), written);
  EXPECT_GE(client().watch().streams_opened(), 2);
}

TEST_F(WatchHubTest, TwoHundredWatchersShareOneStream) {
  auto start = cluster().Revision();
  ASSERT_TRUE(start.ok());
  std::vector<std::unique_ptr<EventLog>> logs;
  for (int i = 0; i < 200; ++i) {
    logs.push_back(std::make_unique<EventLog>());
    client().watch().Watch(
        PrefixFrom("/s/" + std::to_string(i) + "/", *start + 1),
        logs.back()->Handler());
  }
  for (int i = 0; i < 200; ++i) MustPut("/s/" + std::to_string(i) + "/h", "x");
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(logs[i]->WaitForEvents(1, seconds(10))) << "watcher " << i;
    EXPECT_EQ(logs[i]->events()[0].kv.key, "/s/" + std::to_string(i) + "/h");
  }
  EXPECT_EQ(client().watch().streams_opened(), 1);
}

TEST_F(WatchHubTest, HandlerMayCancelItsOwnWatch) {
  auto start = cluster().Revision();
  ASSERT_TRUE(start.ok());
  std::atomic<int> calls{0};
  std::atomic<WatchId> id{0};
  id = client().watch().Watch(PrefixFrom("/w/", *start + 1),
                              [&](WatchUpdate) {
                                ++calls;
                                client().watch().Cancel(id);
                              });
  MustPut("/w/1", "a");
  ASSERT_TRUE(WaitFor([&] { return calls.load() >= 1; }, seconds(10)));
  // Another watcher of the same keys on the same stream: once it has /w/2,
  // the cancelled one would have had it too.
  EventLog other;
  client().watch().Watch(PrefixFrom("/w/", *start + 1), other.Handler());
  MustPut("/w/2", "b");
  ASSERT_TRUE(other.WaitForEvents(2, seconds(10)));
  EXPECT_EQ(calls.load(), 1);
}

}  // namespace
}  // namespace etcdisc::internal

namespace etcdisc::internal {
namespace {

TEST_F(WatchHubTest, WatchOnAWipedEtcdEndsWithAbortedInsteadOfWaiting) {
  auto start = cluster().Revision();
  ASSERT_TRUE(start.ok());
  EventLog log;
  client().watch().Watch(PrefixFrom("/w/", *start + 1), log.Handler());
  for (int i = 0; i < 5; ++i) MustPut("/w/" + std::to_string(i), "v");
  ASSERT_TRUE(log.WaitForEvents(5, seconds(10)));
  ASSERT_TRUE(cluster().Kill(0).ok());
  ASSERT_TRUE(cluster().RestartEmpty(0).ok());
  WatchUpdate end;
  ASSERT_TRUE(log.WaitForEnd(seconds(20), &end));
  EXPECT_EQ(end.status.code(), absl::StatusCode::kAborted) << end.status;
}

}  // namespace
}  // namespace etcdisc::internal
