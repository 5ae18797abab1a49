// etcd authentication: password users, roles, certificate users and tokens
// that expire, against a real etcd with auth on (users and roles set up by
// the fixture: see EtcdClusterOptions::auth).
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "etcdisc/client.h"
#include "etcdisc/log.h"
#include "etcdisc/metrics.h"
#include "gtest/gtest.h"
#include "support/discovery_test.h"
#include "support/text.h"
#include "support/wait.h"

namespace etcdisc {
namespace {

using ::etcdisc::testing::DiscoveryTest;
using ::etcdisc::testing::EtcdClusterOptions;
using ::etcdisc::testing::WaitFor;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

using testing::Contains;

// How many times the client called etcd's Authenticate.
uint64_t Authentications(Client& client) {
  for (const CallMetrics& call : client.Metrics().calls) {
    if (call.method == "Authenticate") return call.duration_seconds.count;
  }
  return 0;
}

class AuthTest : public DiscoveryTest {
 protected:
  void Configure(EtcdClusterOptions* options) const override {
    options->auth = true;
  }
  // A client logged in as `user` (with `password`, if given, instead of the
  // right one).
  std::unique_ptr<Client> ClientAs(const std::string& user,
                                   const std::string& password = "") {
    ClientOptions options = DiscoveryOptions();
    options.auth = cluster().ClientAuth(user);
    if (!password.empty()) options.auth.password = password;
    options.call_timeout = seconds(3);
    auto client = Client::Create(options);
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? *std::move(client) : nullptr;
  }
  // The lease of the health record of `uuid` (a host of web); 0 if none.
  int64_t HealthLease(const std::string& uuid) {
    internal::RangeRequest read;
    read.key = "/service_health/web/" + uuid;
    auto range = client().kv().Range(read);
    return range.ok() && !range->kvs.empty() ? range->kvs[0].lease : 0;
  }
};

TEST_F(AuthTest, APasswordUserRegistersFindsAndWatchesWithOneToken) {
  auto news = discovery().SubscribeNew("web");
  auto downs = discovery().SubscribeDown("web");
  ASSERT_TRUE(news.ok()) << news.status();
  ASSERT_TRUE(downs.ok()) << downs.status();
  std::vector<std::unique_ptr<Registration>> regs;
  for (int i = 0; i < 3; ++i) {
    regs.push_back(MustRegister("web", WebHost("10.0.0." + std::to_string(i))));
    ASSERT_NE(regs.back(), nullptr);
  }
  for (int i = 0; i < 3; ++i) ASSERT_TRUE((*news)->Pop(seconds(10)).has_value());
  auto hosts = discovery().Get("web");
  ASSERT_TRUE(hosts.ok()) << hosts.status();
  EXPECT_EQ(hosts->All()->size(), 3u);
  for (auto& reg : regs) ASSERT_TRUE(reg->Stop().ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE((*downs)->Pop(seconds(10)).has_value());
  // Every call and both streams shared one token.
  EXPECT_EQ(Authentications(discovery()), 1u);
}

// Every line etcdisc logs, at every level, while it lives.
class LogCapture {
 public:
  LogCapture() : lines_(std::make_shared<Lines>()) {
    SetLogLevel(LogLevel::kDebug);
    SetLogSink([lines = lines_](const LogRecord& record) {
      std::lock_guard<std::mutex> lock(lines->mu);
      lines->text += std::string(record.message) + "\n";
    });
  }
  ~LogCapture() {
    SetLogSink(nullptr);
    SetLogLevel(LogLevel::kWarning);
  }
  std::string text() const {
    std::lock_guard<std::mutex> lock(lines_->mu);
    return lines_->text;
  }

 private:
  struct Lines {
    std::mutex mu;
    std::string text;
  };
  // Shared with the sink, which may run just after it is replaced.
  std::shared_ptr<Lines> lines_;
};

TEST_F(AuthTest, AWrongPasswordIsUnauthenticatedNamingTheUserNotThePassword) {
  LogCapture logs;
  const std::string wrong = "not-the-password-4711";
  auto client = ClientAs("registrar", wrong);
  ASSERT_NE(client, nullptr);
  auto hosts = client->Get("web");
  EXPECT_TRUE(absl::IsUnauthenticated(hosts.status())) << hosts.status();
  EXPECT_TRUE(Contains(hosts.status().message(), "\"registrar\""))
      << hosts.status();
  EXPECT_FALSE(Contains(hosts.status().message(), wrong)) << hosts.status();

  auto reg = client->Register("web", WebHost("10.0.0.1"));
  ASSERT_TRUE(reg.ok()) << reg.status();
  const absl::Status waited = (*reg)->WaitRegistration(seconds(10));
  EXPECT_TRUE(absl::IsUnauthenticated(waited)) << waited;
  EXPECT_FALSE(Contains(waited.message(), wrong)) << waited;
  // Nor in any log line, at any level.
  auto right = ClientAs("registrar");
  ASSERT_NE(right, nullptr);
  ASSERT_TRUE(right->Get("web").ok());
  EXPECT_TRUE(Contains(logs.text(), "etcd refused user \"registrar\""))
      << logs.text();
  EXPECT_TRUE(Contains(logs.text(), "etcd user \"registrar\" authenticated"))
      << logs.text();
  EXPECT_FALSE(Contains(logs.text(), wrong)) << logs.text();
  EXPECT_FALSE(Contains(logs.text(), cluster().Password("registrar")))
      << logs.text();
}

TEST_F(AuthTest, NoUserIsUnauthenticatedSayingEtcdWantsOne) {
  ClientOptions options = DiscoveryOptions();
  options.auth = AuthOptions{};
  auto client = Client::Create(options);
  ASSERT_TRUE(client.ok()) << client.status();
  auto hosts = (*client)->Get("web");
  EXPECT_TRUE(absl::IsUnauthenticated(hosts.status())) << hosts.status();
  EXPECT_TRUE(Contains(hosts.status().message(), "authentication on"))
      << hosts.status();
}

TEST_F(AuthTest, AReaderWatchesButCannotRegisterAndIsToldWhichPrefix) {
  auto reader = ClientAs("watcher");
  ASSERT_NE(reader, nullptr);
  auto news = reader->SubscribeNew("web");
  ASSERT_TRUE(news.ok()) << news.status();
  auto reg = MustRegister("web", WebHost("10.0.0.1"));
  ASSERT_NE(reg, nullptr);
  auto seen = (*news)->Pop(seconds(10));
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->uuid, reg->UUID());

  auto refused = reader->Register("web", WebHost("10.0.0.2"));
  ASSERT_TRUE(refused.ok()) << refused.status();
  const absl::Status waited = (*refused)->WaitRegistration(seconds(10));
  EXPECT_TRUE(absl::IsPermissionDenied(waited)) << waited;
  EXPECT_TRUE(Contains(waited.message(), "/services/")) << waited;
  EXPECT_TRUE(Contains(waited.message(), "/service_infos/")) << waited;
  // Refused for good: no retry loop. The state says so, and the number of
  // failed attempts stays at one.
  bool found = false;
  for (const auto& r : reader->Metrics().registrations) {
    if (r.uuid != (*refused)->UUID()) continue;
    found = true;
    EXPECT_EQ(r.state, "refused");
    EXPECT_EQ(r.failed_attempts, 1);
  }
  EXPECT_TRUE(found);
  // The lease taken for the refused write is revoked at once, not kept alive
  // until Stop(): etcd ends with only the registered host's leases (its
  // keys', and its health record's once written).
  ASSERT_TRUE(WaitFor([&] { return HealthLease(reg->UUID()) != 0; },
                      seconds(10)));
  EXPECT_TRUE(WaitFor(
      [&] {
        auto leases = cluster().LeaseCount();
        return leases.ok() && *leases == 2;
      },
      seconds(10)))
      << cluster().LeaseCount().status();
  EXPECT_EQ(reader->Metrics().leases_kept, 0u);
  // What was registered is untouched.
  auto hosts = discovery().Get("web");
  ASSERT_TRUE(hosts.ok()) << hosts.status();
  EXPECT_EQ(hosts->All()->size(), 1u);
}

// A registrar whose role loses its write permission while registered: the
// next write it must make (its host key was deleted) is refused, and the
// registration gives up cleanly: its lease revoked and its key watches
// cancelled, not kept until Stop().
TEST_F(AuthTest, ARegistrarThatLosesItsRoleLetsItsLeaseAndWatchesGo) {
  auto writer = ClientAs("registrar");
  ASSERT_NE(writer, nullptr);
  auto reg = writer->Register("web", WebHost("10.0.0.1"));
  ASSERT_TRUE(reg.ok()) << reg.status();
  ASSERT_TRUE((*reg)->WaitRegistration(seconds(10)).ok());
  // Its host key and service record are watched, and its health written.
  ASSERT_TRUE(WaitFor([&] { return writer->Metrics().watchers == 2; },
                      seconds(10)));
  ASSERT_TRUE(WaitFor([&] { return HealthLease((*reg)->UUID()) != 0; },
                      seconds(10)));

  ASSERT_TRUE(cluster()
                  .Etcdctl({"role", "revoke-permission", "registrar",
                            "/services/", "--prefix=true"},
                           /*as_root=*/true)
                  .ok());
  ASSERT_TRUE(cluster()
                  .Etcdctl({"del", "/services/web/" + (*reg)->UUID()},
                           /*as_root=*/true)
                  .ok());
  auto state = [&] {
    for (const auto& r : writer->Metrics().registrations) return r.state;
    return std::string("none");
  };
  ASSERT_TRUE(WaitFor([&] { return state() == "refused"; }, seconds(10)))
      << state();
  EXPECT_TRUE(absl::IsPermissionDenied((*reg)->LastError()))
      << (*reg)->LastError();
  // The record says when it went, under the retired health lease, never
  // refreshed, for the retention (etcdisc/fleet.h).
  ASSERT_TRUE(WaitFor(
      [&] {
        internal::RangeRequest read;
        read.key = "/service_health/web/" + (*reg)->UUID();
        auto range = client().kv().Range(read);
        return range.ok() && !range->kvs.empty() &&
               range->kvs[0].value.find("\"went_at\"") != std::string::npos;
      },
      seconds(10)));
  // Its host's lease is revoked. Two leases stay: that retired one and the
  // client's live health lease (still kept alive, for its next
  // registrations).
  EXPECT_TRUE(WaitFor(
      [&] {
        auto leases = cluster().LeaseCount();
        return leases.ok() && *leases == 2;
      },
      seconds(10)))
      << cluster().LeaseCount().status();
  const int64_t retired = HealthLease((*reg)->UUID());
  EXPECT_NE(retired, 0);
  auto ttl = client().lease().TimeToLive(retired, false);
  ASSERT_TRUE(ttl.ok()) << ttl.status();
  EXPECT_EQ(ttl->granted_ttl_seconds, 24 * 3600 + 60);  // Retention + window.
  EXPECT_TRUE(WaitFor([&] { return writer->Metrics().watchers == 0; },
                      seconds(10)))
      << writer->Metrics().watchers;
  EXPECT_EQ(writer->Metrics().leases_kept, 1u);  // The live health lease.
}

// A watcher whose role loses its read permission: once etcd refuses the
// watch (here when the restarted member makes the client create it again),
// the subscription ends with PermissionDenied naming the prefix; no retry.
// A registrar whose role loses the health prefix: its next health write is
// refused, the host stays registered, and the client lets go of the live
// health lease, so that the record it cannot move ends with the retention.
TEST_F(AuthTest, ARefusedHealthWriteLetsTheLiveHealthLeaseGoAndKeepsTheHost) {
  auto writer = ClientAs("registrar");
  ASSERT_NE(writer, nullptr);
  RegisterOptions options;
  options.ttl = seconds(2);
  options.health_interval = milliseconds(200);
  auto reg = writer->Register("web", WebHost("10.0.0.1"), options);
  ASSERT_TRUE(reg.ok()) << reg.status();
  ASSERT_TRUE((*reg)->WaitRegistration(seconds(10)).ok());
  ASSERT_TRUE(WaitFor([&] { return HealthLease((*reg)->UUID()) != 0; },
                      seconds(10)));
  const int64_t live = HealthLease((*reg)->UUID());
  EXPECT_EQ(writer->Metrics().leases_kept, 2u);  // The host's, the health's.

  ASSERT_TRUE(cluster()
                  .Etcdctl({"role", "revoke-permission", "registrar",
                            "/service_health/", "--prefix=true"},
                           /*as_root=*/true)
                  .ok());
  ASSERT_TRUE((*reg)->SetGauge("queue", 1).ok());  // Worth a write.
  EXPECT_TRUE(WaitFor([&] { return writer->Metrics().leases_kept == 1; },
                      seconds(10)))
      << writer->Metrics().leases_kept;
  EXPECT_TRUE(absl::IsFailedPrecondition((*reg)->SetGauge("queue", 2)));
  EXPECT_TRUE((*reg)->Ready());
  EXPECT_EQ(HealthLease((*reg)->UUID()), live);  // Left to its TTL.
  auto hosts = discovery().Get("web");
  ASSERT_TRUE(hosts.ok()) << hosts.status();
  EXPECT_EQ(hosts->All()->size(), 1u);
}

TEST_F(AuthTest, AWatcherWhoseReadIsTakenAwayIsToldAndNotRetried) {
  auto watcher = ClientAs("watcher");
  ASSERT_NE(watcher, nullptr);
  auto news = watcher->SubscribeNew("web");
  ASSERT_TRUE(news.ok()) << news.status();
  auto reg = MustRegister("web", WebHost("10.0.0.1"));
  ASSERT_NE(reg, nullptr);
  ASSERT_TRUE((*news)->Pop(seconds(10)).has_value());

  auto revoked = cluster().Etcdctl({"role", "revoke-permission", "reader",
                                    "/services/", "--prefix=true"},
                                   /*as_root=*/true);
  ASSERT_TRUE(revoked.ok()) << revoked.status();
  ASSERT_TRUE(cluster().Kill(0).ok());
  ASSERT_TRUE(cluster().Restart(0).ok());
  // Closed: Pop gives nothing (no host was registered since), and the queue
  // says why.
  EXPECT_FALSE((*news)->Pop(seconds(30)).has_value());
  const absl::Status why = (*news)->status();
  EXPECT_TRUE(absl::IsPermissionDenied(why)) << why;
  EXPECT_TRUE(Contains(why.message(), "/services/web/")) << why;
  // The registrar, whose role is untouched, keeps its host registered.
  auto hosts = discovery().Get("web");
  ASSERT_TRUE(hosts.ok()) << hosts.status();
  EXPECT_EQ(hosts->All()->size(), 1u);
}

// A restarted etcd: the watch stream and the calls carry on with auth on,
// and nothing is lost. (etcd 3.4 rebuilds simple tokens when it replays the
// Authenticate entries of its log, so a token may survive; expired ones are
// covered by ShortTokenTest.)
TEST_F(AuthTest, AnEtcdRestartWithAuthOnLosesNothing) {
  auto watcher = ClientAs("watcher");
  ASSERT_NE(watcher, nullptr);
  auto news = watcher->SubscribeNew("web");
  ASSERT_TRUE(news.ok()) << news.status();
  auto before = MustRegister("web", WebHost("10.0.0.1"));
  ASSERT_NE(before, nullptr);
  auto first = (*news)->Pop(seconds(10));
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->uuid, before->UUID());

