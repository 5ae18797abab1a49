#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "util/mutex.h"
#include "discovery/records.h"
#include "gtest/gtest.h"
#include "support/discovery_test.h"
#include "support/event_recorder.h"
#include "support/wait.h"

namespace etcdisc {
namespace {

using ::etcdisc::testing::DiscoveryTest;
using ::etcdisc::testing::EventRecorder;
using ::etcdisc::testing::HoldsFor;
using ::etcdisc::testing::WaitFor;
using std::chrono::milliseconds;
using std::chrono::seconds;

class RegisterTest : public DiscoveryTest {};

TEST_F(RegisterTest, WritesHostAndServiceRecordsExactlyAsTheGoPackage) {
  Host host;
  host.name = "10.0.0.7";
  host.ports = {{"http", "8080"}, {"https", "8443"}};
  host.critical = true;
  host.shard = "eu";
  auto reg = MustRegister("web", host);
  ASSERT_NE(reg, nullptr);

  const std::string uuid = reg->UUID();
  ASSERT_EQ(uuid.size(), 36 + 1 + std::string("10.0.0.7").size());
  EXPECT_EQ(uuid.substr(36), "-10.0.0.7");
  // Field by field, in the Go package's order and omit-if-empty rules:
  // private_hostname and private_ports defaulted from the host itself.
  EXPECT_EQ(RawValue("/services/web/" + uuid),
            R"({"name":"10.0.0.7","service_name":"web",)"
            R"("ports":{"http":"8080","https":"8443"},)"
            R"("private_hostname":"10.0.0.7",)"
            R"("private_ports":{"http":"8080","https":"8443"},)"
            R"("critical":true,"shard":"eu","uuid":")" +
                uuid + R"("})");
  EXPECT_EQ(RawValue("/service_infos/web"),
            R"({"name":"web","critical":true})");
  // Both keys live under the registration's lease.
  const int64_t lease = RawLease("/services/web/" + uuid);
  EXPECT_NE(lease, 0);
  EXPECT_EQ(RawLease("/service_infos/web"), lease);
}

TEST_F(RegisterTest, AServiceNameOrUuidInTheGivenHostIsDecidedByRegister) {
  // A Host read back from etcd, passed to Register again: it is taken as its
  // HostSpec, so the old service and uuid do not leak into the new record.
  Host copied;
  copied.name = "10.0.0.8";
  copied.ports = {{"http", "80"}};
  copied.service_name = "other";
  copied.uuid = "0123-not-mine";
  auto events = discovery().Subscribe("web");
  ASSERT_TRUE(events.ok());
  auto reg = MustRegister("web", copied);
  ASSERT_NE(reg, nullptr);
  EXPECT_NE(reg->UUID(), copied.uuid);
  EXPECT_EQ(reg->host().service_name, "web");
  EXPECT_EQ(RawValue("/services/web/0123-not-mine"), "");
  auto hosts = discovery().Get("web");
  ASSERT_TRUE(hosts.ok());
  ASSERT_EQ(hosts->All()->size(), 1u);
  EXPECT_EQ(hosts->First()->uuid, reg->UUID());
  EXPECT_EQ(hosts->First()->service_name, "web");

  auto created = (*events)->Pop(seconds(10));
  ASSERT_TRUE(created.has_value());
  EXPECT_EQ(created->kind, HostEvent::Kind::kNew);
  EXPECT_EQ(created->uuid(), reg->UUID());
  ASSERT_TRUE(reg->Stop().ok());
  auto gone = (*events)->Pop(seconds(10));
  ASSERT_TRUE(gone.has_value());
  EXPECT_EQ(gone->kind, HostEvent::Kind::kDown);
  EXPECT_EQ(gone->uuid(), reg->UUID());
  EXPECT_EQ(gone->host.service_name, "web");
}

