// Changes to etcd that land while one of a registration's calls is in flight:
// each test holds a call's answer (CallGate) or withholds keep-alive answers,
// changes etcd meanwhile, then checks what etcd holds at the end.
#include <string>

#include "discovery/client_access.h"
#include "discovery/records.h"
#include "gtest/gtest.h"
#include "support/call_gate.h"
#include "support/discovery_test.h"
#include "support/event_recorder.h"
#include "support/wait.h"

namespace etcdisc {
namespace {

using ::etcdisc::testing::CallGate;
using ::etcdisc::testing::DiscoveryTest;
using ::etcdisc::testing::EventRecorder;
using ::etcdisc::testing::HoldsFor;
using ::etcdisc::testing::WaitFor;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Kind = RegistrationEvent::Kind;

class RegistrationRaceTest : public DiscoveryTest {
 protected:
  internal::EtcdClient& Inside() {
    return internal::ClientAccess::Core(discovery()).etcd();
  }
  void TearDown() override {
    if (discovery_ready_) Inside().SetAnswerHookForTesting(nullptr);
    DiscoveryTest::TearDown();
  }
  void HoldAnswers(CallGate* gate) {
    Inside().SetAnswerHookForTesting(gate->Hook());
    discovery_ready_ = true;
  }

  // Whether `key` exists under a lease that etcd still holds.
  bool LiveUnderLease(const std::string& key) {
    const int64_t lease = RawLease(key);
    if (lease == 0) return false;
    auto ttl = client().lease().TimeToLive(lease, false);
    return ttl.ok() && ttl->ttl_seconds > 0;
  }

  // A public host of `service` with credentials `user` / `user`-pass.
  std::unique_ptr<Registration> RegisterPublic(const std::string& service,
                                               const std::string& user) {
    Host host = WebHost("pub.example");
    host.is_public = true;
    host.user = user;
    host.password = user + "-pass";
    return MustRegister(service, host);
  }

  void PutServiceCredentials(const std::string& service,
                             const std::string& user, int64_t lease) {
    ServiceInfo record;
    record.name = service;
    record.is_public = true;
    record.hostname = "pub.example";
    record.user = user;
    record.password = user + "-pass";
    MustPut("/service_infos/" + service, internal::EncodeService(record),
            lease);
  }

