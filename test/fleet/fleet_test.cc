// Fleet health against a real etcd: health published and refreshed, gauges,
// offline after Stop or a kill -9, forgotten after the retention, a record
// whose lease went written again, a Stop during a write, malformed records,
// and `etcdisc fleet`.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "discovery/client_access.h"
#include "etcdisc/client.h"
#include "etcdisc/version.h"
#include "fleet/health_record.h"
#include "gtest/gtest.h"
#include "support/call_gate.h"
#include "support/process.h"
#include "support/wait.h"
#include "tools/cli_fixture.h"

namespace etcdisc {
namespace {

using ::etcdisc::testing::BackgroundProcess;
using ::etcdisc::testing::CallGate;
using ::etcdisc::testing::CliTest;
using ::etcdisc::testing::Contains;
using ::etcdisc::testing::Field;
using ::etcdisc::testing::HoldsFor;
using ::etcdisc::testing::ProcessResult;
using ::etcdisc::testing::WaitFor;
using std::chrono::milliseconds;
using std::chrono::seconds;

class FleetTest : public CliTest {
 protected:
  static RegisterOptions Fast(seconds retention = seconds(3600)) {
    RegisterOptions options;
    options.ttl = seconds(2);
    options.health_interval = milliseconds(200);
    options.health_retention = retention;
    return options;
  }
  // The host `uuid` of `service` as Fleet() reads it now, if there.
  std::optional<FleetHost> InFleet(const std::string& service,
                                   const std::string& uuid) {
    auto fleet = discovery().Fleet(service);
    EXPECT_TRUE(fleet.ok()) << fleet.status();
    if (!fleet.ok()) return std::nullopt;
    for (const FleetHost& f : *fleet) {
      if (f.uuid == uuid) return f;
    }
    return std::nullopt;
  }
  // Waits until `check` holds for the host in the fleet.
  template <typename Check>
  bool WaitForHost(const std::string& service, const std::string& uuid,
                   Check check) {
    return WaitFor(
        [&] {
          auto f = InFleet(service, uuid);
          return f && check(*f);
        },
        seconds(20));
  }
  // The health record of `uuid` in etcd, with its lease.
  std::optional<std::pair<internal::HealthRecord, int64_t>> Record(
      const std::string& service, const std::string& uuid) {
    internal::RangeRequest read;
    read.key = "/service_health/" + service + "/" + uuid;
    auto range = client().kv().Range(read);
    if (!range.ok() || range->kvs.empty()) return std::nullopt;
    auto record = internal::DecodeHealthRecord(range->kvs[0].value);
    EXPECT_TRUE(record.ok()) << record.status();
    if (!record.ok()) return std::nullopt;
    return std::make_pair(*record, range->kvs[0].lease);
  }
  // The record once it says when the host went (waiting up to 20 s).
  std::optional<std::pair<internal::HealthRecord, int64_t>> FinalRecord(
      const std::string& service, const std::string& uuid) {
    std::optional<std::pair<internal::HealthRecord, int64_t>> record;
    WaitFor(
        [&] {
          record = Record(service, uuid);
          return record && record->first.went_at.has_value();
        },
        seconds(20));
    if (record && !record->first.went_at) record.reset();
    return record;
  }
};

TEST_F(FleetTest, HealthIsPublishedRefreshedAndCarriesTheGauges) {
  auto reg = MustRegister("web", WebHost("web-1"), Fast());
  ASSERT_NE(reg, nullptr);
  const std::string uuid = reg->UUID();
  ASSERT_TRUE(WaitForHost("web", uuid, [](const FleetHost& f) {
    return f.online && f.health.has_value();
  }));
  FleetHost f = *InFleet("web", uuid);
  EXPECT_EQ(f.service, "web");
  EXPECT_EQ(f.hostname, "web-1");
  EXPECT_GT(f.since, std::chrono::system_clock::time_point{});
  EXPECT_GT(f.health->mem_total_bytes, 0);
  EXPECT_GT(f.health->rss_bytes, 0);
  EXPECT_EQ(f.health->version, Version());
  const auto first_seen = f.last_seen;

  ASSERT_TRUE(reg->SetGauge("queue_depth", 12).ok());
  ASSERT_TRUE(WaitForHost("web", uuid, [](const FleetHost& h) {
    return h.health && h.health->gauges.count("queue_depth") &&
           h.health->gauges.at("queue_depth") == 12;
  }));
  ASSERT_TRUE(reg->SetGauge("queue_depth", 3).ok());
  // A changed gauge is written again, with a later last_seen.
  ASSERT_TRUE(WaitForHost("web", uuid, [&](const FleetHost& h) {
    return h.health && h.health->gauges.at("queue_depth") == 3 &&
           h.last_seen > first_seen;
  }));
}

TEST_F(FleetTest, AStoppedHostIsOfflineSinceItWentThenForgottenAfterItsRetention) {
  auto reg = MustRegister("web", WebHost("web-1"), Fast(seconds(10)));
  ASSERT_NE(reg, nullptr);
  const std::string uuid = reg->UUID();
  ASSERT_TRUE(WaitForHost("web", uuid,
                          [](const FleetHost& f) { return f.health.has_value(); }));
  ASSERT_TRUE(reg->SetGauge("jobs", 7).ok());
  ASSERT_TRUE(WaitForHost("web", uuid, [](const FleetHost& f) {
    return f.health->gauges.count("jobs") == 1;
  }));
  ASSERT_TRUE(reg->Stop().ok());

  // Offline at once (Stop revokes the host's lease), with its last health
  // and when it went (written by Stop, or by a write under way then).
  auto record = FinalRecord("web", uuid);
  ASSERT_TRUE(record.has_value());
  auto f = InFleet("web", uuid);
  ASSERT_TRUE(f.has_value());
  EXPECT_FALSE(f->online);
  EXPECT_EQ(f->hostname, "web-1");
  ASSERT_TRUE(f->health.has_value());
  EXPECT_EQ(f->health->gauges.at("jobs"), 7);
  EXPECT_EQ(f->since, *record->first.went_at);
  EXPECT_TRUE(absl::IsFailedPrecondition(reg->SetGauge("jobs", 8)));
  // Its lease is the retention's, no longer refreshed: etcd deletes it.
  auto ttl = client().lease().TimeToLive(record->second, false);
  ASSERT_TRUE(ttl.ok()) << ttl.status();
  EXPECT_EQ(ttl->granted_ttl_seconds, 10);
  EXPECT_TRUE(WaitFor([&] { return !InFleet("web", uuid).has_value(); },
                      seconds(30)));
  EXPECT_FALSE(Record("web", uuid).has_value());
}

TEST_F(FleetTest, AKilledHostTurnsOfflineAfterItsTtlWithItsLastHealth) {
  BackgroundProcess registrar(
      Cli({"register", "api", "--hostname=api-1", "--ports=http=8080",
           "--ttl=2s", "--health-interval=200ms", "--json"}),
      Env());
  std::optional<FleetHost> online;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto fleet = discovery().Fleet("api");
        if (fleet.ok() && fleet->size() == 1 && (*fleet)[0].health) {
          online = (*fleet)[0];
        }
        return online.has_value();
      },
      seconds(20)));
  EXPECT_TRUE(online->online);
  EXPECT_EQ(online->hostname, "api-1");
  registrar.Signal(SIGKILL);
  registrar.Wait(seconds(10));
  ASSERT_TRUE(WaitForHost("api", online->uuid,
                          [](const FleetHost& f) { return !f.online; }));
  FleetHost f = *InFleet("api", online->uuid);
  ASSERT_TRUE(f.health.has_value());
  EXPECT_EQ(f.hostname, "api-1");
  // Nobody said when it went: its last write stands for it.
  EXPECT_EQ(f.since, f.last_seen);
  EXPECT_GE(f.last_seen, online->last_seen);
  auto record = Record("api", online->uuid);
  ASSERT_TRUE(record.has_value());
  EXPECT_FALSE(record->first.went_at.has_value());
}

