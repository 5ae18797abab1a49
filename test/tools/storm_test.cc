// A storm of `etcdisc register --ttl=2s` processes started at once against
// one etcd: none may report its lease lost while etcd holds it, and no
// watcher may see a host go down and come back. ETCDISC_STORM_PROCESSES
// (default 100) and ETCDISC_STORM_SECONDS (default 10) size it;
// ETCDISC_STORM_CLI names another etcdisc binary to storm with (to compare
// builds).
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "support/discovery_test.h"
#include "support/process.h"
#include "support/text.h"
#include "support/wait.h"

namespace etcdisc {
namespace {

using ::etcdisc::testing::BackgroundProcess;
using ::etcdisc::testing::DiscoveryTest;
using ::etcdisc::testing::WaitFor;
using std::chrono::milliseconds;
using std::chrono::seconds;

int FromEnvironment(const char* name, int fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && std::atoi(value) > 0 ? std::atoi(value) : fallback;
}

using testing::Contains;

class StormTest : public DiscoveryTest {};

TEST_F(StormTest, RegistrarsStartedAtOnceNeitherLoseTheirLeaseNorFlap) {
  const int processes = FromEnvironment("ETCDISC_STORM_PROCESSES", 100);
  const int hold_seconds = FromEnvironment("ETCDISC_STORM_SECONDS", 10);
  const char* other_cli = std::getenv("ETCDISC_STORM_CLI");
  const std::string cli = other_cli != nullptr ? other_cli : ETCDISC_CLI_PATH;
  auto events = discovery().Subscribe("storm");
  ASSERT_TRUE(events.ok());

  std::vector<std::unique_ptr<BackgroundProcess>> registrars;
  for (int i = 0; i < processes; ++i) {
    const std::string host = "10.1." + std::to_string(i / 250) + "." +
                             std::to_string(i % 250);
    registrars.push_back(std::make_unique<BackgroundProcess>(
        std::vector<std::string>{cli, "register", "storm",
                                 "--hostname=" + host, "--ports=http=80",
                                 "--ttl=2s", "--json"},
        std::map<std::string, std::string>{
            {"ETCD_HOSTS", cluster().endpoints()}}));
  }
  int registered = 0, lost = 0, reregistered = 0, failed_attempts = 0;
  auto tally = [&](const std::string& line) {
    registered += Contains(line, "\"registered\"");
    lost += Contains(line, "\"lost\"");
    reregistered += Contains(line, "\"re-registered\"");
    failed_attempts += Contains(line, "\"attempt-failed\"");
  };
  for (auto& r : registrars) {
    for (const auto& line : r->TakeLines()) tally(line);
  }
  ASSERT_TRUE(WaitFor(
      [&] {
        for (auto& r : registrars) {
          for (const auto& line : r->TakeLines()) tally(line);
        }
        return registered == processes;
      },
      seconds(120)))
      << registered << " of " << processes << " registered";

  int news = 0, downs = 0;
  auto count_events = [&] {
    while (auto e = (*events)->TryPop()) {
      (e->kind == HostEvent::Kind::kNew ? news : downs) += 1;
    }
  };
  ASSERT_TRUE(WaitFor([&] { count_events(); return news >= processes; },
                      seconds(60)));
  // Several TTLs with every lease refreshed by its own process.
  const auto until = std::chrono::steady_clock::now() + seconds(hold_seconds);
  while (std::chrono::steady_clock::now() < until) {
    for (auto& r : registrars) {
      for (const auto& line : r->TakeLines()) tally(line);
    }
    count_events();
    std::this_thread::sleep_for(milliseconds(100));
  }
  auto hosts = discovery().Get("storm");
  ASSERT_TRUE(hosts.ok()) << hosts.status();
  const size_t in_etcd = hosts->All().ok() ? hosts->All()->size() : 0;
  std::printf("storm: %d processes, %d s: %d lost, %d re-registered, %d "
              "failed attempts, %d New and %d Down seen, %zu hosts in etcd\n",
              processes, hold_seconds, lost, reregistered, failed_attempts,
              news, downs, in_etcd);
  EXPECT_EQ(lost, 0);
  EXPECT_EQ(reregistered, 0);
  EXPECT_EQ(downs, 0);
  EXPECT_EQ(news, processes);
  EXPECT_EQ(in_etcd, static_cast<size_t>(processes));

  for (auto& r : registrars) r->Signal(SIGTERM);
  for (auto& r : registrars) EXPECT_EQ(r->Wait(seconds(30)), 0);
  EXPECT_TRUE(WaitFor(
      [&] {
        auto left = discovery().Get("storm");
        return left.ok() && !left->All().ok();
      },
      seconds(30)));
}

}  // namespace
}  // namespace etcdisc
