// examples/grpc against a real etcd: three greeter servers and a client
// calling through etcdisc's channels while one server is killed with -9, one
// is stopped with SIGTERM and a new one starts; the client is stopped once
// the new one has had a call (the README runs it for 10 s).
#include <signal.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "support/discovery_test.h"
#include "support/process.h"
#include "support/wait.h"

namespace etcdisc {
namespace {

using ::etcdisc::testing::BackgroundProcess;
using ::etcdisc::testing::DescribeProcess;
using ::etcdisc::testing::DiscoveryTest;
using ::etcdisc::testing::WaitFor;
using std::chrono::milliseconds;
using std::chrono::seconds;

// "key=value key2=value2" -> {key: value, ...}.
std::map<std::string, std::string> Fields(const std::string& line) {
  std::map<std::string, std::string> fields;
  for (absl::string_view part : absl::StrSplit(line, ' ', absl::SkipEmpty())) {
    std::pair<std::string, std::string> kv = absl::StrSplit(part, '=');
    fields[kv.first] = kv.second;
  }
  return fields;
}

int Number(const std::map<std::string, std::string>& fields,
           const std::string& name) {
  int n = -1;
  auto found = fields.find(name);
  if (found == fields.end() || !absl::SimpleAtoi(found->second, &n)) return -1;
  return n;
}

class GrpcExampleTest : public DiscoveryTest {
 protected:
  std::map<std::string, std::string> Env() {
    return {{"ETCD_HOSTS", cluster().endpoints()}};
  }
  // A greeter server, registered once this returns; its uuid in `*uuid`.
  // Its first line is "port=... uuid=..." even when a call came first.
  std::unique_ptr<BackgroundProcess> StartServer(std::string* uuid) {
    auto server = std::make_unique<BackgroundProcess>(
        std::vector<std::string>{GREETER_SERVER_PATH, "--service=greeter",
                                 "--port=0", "--ttl=2s", "--grace=2s"},
        Env());
    std::optional<std::string> line = server->ReadLine(seconds(20));
    EXPECT_TRUE(line.has_value()) << DescribeProcess(*server);
    if (!line) return server;
    const auto fields = Fields(*line);
    EXPECT_GT(Number(fields, "port"), 0) << *line;
    *uuid = fields.count("uuid") ? fields.at("uuid") : "";
    EXPECT_FALSE(uuid->empty()) << *line;
    return server;
  }
  // Whether the greeter `uuid` is registered now.
  bool InEtcd(const std::string& uuid) {
    auto hosts = discovery().Get("greeter");
    if (!hosts.ok()) return true;
    auto all = hosts->All();
    if (!all.ok()) return false;
    for (const Host& h : *all) {
      if (h.uuid == uuid) return true;
    }
    return false;
  }
};

TEST_F(GrpcExampleTest, CallsFollowServersThatDieStopAndStart) {
  std::string killed_uuid, stopped_uuid, kept_uuid, new_uuid;
  auto killed = StartServer(&killed_uuid);
  auto stopped = StartServer(&stopped_uuid);
  auto kept = StartServer(&kept_uuid);
  ASSERT_FALSE(HasFailure());

  BackgroundProcess client(
      {GREETER_CLIENT_PATH, "--service=greeter", "--duration=120s",
       "--interval=5ms"},
      Env());
  ASSERT_EQ(client.ReadLine(seconds(20)), "ready") << DescribeProcess(client);
  // Each server's fate once it has had calls; the next once etcd shows it.
  ASSERT_EQ(killed->ReadLine(seconds(20)), "first_call");
  killed->Signal(SIGKILL);
  ASSERT_TRUE(WaitFor([&] { return !InEtcd(killed_uuid); }, seconds(20)));
  ASSERT_EQ(stopped->ReadLine(seconds(20)), "first_call");
  stopped->Signal(SIGTERM);
  ASSERT_TRUE(WaitFor([&] { return !InEtcd(stopped_uuid); }, seconds(20)));
  auto started = StartServer(&new_uuid);
  ASSERT_FALSE(HasFailure());
  ASSERT_EQ(started->ReadLine(seconds(20)), "first_call");
  client.Signal(SIGTERM);  // It finishes the call under way, then sums up.

  EXPECT_EQ(client.Wait(seconds(60)), 0) << DescribeProcess(client);
  EXPECT_EQ(stopped->Wait(seconds(20)), 0) << DescribeProcess(*stopped);
  std::map<std::string, std::map<std::string, std::string>> lines;
  int ok = -1, failed = -1;
  for (const std::string& line : client.TakeLines()) {
    const auto fields = Fields(line);
    if (fields.count("ok")) {
      ok = Number(fields, "ok");
      failed = Number(fields, "failed");
    } else if (fields.count("server")) {
      lines["server " + fields.at("server")] = fields;
    } else if (fields.count("down")) {
      lines["down " + fields.at("down")] = fields;
    } else if (fields.count("failed")) {
      lines["failed " + fields.at("failed")] = fields;
    }
  }
  ASSERT_GT(ok, 0);
  // One call at a time: only the call in flight at the kill may fail, and
  // no call to another server.
  EXPECT_LE(failed, 1);
  for (const std::string& uuid : {stopped_uuid, kept_uuid, new_uuid}) {
    EXPECT_EQ(lines.count("failed " + uuid), 0u) << uuid;
  }
  RecordProperty("failed_calls", failed);
  // Every server answered, the new one too; but the killed one, which may
  // have died on its first call.
  for (const std::string& uuid : {stopped_uuid, kept_uuid, new_uuid}) {
    EXPECT_GT(Number(lines["server " + uuid], "calls"), 0) << uuid;
  }
  // Both that left were dropped, and got no call once dropped.
  for (const std::string& uuid : {killed_uuid, stopped_uuid}) {
    ASSERT_EQ(lines.count("down " + uuid), 1u) << uuid;
    EXPECT_EQ(Number(lines["down " + uuid], "calls_after"), 0) << uuid;
  }
  EXPECT_EQ(lines.count("down " + kept_uuid), 0u);
}

}  // namespace
}  // namespace etcdisc
