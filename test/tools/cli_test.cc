// End-to-end tests of the etcdisc binary against a real etcd.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>

#include "discovery/json.h"
#include "etcdisc/version.h"
#include "gtest/gtest.h"
#include "support/process.h"
#include "support/wait.h"
#include "tools/cli_fixture.h"

namespace etcdisc {
namespace {

using ::etcdisc::internal::JsonValue;
using ::etcdisc::internal::ParseJson;
using ::etcdisc::testing::BackgroundProcess;
using ::etcdisc::testing::CliTest;
using ::etcdisc::testing::Contains;
using ::etcdisc::testing::DiscoveryTest;
using ::etcdisc::testing::Field;
using ::etcdisc::testing::ProcessResult;
using ::etcdisc::testing::RunProcess;
using ::etcdisc::testing::WaitFor;
using std::chrono::milliseconds;
using std::chrono::seconds;

TEST_F(CliTest, WatchAndRegisterWorkThroughEtcdsGrpcProxy) {
  auto proxy = cluster().StartProxy();
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  const std::map<std::string, std::string> env = {{"ETCD_HOSTS", *proxy}};
  BackgroundProcess watch(Cli({"watch", "web", "--json"}), env);
  // The watch starts asynchronously: register until it reports a host.
  std::vector<std::unique_ptr<BackgroundProcess>> registrars;
  std::optional<std::string> line;
  for (int i = 0; i < 20 && !line; ++i) {
    registrars.push_back(std::make_unique<BackgroundProcess>(
        Cli({"register", "web", "--hostname=10.0.0." + std::to_string(i),
             "--ports=http=80", "--json"}),
        env));
    ASSERT_TRUE(registrars.back()->ReadLine(seconds(20)).has_value());
    line = watch.ReadLine(milliseconds(1000));
  }
  ASSERT_TRUE(line.has_value()) << "etcdisc watch saw nothing through the proxy";
  EXPECT_EQ(Field(ParseOrFail(*line), "event"), "new");
  watch.Signal(SIGINT);
  EXPECT_EQ(watch.Wait(seconds(10)), 0);
}

class CliAuthTest : public CliTest {
 protected:
  void Configure(::etcdisc::testing::EtcdClusterOptions* options) const override {
    options->auth = true;
  }
  // A file holding `password`.
  std::string PasswordFile(const std::string& password) {
    const std::string path =
        ::testing::TempDir() + "/etcdisc-cli-auth-" + std::to_string(getpid());
    std::ofstream(path) << password << "\n";
    return path;
  }
};

TEST_F(CliAuthTest, EtcdUsersAreTakenFromFlagsAndEnvironmentAndRefusalsExit4) {
  const std::string good = PasswordFile(cluster().Password("registrar"));
  ProcessResult ok = Run({"register", "web", "--hostname=10.0.0.1",
                          "--ports=http=80", "--etcd-user=registrar",
                          "--etcd-password-file=" + good, "--help"});
  EXPECT_TRUE(Contains(ok.out, "--etcd-user")) << ok.out;
  EXPECT_TRUE(Contains(ok.out, "4 etcd refused")) << ok.out;

  BackgroundProcess reg(
      Cli({"register", "web", "--hostname=10.0.0.1", "--ports=http=80",
           "--etcd-user=registrar", "--etcd-password-file=" + good}),
      Env());
  auto line = reg.ReadLine(seconds(20));
  ASSERT_TRUE(line.has_value());
  EXPECT_TRUE(Contains(*line, "registered")) << *line;

  auto env = Env();
  env["ETCD_USER"] = "watcher";
  env["ETCD_PASSWORD"] = cluster().Password("watcher");
  ProcessResult got = RunProcess(Cli({"get", "web"}), env);
  EXPECT_EQ(got.exit_code, 0) << got.err;
  EXPECT_TRUE(Contains(got.out, "10.0.0.1")) << got.out;

  // A reader may not register: exit 4, naming the prefixes.
  ProcessResult refused = RunProcess(
      Cli({"register", "web", "--hostname=10.0.0.2", "--ports=http=80"}), env);
  EXPECT_EQ(refused.exit_code, 4) << refused.err;
  EXPECT_TRUE(Contains(refused.err, "/service_infos/")) << refused.err;

  // A wrong password: exit 4, naming the user, never the password.
  const std::string wrong = PasswordFile("wrong-password-31337");
  ProcessResult denied = Run({"get", "web", "--etcd-user=registrar",
                              "--etcd-password-file=" + wrong});
  EXPECT_EQ(denied.exit_code, 4) << denied.err;
  EXPECT_TRUE(Contains(denied.err, "registrar")) << denied.err;
  EXPECT_FALSE(Contains(denied.err, "wrong-password-31337")) << denied.err;

  // No user at all: exit 4, saying etcd wants one.
  ProcessResult anonymous = Run({"get", "web"});
  EXPECT_EQ(anonymous.exit_code, 4) << anonymous.err;
  EXPECT_TRUE(Contains(anonymous.err, "authentication on")) << anonymous.err;
  reg.Signal(SIGINT);
  EXPECT_EQ(reg.Wait(seconds(10)), 0);
}

class CliTlsTest : public CliTest {
 protected:
  ::etcdisc::testing::EtcdClusterOptions::Tls Tls() const override {
    return ::etcdisc::testing::EtcdClusterOptions::Tls::kMutual;
  }
  // `get web` with the given TLS flags and a short deadline.
  ProcessResult GetWith(const std::vector<std::string>& tls_flags,
                        const std::string& endpoints) {
    std::vector<std::string> args = {"get", "web", "--timeout=2s",
                                     "--endpoints=" + endpoints};
    args.insert(args.end(), tls_flags.begin(), tls_flags.end());
    return RunProcess(Cli(args), {});
  }
};

TEST_F(CliTlsTest, TlsFlagsAndEnvironmentWorkAndHandshakeFailuresExit3) {
  auto reg = MustRegister("web", WebHost("10.0.0.1"));
  ASSERT_NE(reg, nullptr);
  const auto& certs = cluster().certs();
  const std::string endpoint = cluster().endpoint(0);
  ProcessResult flags =
      GetWith({"--cacert=" + certs.ca_file, "--cert=" + certs.client.cert_file,
               "--key=" + certs.client.key_file},
              endpoint);
  EXPECT_EQ(flags.exit_code, 0) << flags.err;
  EXPECT_TRUE(Contains(flags.out, "10.0.0.1")) << flags.out;

  ProcessResult env = RunProcess(Cli({"get", "web"}),
                                 {{"ETCD_HOSTS", endpoint},
                                  {"ETCD_CACERT", certs.ca_file},
                                  {"ETCD_TLS_CERT", certs.client.cert_file},
                                  {"ETCD_TLS_KEY", certs.client.key_file}});
  EXPECT_EQ(env.exit_code, 0) << env.err;
  EXPECT_TRUE(Contains(env.out, "10.0.0.1")) << env.out;

  const std::string handshake = "TLS handshake with etcd member " + endpoint;
  ProcessResult no_cert = GetWith({"--cacert=" + certs.ca_file}, endpoint);
  EXPECT_EQ(no_cert.exit_code, 3) << no_cert.err;
  EXPECT_TRUE(Contains(no_cert.err, handshake)) << no_cert.err;

  using Validity = ::etcdisc::testing::TestCerts::Validity;
  auto expired = certs.MakeClient("root", Validity::kExpired);
  ASSERT_TRUE(expired.ok()) << expired.status();
  ProcessResult old = GetWith({"--cacert=" + certs.ca_file,
                               "--cert=" + expired->cert_file,
                               "--key=" + expired->key_file},
                              endpoint);
  EXPECT_EQ(old.exit_code, 3) << old.err;
  EXPECT_TRUE(Contains(old.err, handshake)) << old.err;

  ProcessResult wrong_ca = GetWith({"--cacert=" + certs.other_ca_file,
                                    "--cert=" + certs.client.cert_file,
                                    "--key=" + certs.client.key_file},
                                   endpoint);
  EXPECT_EQ(wrong_ca.exit_code, 3) << wrong_ca.err;
  EXPECT_TRUE(Contains(wrong_ca.err, "certificate verify")) << wrong_ca.err;

  const std::string http = "http://" + endpoint.substr(8);
  ProcessResult plain = GetWith({}, http);
  EXPECT_EQ(plain.exit_code, 3) << plain.err;
  EXPECT_TRUE(Contains(plain.err, "use https://")) << plain.err;

  // A key file that is missing is a usage error naming it; a key's contents
  // never reach the output.
  ProcessResult missing = GetWith({"--cacert=" + certs.ca_file,
                                   "--cert=" + certs.client.cert_file,
                                   "--key=/nonexistent/client.key"},
                                  endpoint);
  EXPECT_EQ(missing.exit_code, 2) << missing.err;
  EXPECT_TRUE(Contains(missing.err, "/nonexistent/client.key")) << missing.err;
  for (const ProcessResult* r : {&flags, &no_cert, &old, &wrong_ca, &missing}) {
    EXPECT_FALSE(Contains(r->out + r->err, "PRIVATE KEY")) << r->err;
  }
}

TEST_F(CliTest, WaitExitsOnceEveryServiceHasAHostAndNamesTheMissing) {
  auto db = MustRegister("db", WebHost("10.0.0.1"));
  ASSERT_NE(db, nullptr);
  ProcessResult missing = Run({"wait", "db", "cache", "--timeout=3s"});
  EXPECT_EQ(missing.exit_code, 1) << missing.err;
  EXPECT_TRUE(Contains(missing.out, "db: 1 host\n")) << missing.out;
  EXPECT_TRUE(Contains(missing.err, "no live host after 3s for: cache\n"))
      << missing.err;

  BackgroundProcess waiter(Cli({"wait", "db", "cache", "--json"}), Env());
  auto first = waiter.ReadLine(seconds(20));
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(Field(ParseOrFail(*first), "service"), "db");
  auto cache = MustRegister("cache", WebHost("10.0.0.2"));
  ASSERT_NE(cache, nullptr);
  auto second = waiter.ReadLine(seconds(20));
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(Field(ParseOrFail(*second), "service"), "cache");
  EXPECT_EQ(Field(ParseOrFail(*second), "hosts"), "1");
  EXPECT_EQ(waiter.Wait(seconds(20)), 0);

  ProcessResult bad = Run({"wait", "bad/name"});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_TRUE(Contains(bad.err, "bad/name")) << bad.err;
  EXPECT_EQ(Run({"wait"}).exit_code, 2);
}

TEST_F(CliTest, WaitWaitsAgainForAServiceWhoseHostWentAway) {
  auto db = MustRegister("db", WebHost("10.0.0.1"));
  ASSERT_NE(db, nullptr);
  BackgroundProcess waiter(Cli({"wait", "db", "cache"}), Env());
  EXPECT_EQ(waiter.ReadLine(seconds(20)), "db: 1 host");
  // db goes before cache comes (etcd delivers them in that order): both
  // are never up at once, so it must not return.
  ASSERT_TRUE(db->Stop().ok());
  auto cache = MustRegister("cache", WebHost("10.0.0.2"));
  ASSERT_NE(cache, nullptr);
  EXPECT_EQ(waiter.ReadLine(seconds(20)), "cache: 1 host");
  EXPECT_EQ(waiter.Wait(milliseconds(500)), -1) << "it returned without db";
  auto db_again = MustRegister("db", WebHost("10.0.0.3"));
  ASSERT_NE(db_again, nullptr);
  EXPECT_EQ(waiter.Wait(seconds(20)), 0);
}

// The uuids in a JSON array of hosts.
std::vector<std::string> UuidsIn(const JsonValue& array) {
  std::vector<std::string> uuids;
  for (const JsonValue& host : array.items) uuids.push_back(Field(host, "uuid"));
  return uuids;
}

TEST_F(CliTest, WatchSnapshotPrintsEveryHostOnEachChangeAndExecSeesTheLatest) {
  auto a = MustRegister("web", WebHost("10.0.0.1"));
  ASSERT_NE(a, nullptr);
  BackgroundProcess watch(Cli({"watch", "web", "--snapshot", "--json"}), Env());
  auto first = watch.ReadLine(seconds(20));
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(UuidsIn(ParseOrFail(*first)), std::vector<std::string>{a->UUID()});
  auto b = MustRegister("web", WebHost("10.0.0.2"));
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(a->Stop().ok());
  // Each line is the whole list; the last one is what etcd holds now.
  std::vector<std::string> last;
  while (last != std::vector<std::string>{b->UUID()}) {
    auto line = watch.ReadLine(seconds(20));
    ASSERT_TRUE(line.has_value()) << "no line with only " << b->UUID();
    last = UuidsIn(ParseOrFail(*line));
  }
  watch.Signal(SIGINT);
  EXPECT_EQ(watch.Wait(seconds(10)), 0);

  const std::string file = ::testing::TempDir() + "/etcdisc-exec-" +
                           std::to_string(getpid()) + ".json";
  BackgroundProcess exec(
      Cli({"watch", "web", "--snapshot",
           "--exec=cat > " + file + ".tmp && mv " + file + ".tmp " + file}),
      Env());
  auto file_uuids = [&] {
    std::ifstream in(file);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    auto parsed = ParseJson(text);
    return parsed.ok() ? UuidsIn(*parsed) : std::vector<std::string>{};
  };
  EXPECT_TRUE(WaitFor(
      [&] { return file_uuids() == std::vector<std::string>{b->UUID()}; },
      seconds(20)));
  auto c = MustRegister("web", WebHost("10.0.0.3"));
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(WaitFor([&] { return file_uuids().size() == 2; }, seconds(20)));
  exec.Signal(SIGINT);
  EXPECT_EQ(exec.Wait(seconds(10)), 0);
  std::remove(file.c_str());

  EXPECT_EQ(Run({"watch", "web", "--exec=true"}).exit_code, 2);
}

TEST_F(CliTest, WatchExecPassesSigtermToTheCommandItRuns) {
  const std::string file = ::testing::TempDir() + "/etcdisc-exec-started-" +
                           std::to_string(getpid());
  std::remove(file.c_str());
  BackgroundProcess exec(Cli({"watch", "web", "--snapshot",
                              "--exec=touch " + file + "; sleep 60"}),
                         Env());
  ASSERT_TRUE(WaitFor([&] { return std::ifstream(file).good(); }, seconds(20)));
  // The command (its whole process group) ends with the signal, and
  // etcdisc right after it.
  exec.Signal(SIGTERM);
  EXPECT_EQ(exec.Wait(seconds(20)), 0);
  std::remove(file.c_str());
}

TEST_F(CliTest, HelpVersionAndUsageErrors) {
  ProcessResult help = Run({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_TRUE(Contains(help.out, "register")) << help.out;
  EXPECT_TRUE(Contains(help.out, "Exit codes: 0 success; 1 nothing found"));
  ProcessResult get_help = Run({"get", "--help"});
  EXPECT_EQ(get_help.exit_code, 0);
  EXPECT_TRUE(Contains(get_help.out, "--first")) << get_help.out;
  EXPECT_TRUE(Contains(get_help.out, "Examples:\n  etcdisc get web "))
      << get_help.out;
  EXPECT_FALSE(Contains(get_help.out, "--password-file"));
  ProcessResult version = Run({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  // The CMake project version, through the generated etcdisc/version.h.
  EXPECT_EQ(version.out, std::string("etcdisc ") + ETCDISC_VERSION_STRING + "\n");
  EXPECT_EQ(std::string(Version()), ETCDISC_VERSION_STRING);
  EXPECT_EQ(std::string(ETCDISC_VERSION_STRING),
            std::to_string(ETCDISC_VERSION_MAJOR) + "." +
                std::to_string(ETCDISC_VERSION_MINOR) + "." +
                std::to_string(ETCDISC_VERSION_PATCH));

  EXPECT_EQ(Run({}).exit_code, 2);
  ProcessResult unknown = Run({"frobnicate"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_TRUE(Contains(unknown.err, "\"frobnicate\"")) << unknown.err;
  ProcessResult wrong_flag = Run({"get", "web", "--ttl=2s"});
  EXPECT_EQ(wrong_flag.exit_code, 2);
  EXPECT_TRUE(Contains(wrong_flag.err, "--ttl=2s")) << wrong_flag.err;
  ProcessResult sync = Run({"watch", "web", "--endpoint-sync=500ms"});
  EXPECT_EQ(sync.exit_code, 2);
  EXPECT_TRUE(Contains(sync.err, "endpoint_sync_interval = 500ms")) << sync.err;
  EXPECT_EQ(Run({"get"}).exit_code, 2);
  EXPECT_EQ(Run({"get", "web", "--first", "--one"}).exit_code, 2);
}

TEST_F(CliTest, RegisterPrintsTheUuidAndSigtermRevokesIt) {
  auto downs = discovery().SubscribeDown("web");
  ASSERT_TRUE(downs.ok());
  BackgroundProcess registrar(
      Cli({"register", "web", "--hostname=10.0.0.1", "--ports=http=8080",
           "--private-hostname=node-1.internal", "--private-ports", "http=9090",
           "--ttl=60s", "--critical", "--shard=eu", "--json"}),
      Env());
  auto line = registrar.ReadLine(seconds(20));
  ASSERT_TRUE(line.has_value());
  const JsonValue event = ParseOrFail(*line);
  EXPECT_EQ(Field(event, "event"), "registered");
  EXPECT_EQ(Field(event, "service"), "web");
  const std::string uuid = Field(event, "uuid");
  EXPECT_TRUE(Contains(uuid, "-node-1.internal")) << uuid;

  auto hosts = discovery().Get("web");
  ASSERT_TRUE(hosts.ok());
  const Host host = *hosts->First();
  EXPECT_EQ(host.uuid, uuid);
  EXPECT_EQ(host.ports.at("http"), "8080");
  EXPECT_TRUE(host.critical);
  EXPECT_EQ(host.shard, "eu");
  EXPECT_EQ(host.private_hostname, "node-1.internal");
  EXPECT_EQ(host.private_ports.at("http"), "9090");

  registrar.Signal(SIGTERM);
  auto down = (*downs)->Pop(seconds(10));  // TTL 60 s: only a revoke is this quick.
  ASSERT_TRUE(down.has_value());
  EXPECT_EQ(*down, uuid);
  auto stopped = registrar.ReadLine(seconds(10));
  ASSERT_TRUE(stopped.has_value());
  EXPECT_EQ(Field(ParseOrFail(*stopped), "event"), "stopped");
  EXPECT_EQ(registrar.Wait(seconds(10)), 0);
}

TEST_F(CliTest, GetPrintsTablesJsonInTheGoFormatAndUrls) {
  Host eu = WebHost("10.0.0.1", "8080");
  eu.shard = "eu";
  eu.critical = true;
  auto a = MustRegister("web", eu);
  auto b = MustRegister("web", WebHost("10.0.0.2", "8081"));

  ProcessResult table = Run({"get", "web"});
  EXPECT_EQ(table.exit_code, 0) << table.err;
  EXPECT_TRUE(Contains(table.out, "UUID")) << table.out;
  EXPECT_TRUE(Contains(table.out, a->UUID()));
  EXPECT_TRUE(Contains(table.out, b->UUID()));

  ProcessResult json = Run({"get", "web", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const JsonValue array = ParseOrFail(json.out);
  ASSERT_EQ(array.type, JsonValue::Type::kArray);
  ASSERT_EQ(array.items.size(), 2u);
  for (const JsonValue& record : array.items) {
    const Host expected =
        Field(record, "uuid") == a->UUID() ? a->host() : b->host();
    EXPECT_EQ(Field(record, "name"), expected.name);
    EXPECT_EQ(Field(record, "service_name"), "web");
    ASSERT_NE(record.Find("ports"), nullptr);
    EXPECT_EQ(Field(*record.Find("ports"), "http"), expected.ports.at("http"));
    EXPECT_EQ(Field(record, "private_hostname"), expected.private_hostname);
    EXPECT_EQ(Field(*record.Find("private_ports"), "http"),
              expected.private_ports.at("http"));
    EXPECT_EQ(record.Find("critical") != nullptr, expected.critical);
    EXPECT_EQ(record.Find("shard") != nullptr, !expected.shard.empty());
    // Byte for byte the record the library writes.
    EXPECT_TRUE(Contains(json.out, ToJson(expected))) << json.out;
  }

  ProcessResult first = Run({"get", "web", "--shard=eu", "--first", "--json"});
  ASSERT_EQ(first.exit_code, 0);
  EXPECT_EQ(ParseOrFail(first.out).items.size(), 1u);
  EXPECT_TRUE(Contains(first.out, a->UUID()));

  ProcessResult url = Run({"get", "web", "--shard=eu", "--url=http", "--path=/health"});
  EXPECT_EQ(url.exit_code, 0);
  EXPECT_EQ(url.out, "http://10.0.0.1:8080/health\n");
  ProcessResult private_url = Run({"get", "web", "--shard=eu", "--private", "--url=http"});
  EXPECT_EQ(private_url.out, "http://10.0.0.1:8080\n");
  EXPECT_EQ(Run({"get", "web", "--url=gopher"}).exit_code, 2);
}

TEST_F(CliTest, PasswordsStayHiddenUnlessShowSecrets) {
  Host host = WebHost("pub.example", "80");
  host.is_public = true;
  host.user = "admin";
  host.password = "s3cr3t-pw";
  auto reg = MustRegister("db", host);
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"get", "db"}, {"get", "db", "--json"}, {"get", "db", "--url=http"}}) {
    ProcessResult r = Run(args);
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_FALSE(Contains(r.out, "s3cr3t-pw")) << r.out;
  }
  EXPECT_EQ(Run({"get", "db", "--url=http"}).out,
            "http://admin:*****@pub.example:80\n");
  EXPECT_TRUE(Contains(Run({"get", "db", "--json", "--show-secrets"}).out,
                       "\"password\":\"s3cr3t-pw\""));
  EXPECT_EQ(Run({"get", "db", "--url=http", "--show-secrets"}).out,
            "http://admin:s3cr3t-pw@pub.example:80\n");
}

TEST_F(CliTest, RegisterReadsThePasswordFromAFile) {
  const std::string file = ::testing::TempDir() + "/etcdisc-password";
  std::ofstream(file) << "from-file\n";
  BackgroundProcess registrar(
      Cli({"register", "db", "--hostname=pub.example", "--ports=http=80",
           "--public", "--user=admin", "--password-file=" + file}),
      Env());
  auto line = registrar.ReadLine(seconds(20));
  ASSERT_TRUE(line.has_value());
  EXPECT_TRUE(Contains(*line, "registered")) << *line;
  EXPECT_TRUE(Contains(RawValue("/service_infos/db"), "\"password\":\"from-file\""));
  registrar.Signal(SIGINT);
  EXPECT_EQ(registrar.Wait(seconds(10)), 0);
  EXPECT_EQ(RawValue("/service_infos/db"), "");

  ProcessResult missing = Run({"register", "db", "--hostname=h", "--ports=http=80",
                               "--password-file=/nonexistent/pw"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_TRUE(Contains(missing.err, "/nonexistent/pw")) << missing.err;
}

TEST_F(CliTest, RegisterWritesItsMetricsFileForPrometheus) {
  const std::string file = ::testing::TempDir() + "/etcdisc-metrics.prom";
  std::remove(file.c_str());
  BackgroundProcess registrar(
      Cli({"register", "web", "--hostname=10.0.0.1", "--ports=http=80",
           "--json", "--metrics-file=" + file}),
      Env());
  auto line = registrar.ReadLine(seconds(20));
  ASSERT_TRUE(line.has_value());
  const std::string uuid = Field(ParseOrFail(*line), "uuid");
  // Written again after the event that was just printed.
  const std::string registered = "etcdisc_registration_state{service=\"web\",uuid=\"" +
                                 uuid + "\",state=\"registered\"} 1\n";
  std::string text;
  EXPECT_TRUE(::etcdisc::testing::WaitFor(
      [&] {
        std::ifstream in(file);
        text.assign(std::istreambuf_iterator<char>(in), {});
        return Contains(text, registered);
      },
      seconds(10)))
      << text;
  EXPECT_TRUE(Contains(text, "# TYPE etcdisc_etcd_call_duration_seconds histogram\n"));
  registrar.Signal(SIGINT);
  EXPECT_EQ(registrar.Wait(seconds(10)), 0);
  // Gone with the process, so that its series go too.
  EXPECT_FALSE(std::ifstream(file).good());

  // A file that cannot be written is refused, and nothing is written to etcd.
  auto before = cluster().Revision();
  ASSERT_TRUE(before.ok()) << before.status();
  ProcessResult bad = Run({"register", "db", "--hostname=h", "--ports=http=80",
                           "--metrics-file=/nonexistent/dir/m.prom"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_TRUE(Contains(bad.err, "--metrics-file=/nonexistent/dir/m.prom")) << bad.err;
  EXPECT_EQ(bad.out, "");
  auto after = cluster().Revision();
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(*after, *before);
}

TEST_F(CliTest, WatchStreamsJsonLinesForNewAndDown) {
  auto before = MustRegister("web", WebHost("10.0.0.1"));
  BackgroundProcess watch(Cli({"watch", "web", "--existing", "--json"}), Env());
  auto line = watch.ReadLine(seconds(20));
  ASSERT_TRUE(line.has_value());
  JsonValue event = ParseOrFail(*line);
  EXPECT_EQ(Field(event, "event"), "new");
  EXPECT_EQ(Field(event, "service"), "web");
  EXPECT_EQ(Field(event, "uuid"), before->UUID());
  ASSERT_NE(event.Find("host"), nullptr);
  EXPECT_EQ(Field(*event.Find("host"), "name"), "10.0.0.1");
  EXPECT_EQ(Field(*event.Find("host"), "uuid"), before->UUID());

  auto after = MustRegister("web", WebHost("10.0.0.2"));
  line = watch.ReadLine(seconds(20));
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(Field(ParseOrFail(*line), "uuid"), after->UUID());

  ASSERT_TRUE(before->Stop().ok());
  line = watch.ReadLine(seconds(20));
  ASSERT_TRUE(line.has_value());
  event = ParseOrFail(*line);
  EXPECT_EQ(Field(event, "event"), "down");
  EXPECT_EQ(Field(event, "uuid"), before->UUID());
  EXPECT_EQ(event.Find("host"), nullptr);

  watch.Signal(SIGINT);
  EXPECT_EQ(watch.Wait(seconds(10)), 0);
}

TEST_F(CliTest, WatchEventsFlagFilters) {
  BackgroundProcess watch(Cli({"watch", "web", "--events=down", "--json"}), Env());
  // Hosts come and go until the watch, started asynchronously, reports one:
  // only their downs may show.
  std::optional<std::string> line;
  for (int i = 0; i < 40 && !line; ++i) {
    auto reg = MustRegister("web", WebHost("10.0.0." + std::to_string(i)));
    ASSERT_TRUE(reg->Stop().ok());
    line = watch.ReadLine(milliseconds(500));
  }
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(Field(ParseOrFail(*line), "event"), "down");
  EXPECT_EQ(Run({"watch", "web", "--events=up"}).exit_code, 2);
}

TEST_F(CliTest, MalformedRecordBreaksNeitherGetNorWatch) {
  auto good = MustRegister("web", WebHost("10.0.0.1"));
  MustPut("/services/web/broken", "{{{ not json");
  ProcessResult get = Run({"get", "web", "--json"});
  EXPECT_EQ(get.exit_code, 0) << get.err;
  EXPECT_EQ(ParseOrFail(get.out).items.size(), 1u);
  EXPECT_TRUE(Contains(get.err, "malformed")) << get.err;

  BackgroundProcess watch(Cli({"watch", "web", "--existing", "--json"}), Env());
  auto line = watch.ReadLine(seconds(20));
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(Field(ParseOrFail(*line), "uuid"), good->UUID());
  auto next = MustRegister("web", WebHost("10.0.0.2"));
  line = watch.ReadLine(seconds(20));
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(Field(ParseOrFail(*line), "uuid"), next->UUID());
}

TEST_F(CliTest, ServicesListsHostCountsAndCriticality) {
  Host critical = WebHost("10.0.0.1");
  critical.critical = true;
  auto a = MustRegister("alpha", critical);
  auto b = MustRegister("beta", WebHost("10.0.0.2"));
  auto c = MustRegister("beta", WebHost("10.0.0.3"));
  ProcessResult json = Run({"services", "--json"});
  ASSERT_EQ(json.exit_code, 0);
  EXPECT_EQ(json.out,
            "[{\"name\":\"alpha\",\"hosts\":1,\"critical\":true},"
            "{\"name\":\"beta\",\"hosts\":2,\"critical\":false}]\n");
  ProcessResult table = Run({"services"});
  EXPECT_TRUE(Contains(table.out, "SERVICE")) << table.out;
  EXPECT_TRUE(Contains(table.out, "beta")) << table.out;
}

TEST_F(CliTest, ExitCodesSayWhatWentWrong) {
  ProcessResult missing = Run({"get", "nothing"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_TRUE(Contains(missing.err, "\"nothing\"")) << missing.err;

  ProcessResult bad_port = Run({"register", "web", "--hostname=h", "--ports=http=abc"});
  EXPECT_EQ(bad_port.exit_code, 2);
  EXPECT_TRUE(Contains(bad_port.err, "\"abc\"")) << bad_port.err;
  ProcessResult bad_item = Run({"register", "web", "--hostname=h", "--ports=http"});
  EXPECT_EQ(bad_item.exit_code, 2);
  ProcessResult bad_timeout = Run({"get", "web", "--timeout=fast"});
  EXPECT_EQ(bad_timeout.exit_code, 2);
  EXPECT_TRUE(Contains(bad_timeout.err, "--timeout=fast")) << bad_timeout.err;
  ProcessResult bad_name = Run({"get", "a/b"});
  EXPECT_EQ(bad_name.exit_code, 2);

  ProcessResult unreachable = RunProcess(
      Cli({"get", "web", "--endpoints=http://127.0.0.1:1", "--timeout=500ms"}));
  EXPECT_EQ(unreachable.exit_code, 3);
  EXPECT_TRUE(Contains(unreachable.err, "http://127.0.0.1:1")) << unreachable.err;
  ProcessResult bad_endpoint = RunProcess(Cli({"get", "web", "--endpoints=ftp://x:1"}));
  EXPECT_EQ(bad_endpoint.exit_code, 2);
  EXPECT_TRUE(Contains(bad_endpoint.err, "ftp://x:1")) << bad_endpoint.err;
}

TEST_F(CliTest, PrefixFlagSelectsATenant) {
  BackgroundProcess registrar(
      Cli({"register", "web", "--hostname=10.0.0.1", "--ports=http=80",
           "--prefix=/tenant"}),
      Env());
  ASSERT_TRUE(registrar.ReadLine(seconds(20)).has_value());
  EXPECT_EQ(Run({"get", "web"}).exit_code, 1);
  EXPECT_EQ(Run({"get", "web", "--prefix=/tenant"}).exit_code, 0);
}

}  // namespace
}  // namespace etcdisc

namespace etcdisc {
namespace {

// Completes LINE with the installed-to-be bash completion script; the CLI is
// found on PATH as it would be once installed.
std::string Complete(const std::string& line,
                     const std::map<std::string, std::string>& env) {
  const std::string cli_dir =
      std::string(ETCDISC_CLI_PATH).substr(
          0, std::string(ETCDISC_CLI_PATH).rfind('/'));
  const std::string script =
      "source \"$COMPLETION\"; PATH=\"$CLI_DIR:$PATH\"\n"
      "COMP_LINE=\"$LINE\"; COMP_POINT=${#LINE}\n"
      "read -ra COMP_WORDS <<<\"$LINE\"\n"
      "[[ \"$LINE\" == *' ' ]] && COMP_WORDS+=('')\n"
      "COMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n"
      "_etcdisc; echo \"${COMPREPLY[*]}\"\n";
  std::map<std::string, std::string> all = env;
  all["COMPLETION"] = ETCDISC_COMPLETION_PATH;
  all["CLI_DIR"] = cli_dir;
  all["LINE"] = line;
  ProcessResult result = RunProcess({"/bin/bash", "-c", script}, all);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  return result.out;
}

TEST_F(CliTest, BashCompletionOffersCommandsFlagsValuesAndLiveServices) {
  EXPECT_EQ(Complete("etcdisc ", Env()),
            "register get pick watch wait run cluster services fleet --help "
            "--version\n");
  EXPECT_EQ(Complete("etcdisc fleet --on", Env()), "--online\n");
  EXPECT_EQ(Complete("etcdisc pick web --policy=r", Env()),
            "round_robin random\n");
  // cluster: a subcommand, then its own flags.
  EXPECT_EQ(Complete("etcdisc cluster m", Env()), "members\n");
  EXPECT_EQ(Complete("etcdisc cluster join chat --on", Env()), "--on-down=\n");
  EXPECT_EQ(Complete("etcdisc get web --fi", Env()), "--first\n");
  EXPECT_EQ(Complete("etcdisc get web --log-level=w", Env()), "warning\n");
  // register's own flags are offered for register, not for get.
  EXPECT_TRUE(Contains(Complete("etcdisc register web --", Env()),
                       "--password-file="));
  EXPECT_FALSE(Contains(Complete("etcdisc get web --", Env()),
                        "--password-file="));

  // Service names come from etcd, for the first word after the command.
  auto shop = MustRegister("webshop", WebHost("10.0.0.1"));
  auto cache = MustRegister("webcache", WebHost("10.0.0.2"));
  EXPECT_EQ(Complete("etcdisc get web", Env()), "webcache webshop\n");
  EXPECT_EQ(Complete("etcdisc watch webs", Env()), "webshop\n");
  EXPECT_EQ(Complete("etcdisc fleet webs", Env()), "webshop\n");
  EXPECT_EQ(Complete("etcdisc fleet se", Env()), "serve\n");
  EXPECT_EQ(Complete("etcdisc get webshop ", Env()), "\n");
  // Every word after `wait` is a service.
  EXPECT_EQ(Complete("etcdisc wait webshop webc", Env()), "webcache\n");
  // run's --register and --wait name services; --wait a list of them.
  EXPECT_EQ(Complete("etcdisc run --register=webs", Env()), "webshop\n");
  EXPECT_EQ(Complete("etcdisc run --wait=webshop,webc", Env()),
            "webshop,webcache\n");
  // An unreachable etcd means no suggestions, quickly, and no error shown.
  EXPECT_EQ(Complete("etcdisc get web",
                     {{"ETCD_HOSTS", "http://127.0.0.1:1"}}),
            "\n");
}

}  // namespace
}  // namespace etcdisc