  ASSERT_TRUE(cluster().Kill(0).ok());
  ASSERT_TRUE(cluster().Restart(0).ok());
  auto after = MustRegister("web", WebHost("10.0.0.2"));
  ASSERT_NE(after, nullptr);
  auto second = (*news)->Pop(seconds(20));
  ASSERT_TRUE(second.has_value()) << (*news)->status();
  EXPECT_EQ(second->uuid, after->UUID());
  EXPECT_FALSE((*news)->TryPop().has_value());
  auto hosts = watcher->Get("web");
  ASSERT_TRUE(hosts.ok()) << hosts.status();
  EXPECT_EQ(hosts->All()->size(), 2u);
}

// Tokens that live 2 s: etcd's simple tokens (2 s unused) or JWTs (2 s
// from when they were made, used or not).
class ShortTokenTest : public AuthTest,
                       public ::testing::WithParamInterface<std::string> {
 protected:
  void Configure(EtcdClusterOptions* options) const override {
    options->auth = true;
    if (GetParam() == "jwt") {
      options->jwt_ttl_s = 2;
    } else {
      options->auth_token_ttl_s = 2;
    }
  }
};

// For 10 s hosts keep coming, new subscriptions keep opening on the one
// watch stream (each create checks the stream's token), and a registration
// keeps its lease: nothing is lost or repeated, and the registration is
// never lost.
TEST_P(ShortTokenTest, TokensExpireWhileWatchesAndARegistrationRun) {
  auto kept = MustRegister("db", WebHost("10.1.0.1"));
  ASSERT_NE(kept, nullptr);
  auto watcher = ClientAs("watcher");
  ASSERT_NE(watcher, nullptr);
  std::vector<std::unique_ptr<Subscription<Host>>> subs;
  auto first = watcher->SubscribeNew("web");
  ASSERT_TRUE(first.ok()) << first.status();
  subs.push_back(*std::move(first));

  auto writer = ClientAs("registrar");
  ASSERT_NE(writer, nullptr);
  std::vector<std::unique_ptr<Registration>> added;
  const auto end = Clock::now() + seconds(10);
  while (Clock::now() < end) {
    // Idle past the token's TTL, then use the stream and the writer again.
    std::this_thread::sleep_for(milliseconds(2500));
    auto reg = writer->Register("web", WebHost("10.0.0.1"));
    ASSERT_TRUE(reg.ok()) << reg.status();
    ASSERT_TRUE((*reg)->WaitRegistration(seconds(10)).ok());
    added.push_back(*std::move(reg));
    auto sub = watcher->SubscribeNew("web");
    ASSERT_TRUE(sub.ok()) << sub.status();
    subs.push_back(*std::move(sub));
  }
  // Subscription i began after hosts 0..i-1 were registered: it sees hosts
  // i.. once each, and nothing else.
  auto hosts = watcher->Get("web");
  ASSERT_TRUE(hosts.ok()) << hosts.status();
  ASSERT_EQ(hosts->All()->size(), added.size());
  for (size_t i = 0; i < subs.size(); ++i) {
    for (size_t k = i; k < added.size(); ++k) {
      auto host = subs[i]->Pop(seconds(10));
      ASSERT_TRUE(host.has_value())
          << "subscription " << i << ": no host " << k << "; "
          << subs[i]->status();
      EXPECT_EQ(host->uuid, added[k]->UUID()) << "subscription " << i;
    }
    EXPECT_FALSE(subs[i]->TryPop().has_value()) << "subscription " << i;
  }
  // The registration that only kept its lease never lost it.
  EXPECT_TRUE(kept->Ready());
  for (const auto& r : discovery().Metrics().registrations) {
    EXPECT_EQ(r.lease_losses, 0) << r.uuid;
  }
  auto db = watcher->Get("db");
  ASSERT_TRUE(db.ok()) << db.status();
  EXPECT_EQ(db->First()->uuid, kept->UUID());
  // Creates on the watch stream were refused for its expired token: the
  // stream was opened anew with a new one, and no member was blamed.
  const ClientMetrics metrics = watcher->Metrics();
  ASSERT_EQ(metrics.members.size(), 1u);
  EXPECT_GT(metrics.members[0].watch_stream_opens, 1);
  EXPECT_EQ(metrics.members[0].failures, 0);
  // The tokens did expire and were renewed (not one per call).
  EXPECT_GT(Authentications(*watcher), 1u);
  EXPECT_LT(Authentications(*watcher), 20u);
}

std::string TokenKindName(const ::testing::TestParamInfo<std::string>& kind) {
  return kind.param;
}

INSTANTIATE_TEST_SUITE_P(Tokens, ShortTokenTest,
                         ::testing::Values("simple", "jwt"), TokenKindName);

// TLS and auth on a 3-member cluster whose leader is killed: the client
// moves to another member with its token and loses nothing.
class SecureClusterTest : public AuthTest {
 protected:
  int Members() const override { return 3; }
  EtcdClusterOptions::Tls Tls() const override {
    return EtcdClusterOptions::Tls::kServer;
  }
};

TEST_F(SecureClusterTest, ALeaderKillLosesNothing) {
  auto watcher = ClientAs("watcher");
  ASSERT_NE(watcher, nullptr);
  auto news = watcher->SubscribeNew("web");
  ASSERT_TRUE(news.ok()) << news.status();
  auto before = MustRegister("web", WebHost("10.0.0.1"));
  ASSERT_NE(before, nullptr);
  auto first = (*news)->Pop(seconds(10));
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->uuid, before->UUID());

