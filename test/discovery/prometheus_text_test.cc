// PrometheusText(): the exposition format, on metrics made up here.
#include <string>

#include "etcdisc/metrics.h"
#include "gtest/gtest.h"
#include "support/exposition.h"
#include "util/histogram.h"

namespace etcdisc {
namespace {

bool Has(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

TEST(HistogramTest, CountsEachValueInTheFirstBucketItFits) {
  internal::Histogram h({10, 100});
  for (int64_t v : {0, 10, 11, 100, 101, 5000}) h.Record(v);
  HistogramSnapshot s = h.Snapshot(2);
  EXPECT_EQ(s.bounds, (std::vector<double>{5, 50}));
  EXPECT_EQ(s.counts, (std::vector<uint64_t>{2, 2, 2}));
  EXPECT_EQ(s.count, 6u);
  EXPECT_DOUBLE_EQ(s.sum, (0 + 10 + 11 + 100 + 101 + 5000) * 0.5);
}

TEST(PrometheusTextTest, WritesSeriesWithEscapedLabelsAndCumulativeBuckets) {
  ClientMetrics m;
  m.registrations.push_back(
      {"web", "u-1", "registered", "", /*failed_attempts=*/2, 0});
  m.subscriptions.push_back({"we\"b\\\n", "down", 3, 1});
  m.subscriptions.push_back({"we\"b\\\n", "down", 2, 4});  // One series.
  CallMetrics txn;
  txn.method = "Txn";
  txn.duration_seconds = {{0.001, 0.01}, {1, 2, 3}, 6, 0.5};
  txn.errors = 1;
  m.calls.push_back(txn);
  m.members.push_back({"http://127.0.0.1:2379", 4, 5, 6});
  m.watch_stream_open = true;
  const std::string text = PrometheusText(m);

  EXPECT_TRUE(Has(text, "etcdisc_registration_state{service=\"web\",uuid=\"u-1\","
                        "state=\"registered\"} 1"));
  EXPECT_TRUE(Has(text, "etcdisc_registration_state{service=\"web\",uuid=\"u-1\","
                        "state=\"stopped\"} 0"));
  EXPECT_TRUE(Has(text, "etcdisc_registration_failed_attempts_total{"
                        "service=\"web\",uuid=\"u-1\"} 2"));
  EXPECT_TRUE(Has(text, "etcdisc_subscription_queue_depth{"
                        "service=\"we\\\"b\\\\\\n\",kind=\"down\"} 5"));
  EXPECT_TRUE(Has(text, "etcdisc_subscription_hosts{"
                        "service=\"we\\\"b\\\\\\n\",kind=\"down\"} 4"));
  EXPECT_TRUE(Has(text, "etcdisc_subscriptions{"
                        "service=\"we\\\"b\\\\\\n\",kind=\"down\"} 2"));
  EXPECT_TRUE(Has(text, "etcdisc_etcd_call_duration_seconds_bucket{"
                        "method=\"Txn\",le=\"0.001\"} 1"));
  EXPECT_TRUE(Has(text, "etcdisc_etcd_call_duration_seconds_bucket{"
                        "method=\"Txn\",le=\"0.01\"} 3"));
  EXPECT_TRUE(Has(text, "etcdisc_etcd_call_duration_seconds_bucket{"
                        "method=\"Txn\",le=\"+Inf\"} 6"));
  EXPECT_TRUE(Has(text, "etcdisc_etcd_call_duration_seconds_count{method=\"Txn\"} 6"));
  EXPECT_TRUE(Has(text, "etcdisc_etcd_call_duration_seconds_sum{method=\"Txn\"} 0.5"));
  EXPECT_TRUE(Has(text, "etcdisc_etcd_stream_opens_total{stream=\"keepalive\","
                        "member=\"http://127.0.0.1:2379\"} 6"));
  EXPECT_TRUE(Has(text, "etcdisc_stream_open{stream=\"watch\"} 1"));
  EXPECT_TRUE(Has(text, "etcdisc_stream_open{stream=\"keepalive\"} 0"));
}

TEST(PrometheusTextTest, EverySampleBelongsToAFamilyWithHelpAndType) {
  ClientMetrics m;
  m.registrations.push_back({"web", "u-1", "unregistered", "x", 0, 1});
  m.subscriptions.push_back({"web", "new", 0, 0});
  m.subscriptions.push_back({"web", "new", 1, 0});
  m.calls.push_back({"Range", {{1}, {0, 1}, 1, 2}, 0});
  m.members.push_back({"http://a:1", 0, 0, 0});
  internal::Histogram rtt(internal::Histogram::MicrosecondBounds());
  rtt.Record(120);
  m.keepalive_rtt_seconds = rtt.Snapshot(1'000'000);
  int samples = 0;
  EXPECT_TRUE(testing::IsExposition(PrometheusText(m), &samples));
  EXPECT_GT(samples, 20);
  EXPECT_NE(PrometheusText(m).find("# TYPE etcdisc_keepalive_rtt_seconds histogram\n"),
            std::string::npos);
  // Buckets read as written: 100 us is 0.0001 s.
  EXPECT_NE(PrometheusText(m).find("le=\"0.0001\""), std::string::npos);
}

TEST(PrometheusTextTest, AFamilyWithoutSamplesIsLeftOut) {
  const std::string text = PrometheusText(ClientMetrics{});
  EXPECT_EQ(text.find("registration_state"), std::string::npos) << text;
  EXPECT_EQ(text.find("etcd_call_duration_seconds"), std::string::npos);
  EXPECT_NE(text.find("# TYPE etcdisc_watchers gauge\netcdisc_watchers 0\n"),
            std::string::npos)
      << text;
  // A histogram always has its +Inf bucket, even with no bounds.
  EXPECT_NE(text.find("etcdisc_keepalive_rtt_seconds_bucket{le=\"+Inf\"} 0\n"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace etcdisc
