// End-to-end tests of `etcdisc run` against a real etcd: dependencies waited
// for, the command's status returned, signals passed on, and its host
// registered while it runs and taken down at once when it ends.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "etcd/types.h"
#include "gtest/gtest.h"
#include "support/process.h"
#include "support/wait.h"
#include "tools/cli_fixture.h"

namespace etcdisc {
namespace {

using ::etcdisc::internal::KeyValue;
using ::etcdisc::testing::BackgroundProcess;
using ::etcdisc::testing::CliTest;
using ::etcdisc::testing::Contains;
using ::etcdisc::testing::ProcessResult;
using ::etcdisc::testing::WaitFor;
using std::chrono::seconds;

bool Exists(const std::string& path) { return std::ifstream(path).good(); }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// A shell script that touches `started`, runs until `stop` appears (a minute
// at most, so that nothing outlives a failed test for long), and exits with
// `code`.
std::string UntilFile(const std::string& started, const std::string& stop,
                      int code) {
  return absl::StrCat("touch ", started,
                      "; i=0; while [ ! -f ", stop,
                      " ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); "
                      "done; exit ",
                      code);
}

class CliRunTest : public CliTest {
 protected:
  void TearDown() override {
    for (const std::string& file : files_) std::remove(file.c_str());
    CliTest::TearDown();
  }

  // A path for this test to use, removed at the end.
  std::string TempFile(const std::string& name) {
    files_.push_back(absl::StrCat(::testing::TempDir(), "/etcdisc-run-",
                                  getpid(), "-", name));
    std::remove(files_.back().c_str());
    return files_.back();
  }

  // The CLI in the background, its stderr written to `err`.
  std::unique_ptr<BackgroundProcess> Background(std::vector<std::string> args,
                                                const std::string& err) {
    args = Cli(std::move(args));
    args.insert(args.begin(),
                {"/bin/sh", "-c", "exec \"$0\" \"$@\" 2>\"$RUN_TEST_ERR\""});
    auto env = Env();
    env["RUN_TEST_ERR"] = err;
    return std::make_unique<BackgroundProcess>(args, env);
  }

  // The host keys of `service` as etcd holds them now.
  std::vector<KeyValue> HostKeys(const std::string& service) {
    auto range = client().kv().Range(
        internal::RangeRequest::Prefix("/services/" + service + "/"));
    EXPECT_TRUE(range.ok()) << range.status();
    return range.ok() ? range->kvs : std::vector<KeyValue>{};
  }

