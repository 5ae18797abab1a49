// Client::Metrics() and PrometheusText() against a real etcd.
#include <string>

#include "etcdisc/metrics.h"
#include "gtest/gtest.h"
#include "support/discovery_test.h"
#include "support/wait.h"

namespace etcdisc {
namespace {

using ::etcdisc::testing::DiscoveryTest;
using ::etcdisc::testing::WaitFor;
using std::chrono::milliseconds;
using std::chrono::seconds;

class MetricsTest : public DiscoveryTest {};

const CallMetrics* FindCall(const ClientMetrics& m, const std::string& method) {
  for (const auto& c : m.calls) {
    if (c.method == method) return &c;
  }
  return nullptr;
}

TEST_F(MetricsTest, ReportRegistrationsSubscriptionsCallsAndStreams) {
  auto news = discovery().SubscribeNew("web");
  ASSERT_TRUE(news.ok()) << news.status();
  RegisterOptions options;
  options.ttl = seconds(3);  // Refreshed every second: keep-alive answers.
  auto reg = MustRegister("web", WebHost("10.0.0.1"), options);
  ASSERT_NE(reg, nullptr);
  ASSERT_TRUE(discovery().Get("web").ok());

  // The New event is not popped: it waits in the queue.
  ClientMetrics m;
  ASSERT_TRUE(WaitFor(
      [&] {
        m = discovery().Metrics();
        return m.keepalive_rtt_seconds.count > 0 &&
               !m.subscriptions.empty() && m.subscriptions[0].queue_depth == 1;
      },
      seconds(10)))
      << PrometheusText(m);
  ASSERT_EQ(m.registrations.size(), 1u);
  EXPECT_EQ(m.registrations[0].service, "web");
  EXPECT_EQ(m.registrations[0].uuid, reg->UUID());
  EXPECT_EQ(m.registrations[0].state, "registered");
  EXPECT_EQ(m.registrations[0].last_error, "");
  ASSERT_EQ(m.subscriptions.size(), 1u);
  EXPECT_EQ(m.subscriptions[0].kind, "new");
  EXPECT_EQ(m.subscriptions[0].hosts, 1u);
  for (const char* method : {"Range", "Txn", "LeaseGrant"}) {
    const CallMetrics* call = FindCall(m, method);
    ASSERT_NE(call, nullptr) << method;
    EXPECT_GE(call->duration_seconds.count, 1u) << method;
    EXPECT_EQ(call->errors, 0) << method;
  }
  EXPECT_TRUE(m.watch_stream_open);
  EXPECT_TRUE(m.keepalive_stream_open);
  EXPECT_GE(m.watch_lag_revisions.count, 1u);
  EXPECT_GE(m.watch_delivery_seconds.count, 1u);
  ASSERT_EQ(m.members.size(), 1u);
  EXPECT_EQ(m.members[0].endpoint, cluster().endpoint(0));
  // At least: a loaded machine may see a stream reopened.
  EXPECT_GE(m.members[0].watch_stream_opens, 1);
  EXPECT_GE(m.members[0].keepalive_stream_opens, 1);

  const std::string text = PrometheusText(m);
  EXPECT_NE(text.find("etcdisc_registration_state{service=\"web\",uuid=\"" +
                      reg->UUID() + "\",state=\"registered\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("etcdisc_subscription_queue_depth{service=\"web\","
                      "kind=\"new\"} 1\n"),
            std::string::npos)
      << text;

  // Popped, stopped and gone: the series go with them.
  ASSERT_TRUE((*news)->Pop(seconds(1)).has_value());
  m = discovery().Metrics();
  ASSERT_EQ(m.subscriptions.size(), 1u);
  EXPECT_EQ(m.subscriptions[0].queue_depth, 0u);
  ASSERT_TRUE(reg->Stop().ok());
  reg.reset();
  news->reset();
  // A background task may hold them a moment longer.
  EXPECT_TRUE(WaitFor(
      [&] {
        m = discovery().Metrics();
        return m.registrations.empty() && m.subscriptions.empty();
      },
      seconds(10)))
      << PrometheusText(m);
  const CallMetrics* revoke = FindCall(m, "LeaseRevoke");
  ASSERT_NE(revoke, nullptr);
  EXPECT_EQ(revoke->duration_seconds.count, 1u);
}

TEST_F(MetricsTest, ACallThatFailsIsCountedAsAnError) {
  auto reg = MustRegister("web", WebHost("10.0.0.1"));
  ASSERT_NE(reg, nullptr);
  ASSERT_TRUE(cluster().Kill(0).ok());
  // With etcd gone, Stop's revoke fails: one call, counted as an error.
  EXPECT_FALSE(reg->Stop().ok());
  ClientMetrics m = discovery().Metrics();
  const CallMetrics* revoke = FindCall(m, "LeaseRevoke");
  ASSERT_NE(revoke, nullptr);
  EXPECT_EQ(revoke->errors, 1);
  EXPECT_NE(PrometheusText(m).find(
                "etcdisc_etcd_call_errors_total{method=\"LeaseRevoke\"} 1\n"),
            std::string::npos);
}

}  // namespace
}  // namespace etcdisc
