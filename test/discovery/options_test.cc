// ClientOptions' one check: every field out of its documented range is
// refused by Client::Create, naming the field and the value.
#include <chrono>
#include <functional>
#include <string>

#include "absl/strings/match.h"
#include "discovery/options.h"
#include "etcdisc/client.h"
#include "gtest/gtest.h"

namespace etcdisc {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::seconds;

struct BadValue {
  std::string label;  // What the message must name, e.g. "call_timeout = 0ms".
  std::function<void(ClientOptions*)> set;
};

TEST(ClientOptionsTest, DefaultsAreValid) {
  EXPECT_TRUE(internal::ValidateClientOptions(ClientOptions()).ok());
  auto client = Client::Create(ClientOptions());
  EXPECT_TRUE(client.ok()) << client.status();
}

TEST(ClientOptionsTest, ValuesOutOfRangeAreRefusedNamingFieldAndValue) {
  const BadValue bad[] = {
      {"call_timeout = 0ms", [](auto* o) { o->call_timeout = milliseconds(0); }},
      {"call_timeout = 3600001ms",
       [](auto* o) { o->call_timeout = hours(1) + milliseconds(1); }},
      {"dial_timeout = -5ms", [](auto* o) { o->dial_timeout = milliseconds(-5); }},
      {"ping_time = 4999ms", [](auto* o) { o->ping_time = milliseconds(4999); }},
      {"ping_timeout = 0ms", [](auto* o) { o->ping_timeout = milliseconds(0); }},
      {"shutdown_timeout = -1ms",
       [](auto* o) { o->shutdown_timeout = milliseconds(-1); }},
      {"reconcile_interval = 99ms",
       [](auto* o) { o->reconcile_interval = milliseconds(99); }},
      {"reconcile_interval = 86400001ms",
       [](auto* o) { o->reconcile_interval = hours(24) + milliseconds(1); }},
      {"watch_probe_interval = 0ms",
       [](auto* o) { o->watch_probe_interval = milliseconds(0); }},
      {"watch_probe_timeout = 50ms",
       [](auto* o) { o->watch_probe_timeout = milliseconds(50); }},
      {"worker_threads = 0", [](auto* o) { o->worker_threads = 0; }},
      {"worker_threads = 1025", [](auto* o) { o->worker_threads = 1025; }},
      {"subscription_capacity = 1073741825",
       [](auto* o) { o->subscription_capacity = (size_t{1} << 30) + 1; }},
      {"hostname \"my host\"", [](auto* o) { o->hostname = "my host"; }},
      {"key prefix \"tenant\"", [](auto* o) { o->key_prefix = "tenant"; }},
  };
  for (const BadValue& b : bad) {
    ClientOptions options;
    b.set(&options);
    auto client = Client::Create(options);
    ASSERT_FALSE(client.ok()) << b.label;
    EXPECT_EQ(client.status().code(), absl::StatusCode::kInvalidArgument)
        << b.label;
    EXPECT_TRUE(absl::StrContains(client.status().message(), b.label))
        << "wanted \"" << b.label << "\" in: " << client.status().message();
  }
}

TEST(ClientOptionsTest, TheEdgesOfEachRangeAndZeroWhereDocumentedAreAccepted) {
  ClientOptions options;
  options.call_timeout = milliseconds(1);
  options.dial_timeout = hours(1);
  options.ping_time = seconds(5);
  options.shutdown_timeout = milliseconds(0);
  options.reconcile_interval = milliseconds(0);
  options.watch_probe_interval = milliseconds(100);
  options.worker_threads = 1024;
  options.subscription_capacity = 0;
  EXPECT_TRUE(internal::ValidateClientOptions(options).ok());
  options.worker_threads = 1;
  options.subscription_capacity = size_t{1} << 30;
  options.reconcile_interval = hours(24);
  EXPECT_TRUE(internal::ValidateClientOptions(options).ok());
}

TEST(ClientOptionsTest, TheEtcdLayerGetsEveryTiming) {
  ClientOptions options;
  options.endpoints = "http://a:1,http://b:2";
  options.call_timeout = milliseconds(1234);
  options.dial_timeout = milliseconds(567);
  options.ping_time = seconds(7);
  options.ping_timeout = milliseconds(890);
  options.watch_probe_interval = milliseconds(321);
  options.watch_probe_timeout = milliseconds(654);
  const internal::EtcdClientOptions etcd = internal::EtcdOptionsFrom(options);
  EXPECT_EQ(etcd.endpoints, options.endpoints);
  EXPECT_EQ(etcd.call_timeout, options.call_timeout);
  EXPECT_EQ(etcd.dial_timeout, options.dial_timeout);
  EXPECT_EQ(etcd.ping_time, options.ping_time);
  EXPECT_EQ(etcd.ping_timeout, options.ping_timeout);
  EXPECT_EQ(etcd.watch_timing.probe_interval, options.watch_probe_interval);
  EXPECT_EQ(etcd.watch_timing.probe_timeout, options.watch_probe_timeout);
}

}  // namespace
}  // namespace etcdisc