TEST_F(FleetTest, WithPublishingOffNoHealthIsWrittenAndGaugesAreRefused) {
  RegisterOptions options = Fast();
  options.health_interval = milliseconds(0);
  auto reg = MustRegister("web", WebHost("web-1"), options);
  ASSERT_NE(reg, nullptr);
  auto fleet = discovery().Fleet();
  ASSERT_TRUE(fleet.ok()) << fleet.status();
  ASSERT_EQ(fleet->size(), 1u);
  EXPECT_TRUE((*fleet)[0].online);
  EXPECT_FALSE((*fleet)[0].health.has_value());
  EXPECT_EQ((*fleet)[0].since, std::chrono::system_clock::time_point{});
  EXPECT_TRUE(absl::IsFailedPrecondition(reg->SetGauge("q", 1)));
  // A publisher writes at once when the host is registered; none does.
  EXPECT_TRUE(HoldsFor([&] { return !Record("web", reg->UUID()).has_value(); },
                       seconds(1)));
}

TEST_F(FleetTest, BadOptionsAndGaugesAreRefusedNamingTheValue) {
  auto reg = MustRegister("web", WebHost("web-1"), Fast());
  ASSERT_NE(reg, nullptr);
  absl::Status gauge = reg->SetGauge("queue-depth", 1);
  EXPECT_TRUE(absl::IsInvalidArgument(gauge));
  EXPECT_TRUE(Contains(std::string(gauge.message()), "\"queue-depth\"")) << gauge;
  for (int i = 0; i < 64; ++i) {
    ASSERT_TRUE(reg->SetGauge("g" + std::to_string(i), i).ok());
  }
  absl::Status many = reg->SetGauge("one_more", 1);
  EXPECT_TRUE(absl::IsInvalidArgument(many));
  EXPECT_TRUE(Contains(std::string(many.message()), "\"one_more\"")) << many;
  EXPECT_TRUE(reg->SetGauge("g0", -1).ok());  // Replacing is fine.

  RegisterOptions negative = Fast();
  negative.health_interval = milliseconds(-1);
  auto refused = discovery().Register("web", WebHost("web-2"), negative);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(Contains(std::string(refused.status().message()), "-1ms"))
      << refused.status();
  RegisterOptions short_retention = Fast(seconds(0));
  refused = discovery().Register("web", WebHost("web-2"), short_retention);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(Contains(std::string(refused.status().message()), "0s"))
      << refused.status();
  // What was registered is untouched.
  auto hosts = discovery().Get("web");
  ASSERT_TRUE(hosts.ok()) << hosts.status();
  EXPECT_EQ(hosts->All()->size(), 1u);
  EXPECT_TRUE(reg->Ready());
}

