// Everything through etcd's gRPC proxy (`etcd grpc-proxy start`), which
// coalesces watches from many clients: it assigns watch ids itself and never
// answers progress requests.
#include <signal.h>

#include "gtest/gtest.h"
#include "support/discovery_test.h"
#include "support/process.h"
#include "support/wait.h"

namespace etcdisc {
namespace {

using ::etcdisc::testing::BackgroundProcess;
using ::etcdisc::testing::DiscoveryTest;
using ::etcdisc::testing::PopThrough;
using ::etcdisc::testing::WaitFor;
using std::chrono::milliseconds;
using std::chrono::seconds;

class ProxyTest : public DiscoveryTest {
 protected:
  void SetUp() override {
    DiscoveryTest::SetUp();
    if (HasFatalFailure()) return;
    auto proxy = cluster().StartProxy();
    ASSERT_TRUE(proxy.ok()) << proxy.status();
    proxy_ = *proxy;
    ClientOptions options = DiscoveryOptions();
    options.endpoints = proxy_;
    auto client = Client::Create(options);
    ASSERT_TRUE(client.ok()) << client.status();
    through_proxy_ = *std::move(client);
  }
  void TearDown() override {
    through_proxy_.reset();
    DiscoveryTest::TearDown();
  }
  static std::string UuidOf(const HostEvent& e) { return e.uuid(); }

  std::string proxy_;
  std::unique_ptr<Client> through_proxy_;
};

TEST_F(ProxyTest, RegisterGetWatchAndStopWorkThroughTheProxy) {
  auto events = through_proxy_->Subscribe("web");
  auto second = through_proxy_->SubscribeNew("web");  // Coalesced by the proxy.
  ASSERT_TRUE(events.ok() && second.ok());
  RegisterOptions ttl;
  ttl.ttl = seconds(2);
  auto reg = through_proxy_->Register("web", WebHost("10.0.0.1"), ttl);
  ASSERT_TRUE(reg.ok());
  ASSERT_TRUE((*reg)->WaitRegistration(seconds(10)).ok());

  auto created = (*events)->Pop(seconds(10));
  ASSERT_TRUE(created.has_value());
  EXPECT_EQ(created->kind, HostEvent::Kind::kNew);
  EXPECT_EQ(created->uuid(), (*reg)->UUID());
  auto also = (*second)->Pop(seconds(10));
  ASSERT_TRUE(also.has_value());
  EXPECT_EQ(also->uuid, (*reg)->UUID());

  auto hosts = through_proxy_->Get("web");
  ASSERT_TRUE(hosts.ok()) << hosts.status();
  EXPECT_EQ(hosts->First()->uuid, (*reg)->UUID());

  // Kept alive through the proxy past several TTLs, with no loss.
  EXPECT_TRUE(testing::HoldsFor([&] { return (*reg)->Ready(); }, seconds(5)));
  EXPECT_NE(RawValue("/services/web/" + (*reg)->UUID()), "");

  ASSERT_TRUE((*reg)->Stop().ok());
  auto gone = (*events)->Pop(seconds(10));
  ASSERT_TRUE(gone.has_value());
  EXPECT_EQ(gone->kind, HostEvent::Kind::kDown);
  EXPECT_EQ(gone->uuid(), (*reg)->UUID());
  // Exactly once each, and still following.
  const std::string marker = PutMarker("web");
  EXPECT_TRUE(PopThrough(**events, marker, UuidOf, seconds(10)).empty());
}

TEST_F(ProxyTest, AKilledRegistrarGoesDownThroughTheProxy) {
  auto downs = through_proxy_->SubscribeDown("web");
  ASSERT_TRUE(downs.ok());
  BackgroundProcess registrar(
      {ETCDISC_REGISTRAR_PATH, proxy_, "web", "10.9.9.9", "2000"});
  auto uuid = registrar.ReadLine(seconds(20));
  ASSERT_TRUE(uuid.has_value()) << "the registrar did not register";
  EXPECT_NE(RawValue("/services/web/" + *uuid), "");
  registrar.Signal(SIGKILL);
  auto gone = (*downs)->Pop(seconds(20));
  ASSERT_TRUE(gone.has_value());
  EXPECT_EQ(*gone, *uuid);
}

TEST_F(ProxyTest, AQuietWatchStaysOnTheProxyStream) {
  // The proxy never answers progress probes: a quiet stream must not be
  // taken for a stalled one and reopened again and again.
  auto events = through_proxy_->Subscribe("web");
  ASSERT_TRUE(events.ok());
  const std::string marker = PutMarker("web");
  ASSERT_TRUE(PopThrough(**events, marker, UuidOf, seconds(10)).empty());
  const int opened = through_proxy_->Stats().watch_streams_opened;
  // Past two probe intervals and a probe timeout (2 s + 3 s by default).
  EXPECT_TRUE(testing::HoldsFor(
      [&] { return through_proxy_->Stats().watch_streams_opened == opened; },
      seconds(8)));
  const std::string later = PutMarker("web");
  EXPECT_TRUE(PopThrough(**events, later, UuidOf, seconds(10)).empty());
}

}  // namespace
}  // namespace etcdisc