  auto leader = cluster().Leader();
  ASSERT_TRUE(leader.ok()) << leader.status();
  ASSERT_TRUE(cluster().Kill(*leader).ok());
  auto after = MustRegister("web", WebHost("10.0.0.2"));
  ASSERT_NE(after, nullptr);
  auto second = (*news)->Pop(seconds(20));
  ASSERT_TRUE(second.has_value()) << (*news)->status();
  EXPECT_EQ(second->uuid, after->UUID());
  auto hosts = watcher->Get("web");
  ASSERT_TRUE(hosts.ok()) << hosts.status();
  EXPECT_EQ(hosts->All()->size(), 2u);
  EXPECT_FALSE((*news)->TryPop().has_value());
}

class CertificateUserTest : public AuthTest {
 protected:
  EtcdClusterOptions::Tls Tls() const override {
    return EtcdClusterOptions::Tls::kMutual;
  }
};

TEST_F(CertificateUserTest, ACertificateWhoseNameIsAUserNeedsNoPassword) {
  auto cert = cluster().certs().MakeClient("cn-registrar");
  ASSERT_TRUE(cert.ok()) << cert.status();
  ClientOptions options = DiscoveryOptions();
  options.auth = AuthOptions{};
  options.tls.cert_file = cert->cert_file;
  options.tls.key_file = cert->key_file;
  auto client = Client::Create(options);
  ASSERT_TRUE(client.ok()) << client.status();
  auto reg = (*client)->Register("web", WebHost("10.0.0.1"));
  ASSERT_TRUE(reg.ok()) << reg.status();
  ASSERT_TRUE((*reg)->WaitRegistration(seconds(10)).ok());
  auto hosts = (*client)->Get("web");
  ASSERT_TRUE(hosts.ok()) << hosts.status();
  EXPECT_EQ(hosts->First()->uuid, (*reg)->UUID());
  EXPECT_EQ(Authentications(**client), 0u);

  // A certificate of a name that is no user is refused.
  auto stranger = cluster().certs().MakeClient("nobody");
  ASSERT_TRUE(stranger.ok()) << stranger.status();
  options.tls.cert_file = stranger->cert_file;
  options.tls.key_file = stranger->key_file;
  auto other = Client::Create(options);
  ASSERT_TRUE(other.ok()) << other.status();
  auto denied = (*other)->Get("web");
  // etcd takes the certificate's name as a user that has no role.
  EXPECT_TRUE(absl::IsPermissionDenied(denied.status())) << denied.status();
}

}  // namespace
}  // namespace etcdisc