TEST_F(FleetTest, ARecordWhoseLeaseWentIsWrittenAgainUnderANewLease) {
  auto reg = MustRegister("web", WebHost("web-1"), Fast());
  ASSERT_NE(reg, nullptr);
  const std::string uuid = reg->UUID();
  std::optional<std::pair<internal::HealthRecord, int64_t>> first;
  ASSERT_TRUE(WaitFor([&] { return (first = Record("web", uuid)).has_value(); },
                      seconds(20)));
  ASSERT_TRUE(client().lease().Revoke(first->second).ok());
  std::optional<std::pair<internal::HealthRecord, int64_t>> again;
  ASSERT_TRUE(WaitFor(
      [&] {
        again = Record("web", uuid);
        return again && again->second != first->second;
      },
      seconds(20)));
  EXPECT_EQ(again->first.registered_at, first->first.registered_at);
  EXPECT_TRUE(reg->Ready());  // The host's own lease is another.
}

// Answers of `what` are lost (the caller sees Unavailable, etcd has done
// it) the first `times` times; counts down to 0.
std::shared_ptr<std::atomic<int>> LoseAnswers(Client& client,
                                              const std::string& what,
                                              int times) {
  auto left = std::make_shared<std::atomic<int>>(times);
  internal::ClientAccess::Core(client).etcd().SetAnswerHookForTesting(
      [left, what](absl::string_view call, absl::Status* status) {
        if (call == what && left->load() > 0 && left->fetch_sub(1) > 0) {
          *status = absl::UnavailableError("answer lost");
        }
      });
  return left;
}

TEST_F(FleetTest, AFinalRecordStopCouldNotWriteIsWrittenLaterInTheBackground) {
  auto reg = MustRegister("web", WebHost("web-1"), Fast());
  ASSERT_NE(reg, nullptr);
  const std::string uuid = reg->UUID();
  ASSERT_TRUE(WaitFor([&] { return Record("web", uuid).has_value(); },
                      seconds(20)));
  // The retired lease's grant fails twice: Stop cannot move the record.
  auto left = LoseAnswers(discovery(), "LeaseGrant", 2);
  ASSERT_TRUE(reg->Stop().ok());
  reg.reset();  // The retries do not need the handle.
  auto record = FinalRecord("web", uuid);
  internal::ClientAccess::Core(discovery()).etcd().SetAnswerHookForTesting(
      nullptr);
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(left->load(), 0);
  auto ttl = client().lease().TimeToLive(record->second, false);
  ASSERT_TRUE(ttl.ok()) << ttl.status();
  EXPECT_EQ(ttl->granted_ttl_seconds, 3600 + 60);  // The retired lease.
}

