// FleetView against a real etcd: a snapshot equal to Client::Fleet, then
// online, health, offline and forgotten events in order, with a cursor per
// reader; malformed records; the view of one service; the client going away.
#include <algorithm>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "etcdisc/client.h"
#include "etcdisc/fleet.h"
#include "gtest/gtest.h"
#include "fleet/health_record.h"
#include "support/discovery_test.h"

namespace etcdisc {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class FleetViewTest : public testing::DiscoveryTest {
 protected:
  static RegisterOptions Fast(seconds retention) {
    RegisterOptions options;
    options.ttl = seconds(2);
    options.health_interval = milliseconds(200);
    options.health_retention = retention;
    return options;
  }

  std::unique_ptr<FleetView> MustOpen(const std::string& service = "") {
    auto view = FleetView::Open(discovery(), service);
    EXPECT_TRUE(view.ok()) << view.status();
    return view.ok() ? *std::move(view) : nullptr;
  }

  // Reads events from `*cursor` on until one matches `wanted` (returned) or
  // 20 s pass (nullopt). Every event read is appended to `seen`; the cursor
  // moves past it. Fails the test on a gap in the sequence numbers.
  std::optional<FleetEvent> WaitEvent(
      const FleetView& view, uint64_t* cursor,
      const std::function<bool(const FleetEvent&)>& wanted,
      std::vector<FleetEvent>* seen = nullptr) {
    const auto deadline = std::chrono::steady_clock::now() + seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      FleetChanges changes = view.WaitChanges(*cursor, milliseconds(500));
      EXPECT_FALSE(changes.missed);
      for (const FleetEvent& event : changes.events) {
        EXPECT_EQ(event.sequence, *cursor + 1) << "a gap in the events";
        *cursor = event.sequence;
        if (seen != nullptr) seen->push_back(event);
        if (wanted(event)) return event;
      }
    }
    return std::nullopt;
  }

  static std::function<bool(const FleetEvent&)> Is(FleetEvent::Kind kind,
                                                   const std::string& uuid) {
    return [kind, uuid](const FleetEvent& e) {
      return e.kind == kind && e.host.uuid == uuid;
    };
  }
};

// Service, uuid and status of each host, for comparing fleets.
std::vector<std::string> Summary(const std::vector<FleetHost>& fleet) {
  std::vector<std::string> out;
  for (const FleetHost& f : fleet) {
    out.push_back(f.service + "/" + f.uuid + (f.online ? " online" : " offline"));
  }
  return out;
}

TEST_F(FleetViewTest, StartsAsClientFleetSaysAndFollowsAHostThroughItsLife) {
  auto before = MustRegister("db", WebHost("db-1"), Fast(seconds(3600)));
  ASSERT_NE(before, nullptr);
  auto view = MustOpen();
  ASSERT_NE(view, nullptr);
  FleetSnapshot start = view->snapshot();
  auto fleet = discovery().Fleet();
  ASSERT_TRUE(fleet.ok()) << fleet.status();
  EXPECT_EQ(Summary(*start.hosts), Summary(*fleet));
  EXPECT_EQ(Summary(*start.hosts),
            std::vector<std::string>{"db/" + before->UUID() + " online"});

  uint64_t cursor = start.sequence;
  std::vector<FleetEvent> seen;
  auto reg = MustRegister("web", WebHost("web-1"), Fast(seconds(3)));
  ASSERT_NE(reg, nullptr);
  const std::string uuid = reg->UUID();
  auto online = WaitEvent(*view, &cursor, Is(FleetEvent::Kind::kOnline, uuid), &seen);
  ASSERT_TRUE(online.has_value());
  EXPECT_EQ(online->host.hostname, "web-1");
  EXPECT_EQ(online->host.service, "web");
  ASSERT_TRUE(WaitEvent(*view, &cursor, [&](const FleetEvent& e) {
    return e.kind == FleetEvent::Kind::kHealth && e.host.uuid == uuid &&
           e.host.health.has_value();
  }, &seen));

  ASSERT_TRUE(reg->Stop().ok());
  auto offline = WaitEvent(*view, &cursor, Is(FleetEvent::Kind::kOffline, uuid), &seen);
  ASSERT_TRUE(offline.has_value());
  EXPECT_FALSE(offline->host.online);
  EXPECT_TRUE(offline->host.health.has_value()) << "its last health is kept";
  // The 3 s retention ends: etcd deletes the record, the view forgets it.
  ASSERT_TRUE(WaitEvent(*view, &cursor, Is(FleetEvent::Kind::kForgotten, uuid), &seen));

  // Nothing of it is left, and the view agrees with etcd at the end.
  FleetSnapshot end = view->snapshot();
  fleet = discovery().Fleet();
  ASSERT_TRUE(fleet.ok()) << fleet.status();
  EXPECT_EQ(Summary(*end.hosts), Summary(*fleet));
  // Online came first for it, forgotten last, and offline once between
  // (its final health write, saying when it went, may follow the offline).
  std::vector<FleetEvent::Kind> kinds;
  for (const FleetEvent& e : seen) {
    if (e.host.uuid == uuid) kinds.push_back(e.kind);
  }
  ASSERT_GE(kinds.size(), 3u);
  EXPECT_EQ(kinds.front(), FleetEvent::Kind::kOnline);
  EXPECT_EQ(kinds.back(), FleetEvent::Kind::kForgotten);
  EXPECT_EQ(std::count(kinds.begin(), kinds.end(), FleetEvent::Kind::kOnline), 1);
  EXPECT_EQ(std::count(kinds.begin(), kinds.end(), FleetEvent::Kind::kOffline), 1);
}

