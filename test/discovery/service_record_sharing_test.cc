// A client's registrations of one service watch its service record through
// one shared watch (discovery/service_record_watches.h), against etcd: the
// record is put back and credentials are adopted as with a watch each.
#include <memory>
#include <string>
#include <vector>

#include "discovery/records.h"
#include "gtest/gtest.h"
#include "support/discovery_test.h"
#include "support/wait.h"

namespace etcdisc {
namespace {

using ::etcdisc::testing::DiscoveryTest;
using ::etcdisc::testing::WaitFor;
using std::chrono::seconds;

class ServiceRecordSharingTest : public DiscoveryTest {
 protected:
  size_t Watchers() { return discovery().Metrics().watchers; }
  void DeleteRecord(const std::string& service) {
    internal::DeleteRequest del;
    del.key = "/service_infos/" + service;
    ASSERT_TRUE(client().kv().Delete(del).ok());
  }
  // Whether the record of `service` is in etcd under the lease of one of
  // `hosts`.
  bool RecordHeldByOneOf(const std::string& service,
                         const std::vector<Registration*>& hosts) {
    const int64_t lease = RawLease("/service_infos/" + service);
    for (Registration* r : hosts) {
      if (lease != 0 && lease == RawLease("/services/" + service + "/" + r->UUID())) {
        return true;
      }
    }
    return false;
  }
};

TEST_F(ServiceRecordSharingTest, OneWatchOfEachRecordServesAllItsRegistrationsAndOutlivesTheFirst) {
  std::vector<std::unique_ptr<Registration>> web;
  for (int i = 1; i <= 4; ++i) {
    web.push_back(MustRegister("web", WebHost("10.0.0." + std::to_string(i))));
    ASSERT_NE(web.back(), nullptr);
  }
  auto db = MustRegister("db", WebHost("10.0.1.1"));
  ASSERT_NE(db, nullptr);
  // One watch per host key, one per service record.
  EXPECT_TRUE(WaitFor([&] { return Watchers() == 5 + 2; }, seconds(10)))
      << Watchers();

  DeleteRecord("web");
  EXPECT_TRUE(WaitFor(
      [&] {
        return RecordHeldByOneOf(
            "web", {web[0].get(), web[1].get(), web[2].get(), web[3].get()});
      },
      seconds(10)));

  // The record's holder and the watch's first joiner go: the last one left
  // puts the record back, and still hears it deleted by hand.
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(web[i]->Stop().ok());
  EXPECT_TRUE(WaitFor([&] { return RecordHeldByOneOf("web", {web[3].get()}); },
                      seconds(10)));
  EXPECT_TRUE(WaitFor([&] { return Watchers() == 2 + 2; }, seconds(10)))
      << Watchers();
  DeleteRecord("web");
  EXPECT_TRUE(WaitFor([&] { return RecordHeldByOneOf("web", {web[3].get()}); },
                      seconds(10)));
  EXPECT_EQ(RawValue("/service_infos/web"), R"({"name":"web","critical":false})");

  ASSERT_TRUE(web[3]->Stop().ok());
  EXPECT_TRUE(WaitFor([&] { return Watchers() == 2; }, seconds(10)))
      << Watchers();
  DeleteRecord("db");  // The other service's watch is its own.
  EXPECT_TRUE(WaitFor([&] { return RecordHeldByOneOf("db", {db.get()}); },
                      seconds(10)));
}

TEST_F(ServiceRecordSharingTest, EveryPublicHostOfTheServiceAdoptsChangedCredentials) {
  std::vector<std::unique_ptr<Registration>> hosts;
  for (const char* name : {"10.0.0.1", "10.0.0.2", "10.0.0.3"}) {
    Host host = WebHost(name);
    host.is_public = true;
    host.user = "old-user";
    host.password = "old-pass";
    hosts.push_back(MustRegister("db", host));
    ASSERT_NE(hosts.back(), nullptr);
  }
  auto record = internal::DecodeService(RawValue("/service_infos/db"));
  ASSERT_TRUE(record.ok()) << record.status();
  record->user = "new-user";
  record->password = "new-pass";
  MustPut("/service_infos/db", internal::EncodeService(*record));

  for (auto& r : hosts) {
    EXPECT_TRUE(WaitFor(
        [&] {
          auto written = internal::DecodeHost(
              RawValue("/services/db/" + r->UUID()));
          return written.ok() && written->user == "new-user" &&
                 written->password == "new-pass";
        },
        seconds(10)))
        << r->UUID();
  }
  // Each adopted them through the service record's watch, so each has
  // joined it by now: one watch per host key and one of the record (a watch
  // each would make 6).
  EXPECT_EQ(Watchers(), 3u + 1u);
}

}  // namespace
}  // namespace etcdisc