TEST_F(FleetTest, ARecordWhosePutAnswerWasLostIsStillMovedAtStop) {
  RegisterOptions options = Fast();
  options.health_interval = seconds(60);  // One write: the first.
  auto left = LoseAnswers(discovery(), "Put", 1);
  auto reg = MustRegister("web", WebHost("web-1"), options);
  ASSERT_NE(reg, nullptr);
  const std::string uuid = reg->UUID();
  ASSERT_TRUE(WaitFor([&] { return left->load() == 0; }, seconds(20)));
  internal::ClientAccess::Core(discovery()).etcd().SetAnswerHookForTesting(
      nullptr);
  ASSERT_TRUE(Record("web", uuid).has_value());  // In etcd all the same.
  ASSERT_TRUE(reg->Stop().ok());
  auto record = FinalRecord("web", uuid);
  ASSERT_TRUE(record.has_value());
  auto ttl = client().lease().TimeToLive(record->second, false);
  ASSERT_TRUE(ttl.ok()) << ttl.status();
  EXPECT_EQ(ttl->granted_ttl_seconds, 3600 + 60);  // The retired lease.
}

TEST_F(FleetTest, AStopDuringAWriteLeavesTheRecordOfThatWriteWithWhenItWent) {
  auto reg = MustRegister("web", WebHost("web-1"), Fast());
  ASSERT_NE(reg, nullptr);
  const std::string uuid = reg->UUID();
  ASSERT_TRUE(reg->SetGauge("step", 1).ok());
  ASSERT_TRUE(WaitForHost("web", uuid, [](const FleetHost& f) {
    return f.health && f.health->gauges.count("step") == 1;
  }));
  CallGate gate;
  internal::ClientAccess::Core(discovery()).etcd().SetAnswerHookForTesting(
      gate.Hook());
  gate.Arm("Put");  // The publisher's next write (the registration uses Txns).
  ASSERT_TRUE(reg->SetGauge("step", 2).ok());
  ASSERT_TRUE(gate.WaitHeld(seconds(20)));
  // The held write is in etcd already; its answer is what is held.
  auto held = Record("web", uuid);
  ASSERT_TRUE(held.has_value());
  // Stop returns while the write is held: the tick writes the final record.
  auto stopped = std::async(std::launch::async, [&] { return reg->Stop(); });
  const bool returned =
      stopped.wait_for(seconds(10)) == std::future_status::ready;
  gate.Release();
  ASSERT_TRUE(returned) << "Stop waited for the held write";
  EXPECT_TRUE(stopped.get().ok());
  auto record = FinalRecord("web", uuid);
  ASSERT_TRUE(record.has_value());
  // The final record is the held write's, not the one before it, with the
  // gauges as last set (the held write may have sampled them before
  // SetGauge("step", 2)).
  EXPECT_EQ(record->first.last_seen, held->first.last_seen);
  EXPECT_EQ(record->first.health.gauges,
            (std::map<std::string, double>{{"step", 2}}));
  // It moved from the client's live lease (TTL: the retention) to a retired
  // one, which nobody refreshes (TTL: the retention and its window).
  auto live = client().lease().TimeToLive(held->second, false);
  auto retired = client().lease().TimeToLive(record->second, false);
  ASSERT_TRUE(live.ok() && retired.ok()) << live.status() << retired.status();
  EXPECT_EQ(live->granted_ttl_seconds, 3600);
  EXPECT_EQ(retired->granted_ttl_seconds, 3600 + 60);
  internal::ClientAccess::Core(discovery()).etcd().SetAnswerHookForTesting(
      nullptr);
}

TEST_F(FleetTest, ClosingTheClientMarksItsHostsOfflineWithWhenTheyWent) {
  auto owner = NewDiscoveryClient();
  ASSERT_NE(owner, nullptr);
  auto reg = owner->Register("web", WebHost("web-1"), Fast());
  ASSERT_TRUE(reg.ok()) << reg.status();
  const std::string uuid = (*reg)->UUID();
  ASSERT_TRUE(WaitForHost("web", uuid,
                          [](const FleetHost& f) { return f.health.has_value(); }));
  owner.reset();  // Shuts down: the host goes down, then its record says so.
  auto record = FinalRecord("web", uuid);
  ASSERT_TRUE(record.has_value());
  auto f = InFleet("web", uuid);
  ASSERT_TRUE(f.has_value());
  EXPECT_FALSE(f->online);
  EXPECT_EQ(f->since, *record->first.went_at);
  EXPECT_TRUE(absl::IsFailedPrecondition((*reg)->SetGauge("late", 1)));
}