  std::vector<std::string> files_;
};

// `run` with `flags` (before `--` and the command in `tail`).
std::vector<std::string> RunArgs(const std::vector<std::string>& flags,
                                 const std::vector<std::string>& tail) {
  std::vector<std::string> args = {"run"};
  args.insert(args.end(), flags.begin(), flags.end());
  args.insert(args.end(), tail.begin(), tail.end());
  return args;
}

// `run` registering a host of web (60 s TTL: a key left behind would show)
// while the shell `script` runs.
std::vector<std::string> WebRun(const std::string& script,
                                const std::vector<std::string>& more = {}) {
  std::vector<std::string> flags = {"--register=web", "--hostname=10.0.0.9",
                                    "--ports=http=8080", "--ttl=60s"};
  flags.insert(flags.end(), more.begin(), more.end());
  return RunArgs(flags, {"--", "sh", "-c", script});
}

TEST_F(CliRunTest, StartsTheCommandOnceItsDependenciesHaveHostsAndReturnsItsStatus) {
  const std::string started = TempFile("started");
  ProcessResult missing =
      Run({"run", "--wait=db", "--timeout=2s", "--", "touch", started});
  EXPECT_EQ(missing.exit_code, 1) << missing.err;
  EXPECT_TRUE(Contains(missing.err, "no live host after 2s for: db"))
      << missing.err;
  EXPECT_FALSE(Exists(started)) << "the command ran without its dependency";

  auto db = MustRegister("db", WebHost("10.0.0.1"));
  ASSERT_NE(db, nullptr);
  ProcessResult ran = Run({"run", "--wait=db", "--", "sh", "-c",
                           "touch " + started + "; exit 7"});
  EXPECT_EQ(ran.exit_code, 7) << ran.err;
  EXPECT_TRUE(Exists(started));
  EXPECT_TRUE(Contains(ran.err, "db: 1 host")) << ran.err;

  ProcessResult killed = Run({"run", "--", "sh", "-c", "kill -9 $$"});
  EXPECT_EQ(killed.exit_code, 128 + SIGKILL) << killed.err;
  ProcessResult absent = Run({"run", "--", "etcdisc-test-no-such-command"});
  EXPECT_EQ(absent.exit_code, 127);
  EXPECT_TRUE(Contains(absent.err, "etcdisc-test-no-such-command"))
      << absent.err;
}

TEST_F(CliRunTest, BadFlagsAreRefusedNamingTheValueBeforeTheCommandStarts) {
  const std::string started = TempFile("started");
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--register=web", "--hostname=a/b"}, "a/b"},
      {{"--register=web", "--hostname=h", "--ports=http=99999"}, "99999"},
      {{"--register=bad/name", "--hostname=h"}, "bad/name"},
      {{"--register=web", "--hostname=h", "--ready-tcp=0"}, "--ready-tcp=0"},
      {{"--ready-tcp=8080"}, "--register"},
      {{"--wait=db,bad/name"}, "bad/name"},
      {{"--register=web", "--hostname=h", "--ttl=soon"}, "soon"},
  };
  for (const auto& [flags, named] : cases) {
    ProcessResult bad = Run(RunArgs(flags, {"--", "touch", started}));
    EXPECT_EQ(bad.exit_code, 2) << flags[0] << ": " << bad.err;
    EXPECT_TRUE(Contains(bad.err, named)) << bad.err;
  }
  EXPECT_FALSE(Exists(started)) << "a command ran despite bad flags";
  EXPECT_EQ(Run({"run"}).exit_code, 2);
}

TEST_F(CliRunTest, RegistersWhileTheCommandRunsAndTakesTheHostDownWhenItEnds) {
  const std::string started = TempFile("started");
  const std::string stop = TempFile("stop");
  auto run = Background(WebRun(UntilFile(started, stop, 3)), TempFile("err"));
  ASSERT_TRUE(WaitFor([&] { return HostKeys("web").size() == 1; }, seconds(20)));
  EXPECT_TRUE(Exists(started));

  std::ofstream(stop).put('\n');
  EXPECT_EQ(run->Wait(seconds(20)), 3);
  // At once: the lease was revoked, not left to its 60 s TTL.
  EXPECT_TRUE(HostKeys("web").empty());
}

TEST_F(CliRunTest, PassesSigtermOnAndTakesTheHostDownWhileTheCommandDrains) {
  const std::string termed = TempFile("termed");
  const std::string finish = TempFile("finish");
  // On SIGTERM the command keeps running until `finish` appears: the host
  // must be down during that drain, not only after it.
  const std::string script = absl::StrCat(
      "trap 'touch ", termed, "; while [ ! -f ", finish,
      " ]; do sleep 0.05; done; exit 42' TERM; ",
      UntilFile(TempFile("started"), TempFile("never"), 0));
  auto run = Background(WebRun(script), TempFile("err"));
  ASSERT_TRUE(WaitFor([&] { return HostKeys("web").size() == 1; }, seconds(20)));

  run->Signal(SIGTERM);
  ASSERT_TRUE(WaitFor([&] { return Exists(termed); }, seconds(20)))
      << "the command never got the SIGTERM";
  EXPECT_TRUE(WaitFor([&] { return HostKeys("web").empty(); }, seconds(20)))
      << "the host stayed registered while the command drained";
  std::ofstream(finish).put('\n');
  EXPECT_EQ(run->Wait(seconds(20)), 42);
}

TEST_F(CliRunTest, PassesSighupOnAndKeepsTheHostRegistered) {
  const std::string hupped = TempFile("hupped");
  const std::string started = TempFile("started");
  const std::string stop = TempFile("stop");
  const std::string script = absl::StrCat("trap 'touch ", hupped, "' HUP; ",
                                          UntilFile(started, stop, 0));
  auto run = Background(WebRun(script), TempFile("err"));
  ASSERT_TRUE(WaitFor([&] { return HostKeys("web").size() == 1; }, seconds(20)));
  // The command's trap is set once it has started: a SIGHUP before that
  // would end the shell, not test the passing on.
  ASSERT_TRUE(WaitFor([&] { return Exists(started); }, seconds(20)));
  const int64_t lease = HostKeys("web").front().lease;
  run->Signal(SIGHUP);
  ASSERT_TRUE(WaitFor([&] { return Exists(hupped); }, seconds(20)))
      << "the command never got the SIGHUP";
  // By custom a reload, not a shutdown: the host stays, on the same lease.
  ASSERT_EQ(HostKeys("web").size(), 1u);
  EXPECT_EQ(HostKeys("web").front().lease, lease);
  std::ofstream(stop).put('\n');
  EXPECT_EQ(run->Wait(seconds(20)), 0);
  EXPECT_TRUE(HostKeys("web").empty());
}

// A TCP port on 127.0.0.1 that refuses connections until Listen().
class ClosedPort {
 public:
  ClosedPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof(address);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&address), size);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &size);
    port_ = ntohs(address.sin_port);
  }
  ~ClosedPort() { ::close(fd_); }
  int port() const { return port_; }
  bool Listen() { return ::listen(fd_, 16) == 0; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST_F(CliRunTest, RegistersOnceTheReadyPortAcceptsAndAgainAfterItsLeaseIsLost) {
  ClosedPort port;
  ASSERT_GT(port.port(), 0);
  const std::string started = TempFile("started");
  const std::string stop = TempFile("stop");
  const std::string err = TempFile("err");
  auto run = Background(
      WebRun(UntilFile(started, stop, 0),
             {absl::StrCat("--ready-tcp=", port.port())}),
      err);
  ASSERT_TRUE(WaitFor([&] { return Exists(started); }, seconds(20)));
  // A second run, started later with no --ready-tcp, registers "control"
  // right after its command starts. Were the port ignored, web would have
  // been registered first.
  auto control = Background(
      {"run", "--register=control", "--hostname=10.0.0.10", "--", "sh", "-c",
       UntilFile(TempFile("control-started"), stop, 0)},
      TempFile("control-err"));
  ASSERT_TRUE(
      WaitFor([&] { return HostKeys("control").size() == 1; }, seconds(20)));
  EXPECT_TRUE(HostKeys("web").empty());
  ASSERT_TRUE(port.Listen());
  ASSERT_TRUE(WaitFor([&] { return HostKeys("web").size() == 1; }, seconds(20)));
  const KeyValue first = HostKeys("web").front();
  EXPECT_GT(first.create_revision, HostKeys("control").front().create_revision);

  // The lease is taken away: the host comes back under a new one, and
  // stderr says so, while the command goes on.
  auto revoked = cluster().Etcdctl(
      {"lease", "revoke", absl::StrCat(absl::Hex(first.lease))}, false);
  ASSERT_TRUE(revoked.ok()) << revoked.status();
  ASSERT_TRUE(WaitFor(
      [&] {
        auto keys = HostKeys("web");
        return keys.size() == 1 && keys[0].lease != first.lease;
      },
      seconds(20)));
  EXPECT_EQ(HostKeys("web").front().key, first.key) << "the uuid changed";
  EXPECT_TRUE(WaitFor(
      [&] { return Contains(ReadFile(err), "re-registered web"); }, seconds(20)));
  EXPECT_TRUE(Contains(ReadFile(err), "lost web")) << ReadFile(err);

  std::ofstream(stop).put('\n');
  EXPECT_EQ(run->Wait(seconds(20)), 0);
  EXPECT_EQ(control->Wait(seconds(20)), 0);
  EXPECT_TRUE(HostKeys("web").empty());
}

}  // namespace
}  // namespace etcdisc