 private:
  bool discovery_ready_ = false;
};

TEST_F(RegistrationRaceTest, LeaseLostWhileItsTxnIsInFlightIsWrittenAgain) {
  CallGate gate;
  HoldAnswers(&gate);
  gate.Arm("Txn");
  EventRecorder events;
  RegisterOptions options;
  options.ttl = seconds(3);
  auto reg = discovery().Register("web", WebHost("10.0.0.1"), options,
                                  events.Callback());
  ASSERT_TRUE(reg.ok()) << reg.status();
  ASSERT_TRUE(gate.WaitHeld(seconds(10)));
  // The Txn was applied; its answer is held. The lease goes now.
  const std::string key = "/services/web/" + (*reg)->UUID();
  const int64_t lease = RawLease(key);
  ASSERT_NE(lease, 0);
  ASSERT_TRUE(client().lease().Revoke(lease).ok());
  ASSERT_TRUE(WaitFor([&] { return !Inside().keeper().IsKept(lease); },
                      seconds(10)));
  gate.Release();

  // The registration must notice that its answer is stale and write again.
  EXPECT_TRUE(WaitFor([&] { return LiveUnderLease(key); }, seconds(10)));
  EXPECT_TRUE(WaitFor([&] { return (*reg)->Ready(); }, seconds(10)));
  EXPECT_NE(RawLease(key), lease);
  EXPECT_TRUE(LiveUnderLease("/service_infos/web"));
}

TEST_F(RegistrationRaceTest, SecondCredentialsChangeDuringARewriteIsWritten) {
  auto reg = RegisterPublic("db", "a");
  ASSERT_NE(reg, nullptr);
  const std::string key = "/services/db/" + reg->UUID();
  const int64_t lease = RawLease(key);

  CallGate gate;
  HoldAnswers(&gate);
  gate.Arm("Put");
  PutServiceCredentials("db", "b", lease);
  ASSERT_TRUE(gate.WaitHeld(seconds(10)));  // The host rewrite for "b".
  PutServiceCredentials("db", "c", lease);
  ASSERT_TRUE(WaitFor([&] { return reg->host().user == "c"; }, seconds(10)));
  gate.Release();

  EXPECT_TRUE(WaitFor(
      [&] {
        auto written = internal::DecodeHost(RawValue(key));
        return written.ok() && written->user == "c";
      },
      seconds(10)));
  EXPECT_EQ(RawLease(key), lease);
}

TEST_F(RegistrationRaceTest, HostKeyDeletedBehindALiveRegistrationIsPutBack) {
  EventRecorder events;
  auto reg = MustRegister("web", WebHost("10.0.0.1"), RegisterOptions{},
                          events.Callback());
  ASSERT_NE(reg, nullptr);
  const std::string key = "/services/web/" + reg->UUID();
  const int64_t lease = RawLease(key);
  MustDelete(key);
  EXPECT_TRUE(WaitFor([&] { return RawLease(key) == lease; }, seconds(10)));
  EXPECT_TRUE(reg->Ready());
  EXPECT_FALSE(events.Saw(Kind::kLost));  // The lease lived all along.
}

TEST_F(RegistrationRaceTest, HostKeyDeletedWhileItsRewriteIsInFlightIsPutBack) {
  auto reg = RegisterPublic("db", "a");
  ASSERT_NE(reg, nullptr);
  const std::string key = "/services/db/" + reg->UUID();
  const int64_t lease = RawLease(key);
  // A subscription on the same client shares the registration's watch
  // stream: once it has seen a later marker, the registration has seen the
  // delete.
  auto events = discovery().Subscribe("db");
  ASSERT_TRUE(events.ok());

  CallGate gate;
  HoldAnswers(&gate);
  gate.Arm("Put");
  PutServiceCredentials("db", "b", lease);
  ASSERT_TRUE(gate.WaitHeld(seconds(10)));  // The rewrite for "b" landed.
  MustDelete(key);
  const std::string marker = PutMarker("db");
  bool marker_seen = false;
  while (auto e = (*events)->Pop(seconds(10))) {
    if (e->uuid() == marker) {
      marker_seen = true;
      break;
    }
  }
  ASSERT_TRUE(marker_seen);
  gate.Release();

  EXPECT_TRUE(WaitFor(
      [&] {
        auto written = internal::DecodeHost(RawValue(key));
        return written.ok() && written->user == "b";
      },
      seconds(10)));
  EXPECT_TRUE(reg->Ready());
}

TEST_F(RegistrationRaceTest, ServiceRecordDeletedDuringReregistrationIsPutBack) {
  auto holder = MustRegister("web", WebHost("10.0.0.1"));
  auto other = MustRegister("web", WebHost("10.0.0.2"));
  ASSERT_NE(holder, nullptr);
  ASSERT_NE(other, nullptr);
  ASSERT_EQ(RawLease("/service_infos/web"),
            RawLease("/services/web/" + holder->UUID()));

  // `other` loses its lease and writes its keys again; while the answer of
  // that Txn is held (it found the record in place and left it), the
  // record's holder goes and takes the record with it.
  CallGate gate;
  HoldAnswers(&gate);
  gate.Arm("Txn");
  ASSERT_TRUE(client()
                  .lease()
                  .Revoke(RawLease("/services/web/" + other->UUID()))
                  .ok());
  ASSERT_TRUE(gate.WaitHeld(seconds(10)));
  ASSERT_TRUE(holder->Stop().ok());
  ASSERT_EQ(RawValue("/service_infos/web"), "");
  gate.Release();

  EXPECT_TRUE(WaitFor([&] { return LiveUnderLease("/service_infos/web"); },
                      seconds(10)));
  EXPECT_EQ(RawLease("/service_infos/web"),
            RawLease("/services/web/" + other->UUID()));
}

TEST_F(RegistrationRaceTest, LateKeepAliveAnswersAreNotALoss) {
  EventRecorder events;
  RegisterOptions options;
  options.ttl = seconds(2);
  auto reg = MustRegister("web", WebHost("10.0.0.1"), options,
                          events.Callback());
  ASSERT_NE(reg, nullptr);
  const std::string key = "/services/web/" + reg->UUID();
  const int64_t lease = RawLease(key);

  // Refreshes still reach etcd, which keeps the lease; only the answers are
  // late. Past the local estimate of the lease's expiry, etcd still holds it.
  Inside().keeper().SetAnswerFilterForTesting(
      [lease](int64_t id) { return id != lease; });
  ASSERT_TRUE(HoldsFor([&] { return LiveUnderLease(key); }, seconds(4)));
  Inside().keeper().SetAnswerFilterForTesting(nullptr);
  ASSERT_TRUE(WaitFor([&] { return reg->Ready(); }, seconds(10)));

  EXPECT_FALSE(events.Saw(Kind::kLost));
  EXPECT_FALSE(events.Saw(Kind::kReregistered));
  EXPECT_EQ(RawLease(key), lease);
  ASSERT_TRUE(reg->Stop().ok());
  EXPECT_EQ(RawValue(key), "");
}

}  // namespace
}  // namespace etcdisc
