// The health sample's parsers, the publishing threshold, the health record's
// JSON and how host and health records make the fleet.
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "discovery/keys.h"
#include "fleet/fleet_read.h"
#include "fleet/health_record.h"
#include "fleet/proc_health.h"
#include "gtest/gtest.h"
#include "util/time_text.h"
#include "support/exposition.h"

namespace etcdisc::internal {
namespace {

using std::chrono::seconds;
using TimePoint = std::chrono::system_clock::time_point;

TimePoint At(int64_t seconds_since_epoch) {
  return TimePoint(std::chrono::seconds(seconds_since_epoch));
}

TEST(ProcHealthTest, ParsesLoadMemoryAndUptime) {
  HostHealth h;
  ASSERT_TRUE(ParseLoadavg("0.52 0.40 0.31 2/345 6789\n", &h));
  EXPECT_DOUBLE_EQ(h.load1, 0.52);
  EXPECT_DOUBLE_EQ(h.load5, 0.40);
  EXPECT_DOUBLE_EQ(h.load15, 0.31);
  ASSERT_TRUE(ParseMeminfo("MemTotal:        8143964 kB\nMemFree:  1 kB\n"
                           "MemAvailable:    4991404 kB\n",
                           &h));
  EXPECT_EQ(h.mem_total_bytes, int64_t{8143964} * 1024);
  EXPECT_EQ(h.mem_available_bytes, int64_t{4991404} * 1024);
  ASSERT_TRUE(ParseUptime("86400.27 170000.00\n", &h));
  EXPECT_EQ(h.uptime_seconds, 86400);
}

TEST(ProcHealthTest, RefusesTextOfAnotherFormLeavingTheSampleAsItWas) {
  HostHealth h;
  h.load1 = 7;
  EXPECT_FALSE(ParseLoadavg("", &h));
  EXPECT_FALSE(ParseLoadavg("0.5 x 0.3", &h));
  EXPECT_FALSE(ParseLoadavg("-1 0 0", &h));
  EXPECT_FALSE(ParseLoadavg("inf 0 0", &h));
  EXPECT_FALSE(ParseUptime("inf 0", &h));
  EXPECT_EQ(h.load1, 7);
  EXPECT_FALSE(ParseMeminfo("MemTotal: 10 kB\n", &h));  // No MemAvailable.
  EXPECT_FALSE(ParseMeminfo("MemTotal: lots\nMemAvailable: 1 kB\n", &h));
  EXPECT_FALSE(ParseUptime("soon", &h));
  EXPECT_EQ(h.mem_total_bytes, 0);
  TimePoint boot;
  EXPECT_FALSE(ParseBootTime("cpu 1 2 3\n", &boot));
  EXPECT_FALSE(ParseSelfStat("no parenthesis", 100, 4096, At(0), &h));
  EXPECT_FALSE(ParseSelfStat("1 (x) S 1 2", 100, 4096, At(0), &h));
}

TEST(ProcHealthTest, ReadsTheProcessFieldsAfterACommandWithSpacesAndParens) {
  // Fields 3..24 after "pid (comm)": utime 14 = 250, stime 15 = 50,
  // starttime 22 = 1000 ticks, rss 24 = 300 pages.
  const std::string stat =
      "4242 (a (b) c) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 "
      "7 0 1000 123456789 300 18446744073709551615\n";
  TimePoint boot;
  ASSERT_TRUE(ParseBootTime("cpu 1\nbtime 1700000000\nprocesses 5\n", &boot));
  EXPECT_EQ(boot, At(1700000000));
  HostHealth h;
  ASSERT_TRUE(ParseSelfStat(stat, 100, 4096, boot, &h));
  EXPECT_DOUBLE_EQ(h.cpu_seconds, 3.0);
  EXPECT_EQ(h.rss_bytes, 300 * 4096);
  EXPECT_EQ(h.process_start, At(1700000000 + 10));
}

TEST(ProcHealthTest, SamplesThisMachineAndProcess) {
  const HostHealth h = SampleHealth();
  EXPECT_GT(h.mem_total_bytes, 0);
  EXPECT_GT(h.mem_available_bytes, 0);
  EXPECT_LE(h.mem_available_bytes, h.mem_total_bytes);
  EXPECT_GT(h.rss_bytes, 0);
  EXPECT_GT(h.uptime_seconds, 0);
  EXPECT_GT(h.process_start, TimePoint{});
  EXPECT_LE(h.process_start, std::chrono::system_clock::now());
}

TEST(ProcHealthTest, ARecentSampleIsSharedAndAnOlderOneTakenAgain) {
  const TimedHealth first = RecentHealth(std::chrono::hours(1));
  EXPECT_GT(first.health.mem_total_bytes, 0);
  // Recent enough for a caller that takes an hour-old one: the same.
  EXPECT_EQ(RecentHealth(std::chrono::hours(1)).taken_at, first.taken_at);
  // Too old for a caller that takes none older than 0: read again.
  const TimedHealth fresh = RecentHealth(std::chrono::nanoseconds(0));
  EXPECT_GT(fresh.taken_at, first.taken_at);
  EXPECT_GT(fresh.health.mem_total_bytes, 0);
  EXPECT_EQ(RecentHealth(std::chrono::hours(1)).taken_at, fresh.taken_at);
}

TEST(ProcHealthTest, PublishesOnlyWhatChangedBeyondTheThreshold) {
  HostHealth last;
  last.load1 = last.load5 = last.load15 = 1.0;
  last.mem_total_bytes = 1000 << 20;
  last.mem_available_bytes = 500 << 20;
  last.rss_bytes = 50 << 20;
  last.cpu_seconds = 10;
  const auto ten = seconds(10);
  HostHealth now = last;
  now.load1 = 1.4;   // A quiet machine's drift.
  now.load15 = 0.6;
  now.rss_bytes += 1000;
  now.mem_available_bytes += 1 << 20;  // 0.1% of the total.
  now.cpu_seconds += 0.4;              // 0.04 core over 10 s.
  EXPECT_FALSE(WorthPublishing(last, 0, now, ten));
  for (auto change : std::vector<void (*)(HostHealth*)>{
           [](HostHealth* h) { h->load1 = 1.5; },
           [](HostHealth* h) { h->load5 = 0.5; },
           [](HostHealth* h) { h->load15 = 0.4; },
           [](HostHealth* h) { h->mem_available_bytes -= 20 << 20; },
           [](HostHealth* h) { h->mem_total_bytes += 1; },
           [](HostHealth* h) { h->rss_bytes += 2 << 20; },
           [](HostHealth* h) { h->cpu_seconds += 0.2; },
           [](HostHealth* h) { h->gauges["queue_depth"] = 1; },
           [](HostHealth* h) { h->version = "9.9.9"; }}) {
    HostHealth changed = now;
    change(&changed);
    EXPECT_TRUE(WorthPublishing(last, 0, changed, ten));
  }
  EXPECT_FALSE(WorthPublishing(last, 0, last, seconds(0)));
  EXPECT_FALSE(WorthPublishing(HostHealth{}, 0, HostHealth{}, ten));  // No /proc.
}

TEST(ProcHealthTest, ALoadIsWrittenWhenItMovesByAQuarter) {
  HostHealth last;
  last.load1 = last.load5 = last.load15 = 8;
  HostHealth now = last;
  now.load1 = 9.9;  // Less than a quarter of 8.
  EXPECT_FALSE(WorthPublishing(last, 0, now, seconds(10)));
  now.load1 = 10;
  EXPECT_TRUE(WorthPublishing(last, 0, now, seconds(10)));
  now.load1 = 6;
  EXPECT_TRUE(WorthPublishing(last, 0, now, seconds(10)));
}

TEST(ProcHealthTest, ASteadilyBusyProcessIsNotWrittenForItsCpuTime) {
  HostHealth last;
  last.cpu_seconds = 100;
  HostHealth now = last;
  now.cpu_seconds += 5;  // Half a core over 10 s.
  EXPECT_EQ(CpuRate(last, now, seconds(10)), 0.5);
  // As busy as when last written, within a quarter: not worth a write.
  EXPECT_FALSE(WorthPublishing(last, 0.5, now, seconds(10)));
  EXPECT_FALSE(WorthPublishing(last, 0.42, now, seconds(10)));
  EXPECT_FALSE(WorthPublishing(last, 0.58, now, seconds(10)));
  // Busier or quieter by a quarter or more: written.
  EXPECT_TRUE(WorthPublishing(last, 0.38, now, seconds(10)));
  EXPECT_TRUE(WorthPublishing(last, 0.7, now, seconds(10)));
  // A nearly idle process: 0.05 core is the least change that counts.
  now.cpu_seconds = last.cpu_seconds + 0.4;
  EXPECT_FALSE(WorthPublishing(last, 0.001, now, seconds(10)));
  now.cpu_seconds = last.cpu_seconds + 0.6;
  EXPECT_TRUE(WorthPublishing(last, 0.001, now, seconds(10)));
}

TEST(ProcHealthTest, NoCpuRateIsComparedWithoutOne) {
  HostHealth last;
  last.cpu_seconds = 100;
  HostHealth now = last;
  now.cpu_seconds += 5;
  // No rate when last written (its first write): the CPU is not compared.
  EXPECT_FALSE(WorthPublishing(last, std::nullopt, now, seconds(10)));
  // No time passed, or no CPU time read from /proc: no rate now.
  EXPECT_EQ(CpuRate(last, now, seconds(0)), std::nullopt);
  EXPECT_FALSE(WorthPublishing(last, 0.5, now, seconds(0)));
  HostHealth unread = now;
  unread.cpu_seconds = 0;
  EXPECT_EQ(CpuRate(last, unread, seconds(10)), std::nullopt);
  EXPECT_EQ(CpuRate(unread, now, seconds(10)), std::nullopt);
  EXPECT_FALSE(WorthPublishing(unread, 0.001, now, seconds(10)));
  // CPU time going back (never, but not a negative rate either).
  EXPECT_EQ(CpuRate(now, last, seconds(10)), 0.0);
}

HealthRecord SampleRecord() {
  HealthRecord r;
  r.hostname = "10.0.0.7";
  r.registered_at = At(1700000000);
  r.last_seen = At(1700000600);
  r.health.load1 = 0.52;
  r.health.load5 = 0.4;
  r.health.load15 = 0.31;
  r.health.mem_total_bytes = 8339451904;
  r.health.mem_available_bytes = 5111111680;
  r.health.uptime_seconds = 86400;
  r.health.rss_bytes = 12582912;
  r.health.cpu_seconds = 1.25;
  r.health.process_start = At(1699999999);
  r.health.version = "0.6.0";
  r.health.gauges = {{"queue_depth", 12}, {"ratio", 0.125}};
  return r;
}

TEST(HealthRecordTest, RoundTripsEveryField) {
  HealthRecord r = SampleRecord();
  r.went_at = At(1700000603);
  const std::string json = EncodeHealthRecord(r);
  auto back = DecodeHealthRecord(json);
  ASSERT_TRUE(back.ok()) << back.status() << json;
  EXPECT_EQ(back->hostname, r.hostname);
  EXPECT_EQ(back->registered_at, r.registered_at);
  EXPECT_EQ(back->last_seen, r.last_seen);
  EXPECT_EQ(back->went_at, r.went_at);
  EXPECT_EQ(back->health.load1, r.health.load1);
  EXPECT_EQ(back->health.load15, r.health.load15);
  EXPECT_EQ(back->health.mem_total_bytes, r.health.mem_total_bytes);
  EXPECT_EQ(back->health.mem_available_bytes, r.health.mem_available_bytes);
  EXPECT_EQ(back->health.uptime_seconds, r.health.uptime_seconds);
  EXPECT_EQ(back->health.rss_bytes, r.health.rss_bytes);
  EXPECT_EQ(back->health.cpu_seconds, r.health.cpu_seconds);
  EXPECT_EQ(back->health.process_start, r.health.process_start);
  EXPECT_EQ(back->health.version, r.health.version);
  EXPECT_EQ(back->health.gauges, r.health.gauges);
  EXPECT_FALSE(DecodeHealthRecord(EncodeHealthRecord(SampleRecord()))
                   ->went_at.has_value());
}

TEST(HealthRecordTest, AMalformedRecordIsAnErrorNamingTheField) {
  for (const auto& [json, named] :
       std::vector<std::pair<std::string, std::string>>{
           {"[]", "not a JSON object"},
           {"{\"hostname\":1}", "\"hostname\""},
           {"{\"last_seen\":\"yesterday\"}", "\"last_seen\""},
           {"{\"health\":[]}", "\"health\""},
           {"{\"health\":{\"load1\":\"high\"}}", "\"load1\""},
           {"{\"health\":{\"rss_bytes\":-5}}", "\"rss_bytes\""},
           {"{\"health\":{\"gauges\":{\"q\":\"x\"}}}", "\"q\""},
           {"{\"health\":", ""}}) {
    auto record = DecodeHealthRecord(json);
    ASSERT_FALSE(record.ok()) << json;
    EXPECT_TRUE(record.status().message().find(named) != std::string::npos)
        << record.status();
  }
  auto fine = DecodeHealthRecord("{\"unknown\":[1,2],\"hostname\":\"h\"}");
  ASSERT_TRUE(fine.ok()) << fine.status();
  EXPECT_EQ(fine->hostname, "h");
}

TEST(HealthRecordTest, ATimeFarFromNowIsRefusedNamingIt) {
  HealthRecord r = SampleRecord();
  std::string json = EncodeHealthRecord(r);
  const std::string seen = "\"last_seen\":\"";
  const size_t at = json.find(seen) + seen.size();
  json.replace(at, json.find('"', at) - at, "0001-01-01T00:00:00Z");
  auto decoded = DecodeHealthRecord(json);
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.status().message().find("0001-01-01T00:00:00Z"),
            std::string::npos) << decoded.status();
  EXPECT_FALSE(ParseUtcTime("2200-01-01T00:00:00Z").ok());
  EXPECT_FALSE(ParseUtcTime("1969-12-31T23:59:59Z").ok());
  EXPECT_TRUE(ParseUtcTime("1970-01-01T00:00:00Z").ok());
}

TEST(HealthRecordTest, GaugeNamesAndValuesAreChecked) {
  EXPECT_TRUE(ValidateGauge("queue_depth", 12).ok());
  EXPECT_TRUE(ValidateGauge("_x9", -1.5).ok());
  for (const std::string& name : std::vector<std::string>{
           "", "9lives", "queue-depth", "a b", std::string(65, 'a')}) {
    absl::Status s = ValidateGauge(name, 1);
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << name;
    EXPECT_TRUE(s.message().find("\"" + name + "\"") != std::string::npos) << s;
  }
  EXPECT_TRUE(absl::IsInvalidArgument(ValidateGauge("q", 1.0 / 0.0)));
}

KeyValue Kv(std::string key, std::string value) {
  KeyValue kv;
  kv.key = std::move(key);
  kv.value = std::move(value);
  return kv;
}

TEST(FleetOfTest, JoinsHostAndHealthRecordsIntoOnlineAndOfflineHosts) {
  const KeyLayout keys("");
  const std::vector<KeyValue> hosts = {
      Kv("/services/web/u1", R"({"name":"web-1","ports":{"http":"80"},"uuid":"u1"})"),
      Kv("/services/web/u2", R"({"name":"web-2","ports":{"http":"80"},"uuid":"u2"})"),
      Kv("/services/web/bad", "not json")};
  HealthRecord online = SampleRecord();
  HealthRecord stopped = SampleRecord();
  stopped.hostname = "web-3";
  stopped.went_at = At(1700000700);
  HealthRecord died = SampleRecord();
  died.hostname = "web-4";
  const std::vector<KeyValue> health = {
      Kv("/service_health/web/u1", EncodeHealthRecord(online)),
      Kv("/service_health/web/u3", EncodeHealthRecord(stopped)),
      Kv("/service_health/web/u4", EncodeHealthRecord(died)),
      Kv("/service_health/web/u5", "{\"health\":7}"),
      Kv("/service_health/web/u2", "][")};
  std::vector<FleetHost> fleet = FleetOf(keys, hosts, health);
  ASSERT_EQ(fleet.size(), 4u);
  EXPECT_EQ(fleet[0].uuid, "u1");
  EXPECT_TRUE(fleet[0].online);
  EXPECT_EQ(fleet[0].hostname, "web-1");  // From the host record.
  EXPECT_EQ(fleet[0].since, online.registered_at);
  ASSERT_TRUE(fleet[0].health.has_value());
  EXPECT_EQ(fleet[0].health->gauges.at("queue_depth"), 12);
  EXPECT_EQ(fleet[1].uuid, "u2");  // Online; its health record is malformed.
  EXPECT_TRUE(fleet[1].online);
  EXPECT_FALSE(fleet[1].health.has_value());
  EXPECT_EQ(fleet[2].uuid, "u3");
  EXPECT_FALSE(fleet[2].online);
  EXPECT_EQ(fleet[2].since, *stopped.went_at);
  EXPECT_EQ(fleet[3].uuid, "u4");
  EXPECT_FALSE(fleet[3].online);
  EXPECT_EQ(fleet[3].since, died.last_seen);
  EXPECT_EQ(fleet[3].last_seen, died.last_seen);
}

FleetHost OnlineHost(const std::string& uuid) {
  FleetHost h;
  h.service = "web";
  h.uuid = uuid;
  h.hostname = "web-1";
  h.online = true;
  h.since = At(1700000000);
  return h;
}

TEST(ChangeOfTest, NamesTheEventOfEachChangeAndNoneForNoChange) {
  using Kind = FleetEvent::Kind;
  const FleetHost online = OnlineHost("u1");
  FleetHost offline = online;
  offline.online = false;
  FleetHost newer = online;
  newer.last_seen = At(1700000010);
  FleetHost stopped = offline;
  stopped.since = At(1700000020);
  EXPECT_EQ(ChangeOf(std::nullopt, std::nullopt), std::nullopt);
  EXPECT_EQ(ChangeOf(std::nullopt, online), Kind::kOnline);
  EXPECT_EQ(ChangeOf(std::nullopt, offline), Kind::kOffline);
  EXPECT_EQ(ChangeOf(online, offline), Kind::kOffline);
  EXPECT_EQ(ChangeOf(offline, online), Kind::kOnline);
  EXPECT_EQ(ChangeOf(online, newer), Kind::kHealth);
  EXPECT_EQ(ChangeOf(offline, stopped), Kind::kHealth);
  EXPECT_EQ(ChangeOf(online, online), std::nullopt);
  EXPECT_EQ(ChangeOf(offline, std::nullopt), Kind::kForgotten);
}

TEST(FleetTextTest, WritesTheFleetAsJsonWithNullForWhatIsUnknown) {
  FleetHost bare = OnlineHost("u2");
  bare.hostname = "we\"b";
  EXPECT_EQ(FleetHostJson(bare),
            "{\"service\":\"web\",\"uuid\":\"u2\",\"hostname\":\"we\\\"b\","
            "\"online\":true,\"since\":\"2023-11-14T22:13:20.000Z\","
            "\"last_seen\":null,\"health\":null}");
  FleetHost full = OnlineHost("u1");
  full.health = SampleRecord().health;
  const std::string list = FleetJson({full, bare});
  EXPECT_EQ(list.front(), '[');
  EXPECT_NE(list.find("\"health\":{\"load1\":"), std::string::npos) << list;
  EXPECT_EQ(FleetJson({}), "[]");
  FleetEvent event{FleetEvent::Kind::kOffline, 7, bare};
  EXPECT_EQ(FleetEventJson(event),
            "{\"kind\":\"offline\",\"sequence\":7,\"host\":" +
                FleetHostJson(bare) + "}");
}

TEST(FleetTextTest, WritesPrometheusTextWithHostLabelsAndEveryGauge) {
  FleetHost full = OnlineHost("u1");
  full.health = SampleRecord().health;
  full.health->gauges["errors"] = 2;
  FleetHost gone = OnlineHost("u2");
  gone.online = false;
  gone.hostname = "a\"b";
  const std::string text = FleetPrometheusText({full, gone});
  int samples = 0;
  EXPECT_TRUE(testing::IsExposition(text, &samples)) << text;
  // up for both; 10 health families and 3 gauges for the one with health.
  EXPECT_EQ(samples, 2 + 10 + 3) << text;
  const std::string labels = "{service=\"web\",uuid=\"u1\",hostname=\"web-1\"";
  EXPECT_NE(text.find("etcdisc_fleet_host_up" + labels + "} 1\n"),
            std::string::npos) << text;
  EXPECT_NE(text.find("etcdisc_fleet_host_up{service=\"web\",uuid=\"u2\","
                      "hostname=\"a\\\"b\"} 0\n"),
            std::string::npos) << text;
  EXPECT_NE(text.find("etcdisc_fleet_gauge" + labels + ",gauge=\"queue_depth\"} 12\n"),
            std::string::npos) << text;
  EXPECT_NE(text.find("etcdisc_fleet_process_resident_memory_bytes" + labels +
                      "} " + std::to_string(full.health->rss_bytes) + "\n"),
            std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE etcdisc_fleet_process_cpu_seconds_total counter\n"),
            std::string::npos);
}

}  // namespace
}  // namespace etcdisc::internal
