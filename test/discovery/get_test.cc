#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "discovery/client_access.h"
#include "discovery/records.h"
#include "etcdisc/log.h"
#include "gtest/gtest.h"
#include "support/call_gate.h"
#include "support/discovery_test.h"
#include "support/text.h"
#include "support/wait.h"

namespace etcdisc {
namespace {

using ::etcdisc::testing::CallGate;
using ::etcdisc::testing::DiscoveryTest;
using ::etcdisc::testing::WaitFor;
using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::Contains;

class GetTest : public DiscoveryTest {};

TEST_F(GetTest, ReturnsEveryHostTheFirstARandomOneAndUrls) {
  auto a = MustRegister("web", WebHost("10.0.0.1", "8001"));
  auto b = MustRegister("web", WebHost("10.0.0.2", "8002"));
  auto other = MustRegister("db", WebHost("10.0.0.9"));
  auto hosts = discovery().Get("web");
  ASSERT_TRUE(hosts.ok()) << hosts.status();
  auto all = hosts->All();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  std::set<std::string> uuids{(*all)[0].uuid, (*all)[1].uuid};
  EXPECT_EQ(uuids, (std::set<std::string>{a->UUID(), b->UUID()}));
  // First is the first in key order, i.e. by uuid.
  EXPECT_EQ(hosts->First()->uuid, *uuids.begin());
  std::set<std::string> picked;
  for (int i = 0; i < 50; ++i) picked.insert(hosts->One()->uuid);
  EXPECT_EQ(picked, uuids);
  auto url = hosts->URL("http", "/status");
  ASSERT_TRUE(url.ok());
  EXPECT_TRUE(*url == "http://10.0.0.1:8001/status" ||
              *url == "http://10.0.0.2:8002/status")
      << *url;
  EXPECT_EQ(hosts->URL("gopher").status().code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(hosts->record().has_value());
  EXPECT_EQ(hosts->record()->name, "web");
}

TEST_F(GetTest, UnknownServiceAndServiceWithoutHostsAreNotFound) {
  auto missing = discovery().Get("nothing");
  ASSERT_TRUE(missing.ok()) << missing.status();
  EXPECT_EQ(missing->All().status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing->All().status().message().find("service \"nothing\" not found"),
            absl::string_view::npos);
  EXPECT_EQ(missing->First().status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(missing->URL().status().code(), absl::StatusCode::kNotFound);

  MustPut("/service_infos/empty", R"({"name":"empty","critical":true})");
  auto empty = discovery().Get("empty");
  ASSERT_TRUE(empty.ok());
  EXPECT_NE(empty->All().status().message().find("no host found"),
            absl::string_view::npos);
  EXPECT_TRUE(empty->record()->critical);
}

TEST_F(GetTest, ShardFilterKeepsTheShardsHostsOnly) {
  Host eu = WebHost("10.0.0.1");
  eu.shard = "eu";
  Host us = WebHost("10.0.0.2");
  us.shard = "us";
  auto a = MustRegister("web", eu);
  auto b = MustRegister("web", us);
  auto on_eu = discovery().GetForShard("web", "eu");
  ASSERT_TRUE(on_eu.ok()) << on_eu.status();
  ASSERT_EQ(on_eu->All()->size(), 1u);
  EXPECT_EQ(on_eu->First()->uuid, a->UUID());
  // As in the Go package: no host on the shard is All()'s error.
  auto on_asia = discovery().GetForShard("web", "asia");
  ASSERT_TRUE(on_asia.ok()) << on_asia.status();
  EXPECT_EQ(on_asia->shard(), "asia");
  EXPECT_EQ(on_asia->All().status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(on_asia->All().status().message().find("on shard \"asia\""),
            absl::string_view::npos);
  EXPECT_EQ(on_asia->One().status().code(), absl::StatusCode::kNotFound);
}

TEST_F(GetTest, PublicServiceUrlComesFromTheServiceRecord) {
  Host host = WebHost("pub.example", "80");
  host.is_public = true;
  host.user = "u";
  host.password = "p";
  host.private_hostname = "10.1.1.1";
  auto reg = MustRegister("api", host);
  auto hosts = discovery().Get("api");
  ASSERT_TRUE(hosts.ok());
  EXPECT_EQ(*hosts->URL("http", "/v1"), "http://u:p@pub.example:80/v1");
  EXPECT_EQ(*hosts->First()->PrivateURL("http"), "http://u:p@10.1.1.1:80");
}

TEST_F(GetTest, MalformedRecordsAreSkippedNotFatal) {
  auto good = MustRegister("web", WebHost("10.0.0.1"));
  MustPut("/services/web/broken-1", "{not json");
  MustPut("/services/web/broken-2", R"({"name": 42})");
  MustPut("/services/web/too/deep", R"({"name":"x"})");
  auto hosts = discovery().Get("web");
  ASSERT_TRUE(hosts.ok()) << hosts.status();
  ASSERT_EQ(hosts->All()->size(), 1u);
  EXPECT_EQ(hosts->First()->uuid, good->UUID());
}

TEST_F(GetTest, ReadsRecordsWrittenByTheGoPackage) {
  MustPut("/services/legacy/abc-node-1",
          R"({"name":"legacy.example","service_name":"legacy",)"
          R"("ports":{"http":"80"},"user":"u","password":"p","public":true,)"
          R"("private_hostname":"node-1","private_ports":{"http":"8080"},)"
          R"("critical":true,"uuid":"abc-node-1"})");
  MustPut("/service_infos/legacy",
          R"({"name":"legacy","critical":true,"hostname":"legacy.example",)"
          R"("user":"u","password":"p","ports":{"http":"80"},"public":true})");
  auto hosts = discovery().Get("legacy");
  ASSERT_TRUE(hosts.ok());
  const Host h = *hosts->First();
  EXPECT_EQ(h.name, "legacy.example");
  EXPECT_EQ(h.private_ports.at("http"), "8080");
  EXPECT_TRUE(h.critical);
  EXPECT_EQ(*hosts->URL(), "http://u:p@legacy.example:80");
}

TEST_F(GetTest, ListServicesCountsHostsAndCriticality) {
  Host critical = WebHost("10.0.0.1");
  critical.critical = true;
  auto a = MustRegister("alpha", critical);
  auto b1 = MustRegister("beta", WebHost("10.0.0.2"));
  auto b2 = MustRegister("beta", WebHost("10.0.0.3"));
  auto services = discovery().ListServices();
  ASSERT_TRUE(services.ok()) << services.status();
  ASSERT_EQ(services->size(), 2u);
  EXPECT_EQ((*services)[0].name, "alpha");
  EXPECT_EQ((*services)[0].hosts, 1);
  EXPECT_TRUE((*services)[0].critical);
  EXPECT_EQ((*services)[1].name, "beta");
  EXPECT_EQ((*services)[1].hosts, 2);
  EXPECT_FALSE((*services)[1].critical);
}

TEST_F(GetTest, KeyPrefixSeparatesTenants) {
  ClientOptions options = DiscoveryOptions();
  options.key_prefix = "/tenant-a";
  auto tenant = Client::Create(options);
  ASSERT_TRUE(tenant.ok());
  auto reg = (*tenant)->Register("web", WebHost("10.0.0.1"));
  ASSERT_TRUE(reg.ok());
  ASSERT_TRUE((*reg)->WaitRegistration(seconds(10)).ok());
  EXPECT_NE(RawValue("/tenant-a/services/web/" + (*reg)->UUID()), "");
  EXPECT_EQ(discovery().Get("web")->All().status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ((*tenant)->Get("web")->All()->size(), 1u);

  options.key_prefix = "no-slash";
  EXPECT_EQ(Client::Create(options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(GetTest, UnreachableEtcdFailsWithUnavailableWithinTheDeadline) {
  ClientOptions options;
  options.endpoints = "http://127.0.0.1:1";  // Nothing listens there.
  options.call_timeout = milliseconds(500);
  auto nowhere = Client::Create(options);
  ASSERT_TRUE(nowhere.ok());
  const auto start = std::chrono::steady_clock::now();
  auto hosts = (*nowhere)->Get("web");
  EXPECT_TRUE(absl::IsUnavailable(hosts.status()) ||
              absl::IsDeadlineExceeded(hosts.status()))
      << hosts.status();
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(5));
  EXPECT_EQ((*nowhere)->Get("bad/name").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(GetTest, MalformedServiceRecordIsSkipped) {
  auto reg = MustRegister("web", WebHost("10.0.0.1"));
  MustPut("/service_infos/web", "[not an object]");
  auto hosts = discovery().Get("web");
  ASSERT_TRUE(hosts.ok()) << hosts.status();
  EXPECT_FALSE(hosts->record().has_value());
  EXPECT_EQ(hosts->All()->size(), 1u);
}

TEST_F(GetTest, WhatIsSkippedIsLoggedToTheApplicationsSinkWithoutTheRecord) {
  std::mutex mu;
  std::vector<std::string> lines;
  SetLogSink([&](const LogRecord& r) {
    std::lock_guard<std::mutex> lock(mu);
    lines.push_back(std::string(LogLevelName(r.level)) + ": " +
                    std::string(r.message));
  });
  MustPut("/services/web/bad-uuid", "{\"password\":\"s3cret\",");
  auto hosts = discovery().Get("web");
  SetLogSink(nullptr);
  ASSERT_TRUE(hosts.ok()) << hosts.status();
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines.back().find("warning: "), std::string::npos) << lines.back();
  EXPECT_NE(lines.back().find("/services/web/bad-uuid"), std::string::npos)
      << lines.back();
  EXPECT_EQ(lines.back().find("s3cret"), std::string::npos) << lines.back();
}

// More services than one round trip reads (64): a host that comes while the
// first answer is held back must not show in the second, which reads at the
// first one's revision.
TEST_F(GetTest, GetManyReadsEveryServiceAtOneRevision) {
  std::vector<std::string> names;
  for (int i = 0; i < 70; ++i) names.push_back("svc" + std::to_string(i));
  auto early = MustRegister("svc69", WebHost("10.0.0.1"));
  ASSERT_NE(early, nullptr);
  auto reader = NewDiscoveryClient();
  ASSERT_NE(reader, nullptr);
  CallGate gate;
  internal::ClientAccess::Core(*reader).etcd().SetAnswerHookForTesting(
      gate.Hook());
  gate.Arm("Txn");
  absl::StatusOr<std::vector<ServiceHosts>> read;
  std::thread get([&] { read = reader->GetMany(names); });
  const bool held = gate.WaitHeld(seconds(10));
  EXPECT_TRUE(held);
  auto late = held ? MustRegister("svc69", WebHost("10.0.0.2")) : nullptr;
  EXPECT_NE(late, nullptr);
  gate.Release();
  get.join();
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->size(), names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ((*read)[i].name(), names[i]);
  }
  EXPECT_TRUE(absl::IsNotFound((*read)[0].All().status()));
  auto svc69 = (*read)[69].All();
  ASSERT_TRUE(svc69.ok()) << svc69.status();
  ASSERT_EQ(svc69->size(), 1u);
  EXPECT_EQ(svc69->front().uuid, early->UUID());
  // Read again, it has both.
  auto again = discovery().GetMany({"svc69"});
  ASSERT_TRUE(again.ok()) << again.status();
  auto both = again->front().All();
  ASSERT_TRUE(both.ok()) << both.status();
  EXPECT_EQ(both->size(), 2u);
}

TEST_F(GetTest, GetManyRefusesAnInvalidNameNamingIt) {
  auto bad = discovery().GetMany({"web", "a/b"});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(bad.status().message(), "a/b")) << bad.status();
  auto none = discovery().GetMany({});
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->empty());
}

TEST_F(GetTest, BadOptionsAreRefusedNamingThem) {
  ClientOptions options;
  options.endpoints = "http://10.0.0.1:2379";
  options.tls.ca_file = "/etc/ca.pem";  // TLS, to a plaintext endpoint.
  auto tls = Client::Create(options);
  EXPECT_EQ(tls.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(tls.status().message().find("http://10.0.0.1:2379"),
            absl::string_view::npos);
  options.tls = TlsOptions{};
  options.endpoints = "http://127.0.0.1:2379";
  options.call_timeout = milliseconds(0);
  auto no_time = Client::Create(options);
  EXPECT_EQ(no_time.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(no_time.status().message().find("0ms"), absl::string_view::npos);
}

TEST_F(GetTest, BadEndpointsAreRefusedNamingThem) {
  ClientOptions options;
  options.endpoints = "http://ok:2379,http://bad:port";
  auto client = Client::Create(options);
  EXPECT_EQ(client.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(client.status().message().find("http://bad:port"),
            absl::string_view::npos);
}

// A member cut off from the rest of its cluster: a serializable Get is
// answered from its own copy; a linearizable one cannot be.
class GetFromOneMemberTest : public DiscoveryTest {
 protected:
  int Members() const override { return 3; }
};

TEST_F(GetFromOneMemberTest, ASerializableGetIsAnsweredWithoutALeader) {
  auto reg = MustRegister("web", WebHost("10.0.0.1"));
  ASSERT_NE(reg, nullptr);
  ClientOptions options = DiscoveryOptions();
  options.endpoints = cluster().endpoint(2);
  auto client = Client::Create(options);
  ASSERT_TRUE(client.ok()) << client.status();
  const GetOptions serializable{/*serializable=*/true, seconds(2)};
  // Member 2 has the registration once its own copy shows it.
  ASSERT_TRUE(WaitFor(
      [&] {
        auto got = (*client)->Get("web", serializable);
        return got.ok() && got->All().ok() && got->All()->size() == 1;
      },
      seconds(10)));
  ASSERT_TRUE(cluster().Kill(0).ok());
  ASSERT_TRUE(cluster().Kill(1).ok());

  auto local = (*client)->Get("web", serializable);
  ASSERT_TRUE(local.ok()) << local.status();
  EXPECT_EQ(local->First()->uuid, reg->UUID());
  auto linearizable = (*client)->Get("web", GetOptions{false, seconds(1)});
  EXPECT_TRUE(absl::IsDeadlineExceeded(linearizable.status()) ||
              absl::IsUnavailable(linearizable.status()))
      << linearizable.status();

  auto negative = (*client)->Get("web", GetOptions{false, milliseconds(-1)});
  EXPECT_TRUE(absl::IsInvalidArgument(negative.status())) << negative.status();
}

}  // namespace
}  // namespace etcdisc