TEST_F(RegisterTest, PublicHostPutsItsAddressAndCredentialsInTheServiceRecord) {
  Host host;
  host.name = "public-domain.dev";
  host.is_public = true;
  host.user = "user";
  host.password = "secret";
  host.ports = {{"http", "80"}, {"https", "443"}};
  host.private_hostname = "node-1.internal.dev";
  host.private_ports = {{"http", "8080"}};
  auto reg = MustRegister("my-service", host);
  ASSERT_NE(reg, nullptr);
  EXPECT_EQ(RawValue("/service_infos/my-service"),
            R"({"name":"my-service","critical":false,)"
            R"("hostname":"public-domain.dev","user":"user",)"
            R"("password":"secret","ports":{"http":"80","https":"443"},)"
            R"("public":true})");
  auto written = internal::DecodeHost(
      RawValue("/services/my-service/" + reg->UUID()));
  ASSERT_TRUE(written.ok());
  EXPECT_EQ(written->private_hostname, "node-1.internal.dev");
  EXPECT_EQ(written->private_ports.at("http"), "8080");
  EXPECT_TRUE(written->is_public);
  auto credentials = reg->credentials();
  ASSERT_TRUE(credentials.ok());
  EXPECT_EQ(credentials->user, "user");
}

TEST_F(RegisterTest, PublicHostWithoutPrivateHostnameUsesTheMachineName) {
  Host host = WebHost("pub.example");
  host.is_public = true;
  auto reg = MustRegister("api", host);
  ASSERT_NE(reg, nullptr);
  EXPECT_EQ(reg->host().private_hostname, "test-machine");
  EXPECT_EQ(reg->UUID().substr(36), "-test-machine");
}