// The two watches deliver apart: a new host's health record may reach the
// view before its host record. It must not look offline first.
TEST_F(FleetViewTest, AHostWhoseHealthComesFirstIsOnlineNotOfflineFirst) {
  auto view = MustOpen();
  ASSERT_NE(view, nullptr);
  uint64_t cursor = view->snapshot().sequence;
  internal::HealthRecord record;
  record.hostname = "web-9";
  record.registered_at = record.last_seen = std::chrono::system_clock::now();
  const std::string health = internal::EncodeHealthRecord(record);
  ASSERT_TRUE(client().kv().Put({"/service_health/web/u-late", health, 0, false}).ok());
  // Another host, written after that health record: once the view shows
  // it, the health record has reached it too (one stream, etcd's order).
  ASSERT_TRUE(client().kv().Put({"/services/web/u-marker",
                                 R"({"name":"web-8","ports":{"http":"80"},"uuid":"u-marker"})",
                                 0, false}).ok());
  std::vector<FleetEvent> seen;
  ASSERT_TRUE(WaitEvent(*view, &cursor, Is(FleetEvent::Kind::kOnline, "u-marker"), &seen));
  ASSERT_TRUE(client().kv().Put({"/services/web/u-late",
                                 R"({"name":"web-9","ports":{"http":"80"},"uuid":"u-late"})",
                                 0, false}).ok());
  std::optional<FleetEvent> first;
  for (const FleetEvent& e : seen) {
    if (!first && e.host.uuid == "u-late") first = e;
  }
  if (!first) {
    first = WaitEvent(*view, &cursor, [](const FleetEvent& e) {
      return e.host.uuid == "u-late";
    }, &seen);
  }
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->kind, FleetEvent::Kind::kOnline);
  // Health alone, and no host record coming: offline after a grace.
  ASSERT_TRUE(client().kv().Put({"/service_health/web/u-lone", health, 0, false}).ok());
  auto lone = WaitEvent(*view, &cursor, [](const FleetEvent& e) {
    return e.host.uuid == "u-lone";
  }, &seen);
  ASSERT_TRUE(lone.has_value());
  EXPECT_EQ(lone->kind, FleetEvent::Kind::kOffline);
  EXPECT_EQ(lone->host.hostname, "web-9");
}

TEST_F(FleetViewTest, EachReaderFollowsFromItsOwnCursor) {
  auto view = MustOpen();
  ASSERT_NE(view, nullptr);
  const uint64_t start = view->snapshot().sequence;
  auto reg = MustRegister("web", WebHost("web-1"), Fast(seconds(3600)));
  ASSERT_NE(reg, nullptr);
  uint64_t first = start, second = start;
  std::vector<FleetEvent> first_seen, second_seen;
  ASSERT_TRUE(WaitEvent(*view, &first, Is(FleetEvent::Kind::kOnline, reg->UUID()),
                        &first_seen));
  // A second reader from the same start reads the same events, though the
  // first has read them already.
  ASSERT_TRUE(WaitEvent(*view, &second, Is(FleetEvent::Kind::kOnline, reg->UUID()),
                        &second_seen));
  const auto same = [](const std::vector<FleetEvent>& events) {
    std::vector<std::string> out;
    for (const FleetEvent& e : events) {
      out.push_back(std::to_string(e.sequence) + " " +
                    FleetEventKindName(e.kind) + " " + e.host.uuid);
    }
    return out;
  };
  EXPECT_FALSE(first_seen.empty());
  EXPECT_EQ(same(first_seen), same(second_seen));
  // A cursor the view never gave is told to read the snapshot again.
  FleetChanges ahead =
      view->WaitChanges(view->snapshot().sequence + 100, milliseconds(0));
  EXPECT_TRUE(ahead.missed);
  EXPECT_TRUE(ahead.events.empty());
}

