// ServiceRecordWatches (one shared watch of a service record per client)
// driven through its watch seam: which updates reach which listener, when a
// watch starts and ends. The sharing is shown against etcd by
// service_record_sharing_test.cc.
#include "discovery/service_record_watches.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace etcdisc::internal {
namespace {

constexpr char kKey[] = "/service_infos/web";

KeyValue Record(const std::string& value, int64_t revision) {
  KeyValue kv;
  kv.key = kKey;
  kv.value = value;
  kv.mod_revision = revision;
  return kv;
}

class ServiceRecordWatchesTest : public ::testing::Test {
 protected:
  // What one listener heard: a record's value, "-" for missing, "end".
  struct Heard {
    std::vector<std::string> changes;
    int ends = 0;
  };

  int64_t Join(const std::string& name, int64_t from,
                std::optional<KeyValue> known) {
    RecordListener listener;
    listener.on_change = [this, name](const KeyValue* record) {
      heard_[name].changes.push_back(record ? record->value : "-");
    };
    listener.on_end = [this, name] { ++heard_[name].ends; };
    return watches_.Join(kKey, from, std::move(known), std::move(listener));
  }
  // etcd sends the running watch an update.
  void Send(std::vector<WatchEvent> events, absl::Status status = {}) {
    ASSERT_EQ(started_.size(), 1u);
    WatchUpdate update;
    update.events = std::move(events);
    update.status = std::move(status);
    started_.begin()->second(std::move(update));
  }
  static WatchEvent Put(const std::string& value, int64_t revision) {
    return WatchEvent{WatchEvent::Type::kPut, Record(value, revision),
                      std::nullopt};
  }
  static WatchEvent Delete(int64_t revision) {
    KeyValue gone;
    gone.key = kKey;
    gone.mod_revision = revision;
    return WatchEvent{WatchEvent::Type::kDelete, gone, std::nullopt};
  }
  std::vector<std::string> Changes(const std::string& name) {
    return heard_[name].changes;
  }