TEST_F(RegisterTest, BadInputIsRefusedNamingItAndWritesNothing) {
  RegisterOptions no_health;  // So that etcd holds exactly its two keys.
  no_health.health_interval = milliseconds(0);
  auto existing = MustRegister("web", WebHost("10.0.0.1"), no_health);
  ASSERT_NE(existing, nullptr);
  struct Case {
    std::string service;
    Host host;
    std::string named;
  };
  Host bad_port = WebHost("h", "99999");
  Host no_name = WebHost("");
  Host bad_private = WebHost("h");
  bad_private.private_ports = {{"http", "x1"}};
  Host slash_private = WebHost("h");
  slash_private.private_hostname = "node/1";
  Host space_name = WebHost("my host");
  const std::vector<Case> cases = {
      {"", WebHost("h"), "service name"},
      {"a/b", WebHost("h"), "\"a/b\""},
      {"with space", WebHost("h"), "\"with space\""},
      {std::string(256, 's'), WebHost("h"), "255"},
      {"web", bad_port, "\"99999\""},
      {"web", no_name, "hostname"},
      {"web", bad_private, "\"x1\""},
      {"web", slash_private, "private hostname \"node/1\""},
      {"web", space_name, "hostname \"my host\""},
  };
  for (const Case& c : cases) {
    auto reg = discovery().Register(c.service, c.host);
    ASSERT_FALSE(reg.ok()) << c.service;
    EXPECT_EQ(reg.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(reg.status().message().find(c.named), absl::string_view::npos)
        << reg.status();
  }
  Host huge = WebHost("h");
  huge.shard = std::string(2 * 1024 * 1024, 's');  // Above etcd's 1.5 MiB.
  auto too_big = discovery().Register("web", huge);
  EXPECT_EQ(too_big.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(too_big.status().message().find("bytes"), absl::string_view::npos)
      << too_big.status();
  RegisterOptions zero_ttl;
  zero_ttl.ttl = milliseconds(0);
  EXPECT_EQ(discovery().Register("web", WebHost("h"), zero_ttl).status().code(),
            absl::StatusCode::kInvalidArgument);
  // Nothing new in etcd, and what was registered is still there.
  auto all = client().kv().Range(internal::RangeRequest::Prefix("/"));
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->kvs.size(), 2u);
  EXPECT_TRUE(existing->Ready());
}

TEST_F(RegisterTest, StopRevokesTheLeaseSoDownArrivesAtOnce) {
  auto down = discovery().SubscribeDown("web");
  ASSERT_TRUE(down.ok()) << down.status();
  RegisterOptions long_ttl;
  long_ttl.ttl = seconds(60);  // Down well before this proves the revoke.
  EventRecorder events;
  auto reg = MustRegister("web", WebHost("10.0.0.1"), long_ttl,
                          events.Callback());
  ASSERT_NE(reg, nullptr);
  ASSERT_TRUE(reg->Stop().ok());
  auto uuid = (*down)->Pop(milliseconds(10000));
  ASSERT_TRUE(uuid.has_value());
  EXPECT_EQ(*uuid, reg->UUID());
  EXPECT_FALSE(reg->Ready());
  EXPECT_EQ(RawValue("/services/web/" + reg->UUID()), "");
  EXPECT_EQ(RawValue("/service_infos/web"), "");
  EXPECT_EQ(reg->WaitRegistration(milliseconds(10)).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(reg->Stop().ok());  // Idempotent.
  EXPECT_EQ(events.kinds(),
            (std::vector<RegistrationEvent::Kind>{
                RegistrationEvent::Kind::kRegistered,
                RegistrationEvent::Kind::kStopped}));
}

TEST_F(RegisterTest, LeaseRevokedBehindItsBackIsReplacedWithTheSameUuid) {
  EventRecorder events;
  auto reg = MustRegister("web", WebHost("10.0.0.1"), RegisterOptions{},
                          events.Callback());
  ASSERT_NE(reg, nullptr);
  const std::string key = "/services/web/" + reg->UUID();
  const int64_t first_lease = RawLease(key);
  ASSERT_TRUE(client().lease().Revoke(first_lease).ok());

  ASSERT_TRUE(WaitFor([&] { return events.Saw(RegistrationEvent::Kind::kReregistered); },
                      seconds(20)));
  EXPECT_TRUE(events.Saw(RegistrationEvent::Kind::kLost));
  EXPECT_NE(RawValue(key), "");
  EXPECT_NE(RawLease(key), first_lease);
  EXPECT_NE(RawValue("/service_infos/web"), "");
  EXPECT_TRUE(reg->Ready());
}

TEST_F(RegisterTest, GoResolverRecordLivesAndDiesWithTheHost) {
  Host host = WebHost("10.0.0.7");
  host.ports["grpc"] = "50051";
  RegisterOptions options;
  options.go_grpc_target = "services/greeter";
  EventRecorder events;
  auto reg = MustRegister("greeter", host, options, events.Callback());
  ASSERT_NE(reg, nullptr);
  const std::string go_key = "services/greeter/" + reg->UUID();
  const std::string host_key = "/services/greeter/" + reg->UUID();
  EXPECT_EQ(RawValue(go_key),
            R"({"Op":0,"Addr":"10.0.0.7:50051","Metadata":null})");
  EXPECT_EQ(RawLease(go_key), RawLease(host_key));
  // Lost with the lease, written again with the host.
  ASSERT_TRUE(client().lease().Revoke(RawLease(host_key)).ok());
  ASSERT_TRUE(WaitFor([&] { return events.Saw(RegistrationEvent::Kind::kReregistered); },
                      seconds(20)));
  EXPECT_NE(RawValue(go_key), "");
  EXPECT_EQ(RawLease(go_key), RawLease(host_key));
  ASSERT_TRUE(reg->Stop().ok());
  EXPECT_EQ(RawValue(go_key), "");
}

TEST_F(RegisterTest, ABadGoResolverTargetIsRefusedAndWritesNothing) {
  RegisterOptions options;
  options.go_grpc_target = "services/greeter/";
  auto reg = discovery().Register("greeter", WebHost("10.0.0.7"), options);
  EXPECT_EQ(reg.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(reg.status().message().find("services/greeter/"),
            absl::string_view::npos);
  options.go_grpc_target = "services/greeter";  // But no "grpc" port.
  reg = discovery().Register("greeter", WebHost("10.0.0.7"), options);
  EXPECT_EQ(reg.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(reg.status().message().find("port \"grpc\""), absl::string_view::npos)
      << reg.status();
  // On the host's own key: the Txn would put it twice.
  Host grpc_host = WebHost("10.0.0.7");
  grpc_host.ports["grpc"] = "50051";
  options.go_grpc_target = "/services/greeter";
  reg = discovery().Register("greeter", grpc_host, options);
  EXPECT_EQ(reg.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(reg.status().message().find("/services/greeter"),
            absl::string_view::npos);
  EXPECT_EQ(RawValue("/service_infos/greeter"), "");
}

TEST_F(RegisterTest, ServiceRecordIsPutBackWhenItsHolderGoes) {
  auto a = MustRegister("web", WebHost("10.0.0.1"));
  auto b = MustRegister("web", WebHost("10.0.0.2"));
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  // An identical record is not written again: the first host's lease holds
  // it. Stopping that host revokes the lease and with it the record.
  const int64_t holder = RawLease("/service_infos/web");
  ASSERT_EQ(holder, RawLease("/services/web/" + a->UUID()));
  ASSERT_TRUE(a->Stop().ok());
  ASSERT_TRUE(WaitFor(
      [&] {
        return RawLease("/service_infos/web") ==
               RawLease("/services/web/" + b->UUID());
      },
      seconds(10)));
  EXPECT_EQ(RawValue("/service_infos/web"), R"({"name":"web","critical":false})");

  // Deleted by hand: put back too.
  internal::DeleteRequest del;
  del.key = "/service_infos/web";
  ASSERT_TRUE(client().kv().Delete(del).ok());
  EXPECT_TRUE(WaitFor([&] { return !RawValue("/service_infos/web").empty(); },
                      seconds(10)));
}

TEST_F(RegisterTest, AChangedServiceRecordIsWrittenByTheNextHost) {
  auto a = MustRegister("web", WebHost("10.0.0.1"));
  Host critical = WebHost("10.0.0.2");
  critical.critical = true;
  auto b = MustRegister("web", critical);
  EXPECT_EQ(RawValue("/service_infos/web"), R"({"name":"web","critical":true})");
  EXPECT_EQ(RawLease("/service_infos/web"), RawLease("/services/web/" + b->UUID()));
}

TEST_F(RegisterTest, PublicHostAdoptsCredentialsChangedInTheServiceRecord) {
  Host host = WebHost("pub.example");
  host.is_public = true;
  host.user = "old-user";
  host.password = "old-pass";
  EventRecorder events;
  auto reg = MustRegister("db", host, RegisterOptions{}, events.Callback());
  ASSERT_NE(reg, nullptr);

  ServiceInfo changed;
  changed.name = "db";
  changed.is_public = true;
  changed.hostname = "pub.example";
  changed.user = "new-user";
  changed.password = "new-pass";
  MustPut("/service_infos/db", internal::EncodeService(changed));

  ASSERT_TRUE(WaitFor(
      [&] { return events.Saw(RegistrationEvent::Kind::kCredentialsChanged); },
      seconds(10)));
  EXPECT_EQ(events.Last().credentials.user, "new-user");
  auto credentials = reg->credentials();
  ASSERT_TRUE(credentials.ok());
  EXPECT_EQ(credentials->password, "new-pass");
  auto written =
      internal::DecodeHost(RawValue("/services/db/" + reg->UUID()));
  ASSERT_TRUE(written.ok());
  EXPECT_EQ(written->user, "new-user");
  EXPECT_EQ(written->password, "new-pass");
}

TEST_F(RegisterTest, KilledRegistrarProcessGoesDownByLeaseExpiry) {
  auto down = discovery().SubscribeDown("web");
  ASSERT_TRUE(down.ok()) << down.status();
  int out[2];
  ASSERT_EQ(::pipe(out), 0);
  const std::string endpoints = cluster().endpoints();
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    ::close(out[0]);
    ::execl(ETCDISC_REGISTRAR_PATH, ETCDISC_REGISTRAR_PATH, endpoints.c_str(),
            "web", "10.9.9.9", "2000", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(out[1]);
  std::string uuid;
  char c;
  while (::read(out[0], &c, 1) == 1 && c != '\n') uuid.push_back(c);
  ::close(out[0]);
  ASSERT_FALSE(uuid.empty()) << "the registrar did not register";
  EXPECT_NE(RawValue("/services/web/" + uuid), "");

  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  auto gone = (*down)->Pop(seconds(20));  // TTL 2 s; generous deadline.
  ASSERT_TRUE(gone.has_value());
  EXPECT_EQ(*gone, uuid);
}

TEST_F(RegisterTest, DestroyingTheClientStopsItsRegistrations) {
  auto other = NewDiscoveryClient();
  auto reg = other->Register("web", WebHost("10.0.0.3"));
  ASSERT_TRUE(reg.ok());
  ASSERT_TRUE((*reg)->WaitRegistration(seconds(10)).ok());
  const std::string key = "/services/web/" + (*reg)->UUID();
  ASSERT_NE(RawValue(key), "");
  other.reset();
  EXPECT_EQ(RawValue(key), "");  // Revoked, not left to expire.
  EXPECT_FALSE((*reg)->Ready());
  reg->reset();  // A handle outliving its client is inert.
}

TEST_F(RegisterTest, ManyRegistrationsShareOneKeepAliveStream) {
  std::vector<std::unique_ptr<Registration>> regs;
  RegisterOptions ttl;
  ttl.ttl = seconds(2);
  for (int i = 0; i < 20; ++i) {
    regs.push_back(MustRegister("web", WebHost("10.0.1." + std::to_string(i)),
                                ttl));
  }
  // Past a TTL, so that refreshes were needed, all stay registered.
  EXPECT_TRUE(HoldsFor(
      [&] {
        for (auto& r : regs) {
          if (!r->Ready()) return false;
        }
        return true;
      },
      seconds(3)));
  for (auto& r : regs) {
    EXPECT_TRUE(r->Ready());
    EXPECT_NE(RawValue("/services/web/" + r->UUID()), "");
  }
  const ClientStats stats = discovery().Stats();
  EXPECT_EQ(stats.keepalive_streams_opened, 1);
  EXPECT_GE(stats.leases_kept, 20u);
}

}  // namespace
}  // namespace etcdisc

namespace etcdisc {
namespace {

using ::etcdisc::testing::DiscoveryTest;
using ::etcdisc::testing::EventRecorder;
using ::etcdisc::testing::WaitFor;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Kind = RegistrationEvent::Kind;

class RegisterLifeTest : public DiscoveryTest {
 protected:
  ClientOptions DiscoveryOptions() const override {
    ClientOptions options = DiscoveryTest::DiscoveryOptions();
    options.call_timeout = seconds(1);
    return options;
  }
};

TEST_F(RegisterLifeTest, RegisteringWhileEtcdIsDownReportsEachAttemptThenSucceeds) {
  ASSERT_TRUE(cluster().Kill(0).ok());
  EventRecorder events;
  auto reg = discovery().Register("web", WebHost("10.0.0.1"), RegisterOptions{},
                                  events.Callback());
  ASSERT_TRUE(reg.ok()) << reg.status();
  ASSERT_TRUE(WaitFor([&] { return events.Count(Kind::kAttemptFailed) >= 2; },
                      seconds(20)));
  EXPECT_FALSE((*reg)->Ready());
  const absl::Status last = (*reg)->LastError();
  EXPECT_TRUE(absl::IsUnavailable(last) || absl::IsDeadlineExceeded(last))
      << last;
  const absl::Status wait = (*reg)->WaitRegistration(milliseconds(10));
  EXPECT_EQ(wait.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_NE(wait.message().find("last error"), absl::string_view::npos) << wait;

  ASSERT_TRUE(cluster().Restart(0).ok());
  ASSERT_TRUE((*reg)->WaitRegistration(seconds(30)).ok());
  EXPECT_TRUE((*reg)->LastError().ok());
  EXPECT_NE(RawValue("/services/web/" + (*reg)->UUID()), "");
  EXPECT_TRUE(WaitFor([&] { return events.Saw(Kind::kRegistered); }, seconds(10)));
}

TEST_F(RegisterLifeTest, ACallbackMayStopItsOwnRegistration) {
  auto registration = std::make_shared<std::unique_ptr<Registration>>();
  auto stopped = std::make_shared<std::atomic<int>>(0);
  auto stop_result = std::make_shared<absl::Status>();
  internal::Mutex mu;
  RegistrationCallback callback = [&mu, registration, stopped,
                                   stop_result](const RegistrationEvent& e) {
    if (e.kind == Kind::kRegistered) {
      internal::MutexLock lock(&mu);
      *stop_result = (*registration)->Stop();
    }
    if (e.kind == Kind::kStopped) ++*stopped;
  };
  {
    internal::MutexLock lock(&mu);  // The callback waits for the handle.
    auto reg = discovery().Register("web", WebHost("10.0.0.1"), RegisterOptions{},
                                    callback);
    ASSERT_TRUE(reg.ok());
    *registration = *std::move(reg);
  }
  ASSERT_TRUE(WaitFor([&] { return *stopped == 1; }, seconds(10)));
  {
    internal::MutexLock lock(&mu);
    EXPECT_TRUE(stop_result->ok()) << *stop_result;
    EXPECT_FALSE((*registration)->Ready());
    EXPECT_EQ(RawValue("/services/web/" + (*registration)->UUID()), "");
  }
  registration->reset();  // The callback holds `registration`: break the cycle.
}

TEST_F(RegisterLifeTest, ACallbackMayDestroyItsOwnRegistration) {
  auto holder = std::make_shared<std::unique_ptr<Registration>>();
  auto destroyed = std::make_shared<std::atomic<bool>>(false);
  internal::Mutex mu;
  RegistrationCallback callback = [&mu, holder,
                                   destroyed](const RegistrationEvent& e) {
    if (e.kind != Kind::kRegistered) return;
    internal::MutexLock lock(&mu);
    holder->reset();  // Stops it, from its own callback.
    *destroyed = true;
  };
  std::string uuid;
  {
    internal::MutexLock lock(&mu);
    auto reg = discovery().Register("web", WebHost("10.0.0.1"), RegisterOptions{},
                                    callback);
    ASSERT_TRUE(reg.ok());
    uuid = (*reg)->UUID();
    *holder = *std::move(reg);
  }
  ASSERT_TRUE(WaitFor([&] { return destroyed->load(); }, seconds(10)));
  EXPECT_TRUE(WaitFor([&] { return RawValue("/services/web/" + uuid).empty(); },
                      seconds(10)));
}

TEST_F(RegisterLifeTest, StoppedEventArrivesOnTheCallbackThreadBeforeStopReturns) {
  std::atomic<bool> on_caller{false};
  std::atomic<int> stopped{0};
  const auto caller = std::this_thread::get_id();
  auto reg = MustRegister("web", WebHost("10.0.0.1"), RegisterOptions{},
                          [&](const RegistrationEvent& e) {
                            if (e.kind != Kind::kStopped) return;
                            on_caller = std::this_thread::get_id() == caller;
                            ++stopped;
                          });
  ASSERT_NE(reg, nullptr);
  ASSERT_TRUE(reg->Stop().ok());
  EXPECT_EQ(stopped, 1);  // Delivered before Stop() returned.
  EXPECT_FALSE(on_caller);
  ASSERT_TRUE(reg->Stop().ok());
  EXPECT_EQ(stopped, 1);  // Once.
}

TEST_F(RegisterLifeTest, DestroyingAClientWithEtcdDownTakesOneDeadlineNotOnePerRegistration) {
  ClientOptions options = DiscoveryOptions();
  options.shutdown_timeout = seconds(1);
  auto client = Client::Create(options);
  ASSERT_TRUE(client.ok());
  std::vector<std::unique_ptr<Registration>> regs;
  for (int i = 0; i < 12; ++i) {
    auto reg = (*client)->Register("web", WebHost("10.0.2." + std::to_string(i)));
    ASSERT_TRUE(reg.ok());
    ASSERT_TRUE((*reg)->WaitRegistration(seconds(10)).ok());
    regs.push_back(*std::move(reg));
  }
  ASSERT_TRUE(cluster().Kill(0).ok());
  const auto start = std::chrono::steady_clock::now();
  client->reset();
  const auto took = std::chrono::steady_clock::now() - start;
  // One after another, 12 revokes would take at least 12 s.
  EXPECT_LT(took, seconds(6));
  for (auto& r : regs) EXPECT_FALSE(r->Ready());
}

}  // namespace
}  // namespace etcdisc