TEST_F(FleetTest, MalformedHealthRecordsInEtcdAreSkipped) {
  // Written once at the start, then not for an hour.
  RegisterOptions options = Fast();
  options.health_interval = std::chrono::hours(1);
  auto reg = MustRegister("web", WebHost("web-1"), options);
  ASSERT_NE(reg, nullptr);
  ASSERT_TRUE(WaitForHost("web", reg->UUID(),
                          [](const FleetHost& f) { return f.health.has_value(); }));
  MustPut("/service_health/web/ghost", "{\"health\":{\"load1\":\"high\"}}");
  MustPut("/service_health/web/nested/too/deep", "{}");
  MustPut("/service_health/web/", "{}");
  auto fleet = discovery().Fleet("web");
  ASSERT_TRUE(fleet.ok()) << fleet.status();
  ASSERT_EQ(fleet->size(), 1u);
  EXPECT_EQ((*fleet)[0].uuid, reg->UUID());
  // An online host whose record is broken shows without health.
  MustPut("/service_health/web/" + reg->UUID(), "not json");
  fleet = discovery().Fleet("web");
  ASSERT_TRUE(fleet.ok()) << fleet.status();
  ASSERT_EQ(fleet->size(), 1u);
  EXPECT_TRUE((*fleet)[0].online);
  EXPECT_FALSE((*fleet)[0].health.has_value());
  EXPECT_EQ((*fleet)[0].hostname, "web-1");
}

TEST_F(FleetTest, FleetCommandShowsTheTableAndJsonAndFiltersOnline) {
  auto up = MustRegister("web", WebHost("web-1"), Fast());
  auto gone = MustRegister("web", WebHost("web-2"), Fast());
  ASSERT_NE(up, nullptr);
  ASSERT_NE(gone, nullptr);
  ASSERT_TRUE(up->SetGauge("queue_depth", 12).ok());
  ASSERT_TRUE(WaitForHost("web", up->UUID(), [](const FleetHost& f) {
    return f.health && f.health->gauges.count("queue_depth") == 1;
  }));
  ASSERT_TRUE(WaitForHost("web", gone->UUID(),
                          [](const FleetHost& f) { return f.health.has_value(); }));
  ASSERT_TRUE(gone->Stop().ok());

  ProcessResult table = Run({"fleet"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_TRUE(Contains(table.out, "SERVICE")) << table.out;
  EXPECT_TRUE(Contains(table.out, "LOAD1")) << table.out;
  EXPECT_TRUE(Contains(table.out, "online")) << table.out;
  EXPECT_TRUE(Contains(table.out, "offline")) << table.out;
  EXPECT_TRUE(Contains(table.out, up->UUID())) << table.out;

  ProcessResult json = Run({"fleet", "web", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  auto all = ParseOrFail(json.out);
  ASSERT_EQ(all.items.size(), 2u) << json.out;
  EXPECT_EQ(Field(all.items[0], "uuid"), up->UUID());
  EXPECT_TRUE(all.items[0].Find("online")->boolean);
  EXPECT_FALSE(all.items[1].Find("online")->boolean);
  const internal::JsonValue* health = all.items[0].Find("health");
  ASSERT_NE(health, nullptr);
  for (const char* field :
       {"load1", "load5", "load15", "mem_total_bytes", "mem_available_bytes",
        "rss_bytes", "cpu_seconds", "uptime_seconds", "gauges"}) {
    EXPECT_NE(health->Find(field), nullptr) << field;
  }
  EXPECT_EQ(Field(*health->Find("gauges"), "queue_depth"), "12");
  for (const char* field : {"service", "hostname", "since", "last_seen"}) {
    EXPECT_NE(all.items[0].Find(field), nullptr) << field;
  }

  ProcessResult online = Run({"fleet", "web", "--online", "--json"});
  ASSERT_EQ(online.exit_code, 0) << online.err;
  EXPECT_EQ(ParseOrFail(online.out).items.size(), 1u) << online.out;

  ProcessResult none = Run({"fleet", "db"});
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_TRUE(Contains(none.err, "no host of db")) << none.err;
  ProcessResult bad = Run({"fleet", "a/b"});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_TRUE(Contains(bad.err, "\"a/b\"")) << bad.err;
}

}  // namespace
}  // namespace etcdisc