  std::map<WatchId, WatchHandler> started_;  // Watches running.
  std::vector<int64_t> start_revisions_;
  std::vector<WatchId> cancelled_;
  WatchId next_id_ = 1;
  std::map<std::string, Heard> heard_;
  ServiceRecordWatches watches_{
      [this](WatchOptions options, WatchHandler handler) {
        start_revisions_.push_back(options.start_revision);
        started_[next_id_] = std::move(handler);
        return next_id_++;
      },
      [this](WatchId id) {
        cancelled_.push_back(id);
        started_.erase(id);
      }};
};

TEST_F(ServiceRecordWatchesTest, OneWatchForEveryJoinerStartedFromTheFirstOnesRevision) {
  Join("a", 11, Record("r1", 10));
  Join("b", 13, Record("r1", 12));
  Join("c", 15, Record("r1", 14));
  EXPECT_EQ(start_revisions_, (std::vector<int64_t>{11}));
  EXPECT_EQ(watches_.watches(), 1u);
  EXPECT_EQ(watches_.listeners(), 3u);
  // Nothing the joiners did not know already was heard.
  EXPECT_TRUE(Changes("a").empty());
  EXPECT_TRUE(Changes("b").empty());
  EXPECT_TRUE(Changes("c").empty());
}

TEST_F(ServiceRecordWatchesTest, AChangeReachesOnlyTheListenersJoinedAsOfBeforeIt) {
  Join("a", 11, Record("r1", 10));
  Join("b", 16, Record("r1", 15));  // Knows the record as of revision 15.
  Send({Delete(13), Put("r1", 14)});  // Old news for b.
  EXPECT_EQ(Changes("a"), (std::vector<std::string>{"-", "r1"}));
  EXPECT_TRUE(Changes("b").empty());
  Send({Delete(17)});
  EXPECT_EQ(Changes("a"), (std::vector<std::string>{"-", "r1", "-"}));
  EXPECT_EQ(Changes("b"), (std::vector<std::string>{"-"}));
}

TEST_F(ServiceRecordWatchesTest, AJoinerThatKnowsLessHearsWhatTheWatchKnowsAtOnce) {
  Join("a", 11, Record("r1", 10));
  Send({Delete(12)});
  // b wrote at revision 11 (before the delete) and joins late: the delete it
  // would have missed is what it hears first.
  Join("b", 12, Record("r1", 11));
  EXPECT_EQ(Changes("b"), (std::vector<std::string>{"-"}));
  Send({Put("r2", 13)});
  EXPECT_EQ(Changes("b"), (std::vector<std::string>{"-", "r2"}));
  // Joining at exactly what the watch knows: nothing to tell.
  Join("c", 14, Record("r2", 13));
  EXPECT_TRUE(Changes("c").empty());
}

TEST_F(ServiceRecordWatchesTest, TheLastToLeaveCancelsTheWatchAndTheNextJoinStartsAnother) {
  const int64_t a = Join("a", 11, Record("r1", 10));
  const int64_t b = Join("b", 12, Record("r1", 11));
  watches_.Leave(kKey, a);
  EXPECT_TRUE(cancelled_.empty());
  Send({Delete(13)});
  EXPECT_TRUE(Changes("a").empty());  // Left: hears nothing more.
  EXPECT_EQ(Changes("b"), (std::vector<std::string>{"-"}));
  watches_.Leave(kKey, b);
  EXPECT_EQ(cancelled_, (std::vector<WatchId>{1}));
  EXPECT_EQ(watches_.watches(), 0u);
  watches_.Leave(kKey, b);  // Again: ignored.
  EXPECT_EQ(cancelled_.size(), 1u);
  Join("c", 21, Record("r1", 20));
  EXPECT_EQ(start_revisions_, (std::vector<int64_t>{11, 21}));
  EXPECT_EQ(watches_.listeners(), 1u);
}

TEST_F(ServiceRecordWatchesTest, AnEndReachesEveryListenerOnceAndTheNextJoinStartsAfresh) {
  const int64_t a = Join("a", 11, Record("r1", 10));
  Join("b", 12, Record("r1", 11));
  Send({Put("r2", 12)}, absl::OutOfRangeError("compacted"));
  EXPECT_EQ(Changes("a"), (std::vector<std::string>{"r2"}));
  EXPECT_EQ(heard_["a"].ends, 1);
  EXPECT_EQ(heard_["b"].ends, 1);
  EXPECT_EQ(watches_.listeners(), 0u);
  started_.clear();  // etcd's side of it is over.
  watches_.Leave(kKey, a);  // A ticket of the ended watch: ignored.
  EXPECT_TRUE(cancelled_.empty());
  // A rejoin after a read knows the record as the read found it.
  Join("a", 31, std::nullopt);
  EXPECT_EQ(start_revisions_, (std::vector<int64_t>{11, 31}));
  Join("b", 30, Record("r2", 29));  // Its read was older: hears "missing".
  EXPECT_EQ(Changes("b"), (std::vector<std::string>{"r2", "-"}));
  EXPECT_EQ(heard_["a"].ends, 1);
  EXPECT_EQ(heard_["b"].ends, 1);
}

TEST_F(ServiceRecordWatchesTest, AnUpdateOfAWatchNoLongerRunningReachesNobody) {
  const int64_t a = Join("a", 11, Record("r1", 10));
  WatchHandler first = started_.begin()->second;
  watches_.Leave(kKey, a);
  Join("b", 21, Record("r1", 20));
  // The first watch's handler, called late (as a cancel racing with a
  // delivery would): its token is not the running watch's.
  WatchUpdate late;
  late.events.push_back(Delete(25));
  first(std::move(late));
  EXPECT_TRUE(Changes("a").empty());
  EXPECT_TRUE(Changes("b").empty());
  Send({Delete(26)});  // The running one still delivers.
  EXPECT_EQ(Changes("b"), (std::vector<std::string>{"-"}));
}

TEST_F(ServiceRecordWatchesTest, EveryoneLeavingWhileTheStartRunsCancelsWhatItStarted) {
  // The only listener (ticket 1) leaves while the watch's start is in
  // flight: what the start returns is cancelled, not kept.
  ServiceRecordWatches* self = nullptr;
  ServiceRecordWatches watches(
      [&](WatchOptions, WatchHandler) -> WatchId {
        self->Leave(kKey, 1);
        return 7;
      },
      [&](WatchId id) { cancelled_.push_back(id); });
  self = &watches;
  const int64_t ticket =
      watches.Join(kKey, 11, Record("r1", 10), {[](const KeyValue*) {}, [] {}});
  EXPECT_EQ(ticket, 1);
  EXPECT_EQ(cancelled_, (std::vector<WatchId>{7}));
  EXPECT_EQ(watches.watches(), 0u);
}

TEST_F(ServiceRecordWatchesTest, AWatchThatEndsBeforeItsStartReturnsIsCancelledAndItsListenersHearTheEnd) {
  // etcd refuses the watch (its handler runs with the end) before the start
  // returns its id.
  int ends = 0;
  ServiceRecordWatches watches(
      [&](WatchOptions, WatchHandler handler) -> WatchId {
        WatchUpdate refused;
        refused.status = absl::PermissionDeniedError("no read on the key");
        handler(std::move(refused));
        return 8;
      },
      [&](WatchId id) { cancelled_.push_back(id); });
  watches.Join(kKey, 11, Record("r1", 10), {[](const KeyValue*) {}, [&] { ++ends; }});
  EXPECT_EQ(ends, 1);
  EXPECT_EQ(cancelled_, (std::vector<WatchId>{8}));
  EXPECT_EQ(watches.watches(), 0u);
  EXPECT_EQ(watches.listeners(), 0u);
}

}  // namespace
}  // namespace etcdisc::internal