TEST_F(FleetViewTest, AViewOfOneServiceSeesOnlyIt) {
  auto view = MustOpen("web");
  ASSERT_NE(view, nullptr);
  uint64_t cursor = view->snapshot().sequence;
  auto other = MustRegister("db", WebHost("db-1"), Fast(seconds(3600)));
  auto mine = MustRegister("web", WebHost("web-1"), Fast(seconds(3600)));
  ASSERT_NE(other, nullptr);
  ASSERT_NE(mine, nullptr);
  std::vector<FleetEvent> seen;
  ASSERT_TRUE(WaitEvent(*view, &cursor, Is(FleetEvent::Kind::kOnline, mine->UUID()), &seen));
  for (const FleetEvent& e : seen) EXPECT_EQ(e.host.service, "web");
  for (const FleetHost& f : *view->snapshot().hosts) EXPECT_EQ(f.service, "web");
  EXPECT_FALSE(FleetView::Open(discovery(), "bad/name").ok());
}

TEST_F(FleetViewTest, AMalformedRecordIsSkippedAndAGoodOneAfterItIsSeen) {
  // Malformed before the view's first read...
  ASSERT_TRUE(client().kv().Put({"/service_health/web/old", "{", 0, false}).ok());
  ASSERT_TRUE(client().kv().Put({"/services/web/old2", "[]", 0, false}).ok());
  auto view = MustOpen();
  ASSERT_NE(view, nullptr);
  EXPECT_TRUE(view->snapshot().hosts->empty());
  uint64_t cursor = view->snapshot().sequence;
  // ... and while it follows.
  ASSERT_TRUE(client().kv().Put({"/service_health/web/junk", "][", 0, false}).ok());
  ASSERT_TRUE(client().kv().Put({"/services/web/junk2", "not a host", 0, false}).ok());
  auto reg = MustRegister("web", WebHost("web-1"), Fast(seconds(3600)));
  ASSERT_NE(reg, nullptr);
  std::vector<FleetEvent> seen;
  // Each watch delivers in etcd's order: once the good host record and its
  // health are seen, so are the malformed ones written before them.
  ASSERT_TRUE(WaitEvent(*view, &cursor, Is(FleetEvent::Kind::kOnline, reg->UUID()), &seen));
  ASSERT_TRUE(WaitEvent(*view, &cursor, [&](const FleetEvent& e) {
    return e.host.uuid == reg->UUID() && e.host.health.has_value();
  }, &seen));
  for (const FleetEvent& e : seen) EXPECT_EQ(e.host.uuid, reg->UUID());
  ASSERT_EQ(view->snapshot().hosts->size(), 1u);
  EXPECT_EQ(view->snapshot().hosts->front().uuid, reg->UUID());
  EXPECT_TRUE(view->status().ok()) << view->status();
}

TEST_F(FleetViewTest, AViewWhoseClientShutDownStopsAndWakesItsReaders) {
  auto client = NewDiscoveryClient();
  ASSERT_NE(client, nullptr);
  auto view = FleetView::Open(*client);
  ASSERT_TRUE(view.ok()) << view.status();
  const uint64_t cursor = (*view)->snapshot().sequence;
  // A reader waiting when the client goes is woken, not left for the
  // ten minutes it asked for.
  auto waiting = std::async(std::launch::async, [&] {
    return (*view)->WaitChanges(cursor, std::chrono::minutes(10));
  });
  client.reset();
  EXPECT_FALSE((*view)->status().ok());
  ASSERT_EQ(waiting.wait_for(seconds(30)), std::future_status::ready)
      << "WaitChanges slept on after the client shut down";
  EXPECT_TRUE(waiting.get().events.empty());
}

}  // namespace
}  // namespace etcdisc
