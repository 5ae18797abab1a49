// BalancerCore's policies and skipping, driven by hand: tables given by
// Update, time by a clock of the test's own.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <new>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "balancing/balancer_core.h"
#include "gtest/gtest.h"

// Every allocation of this test binary is counted, per thread, except under
// AddressSanitizer, whose own operator new stays. (GCC cannot tell that
// these deletes free what these news allocated.)
namespace {
thread_local int64_t allocations = 0;
}  // namespace
#ifndef __SANITIZE_ADDRESS__
#define ETCDISC_COUNTS_ALLOCATIONS 1
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

void* operator new(size_t size) {
  ++allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new(size_t size, const std::nothrow_t&) noexcept {
  ++allocations;
  return std::malloc(size == 0 ? 1 : size);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
#endif

namespace etcdisc::internal {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

HostSnapshot Hosts(const std::vector<std::string>& uuids,
                   const std::string& shard = "") {
  auto hosts = std::make_shared<std::vector<Host>>();
  for (const std::string& uuid : uuids) {
    Host host;
    host.uuid = uuid;
    host.name = uuid + ".example";
    host.service_name = "api";
    host.shard = shard;
    hosts->push_back(host);
  }
  return HostSnapshot(std::move(hosts), 1);
}

std::vector<std::string> Names(const std::string& prefix, int n) {
  std::vector<std::string> names;
  for (int i = 0; i < n; ++i) names.push_back(prefix + std::to_string(i));
  return names;
}

// A clock the test moves.
struct TestClock {
  Clock::time_point now = Clock::time_point(std::chrono::hours(1));
  SteadyNow Fn() {
    return [this] { return now; };
  }
};

BalancerOptions Policy(BalancePolicy policy) {
  BalancerOptions options;
  options.policy = policy;
  return options;
}

std::string PickUuid(const BalancerCore& core, absl::string_view key = "") {
  auto picked = core.Pick(key);
  EXPECT_TRUE(picked.ok()) << picked.status();
  return picked.ok() ? picked->host().uuid : "";
}

std::map<std::string, int> Count(const BalancerCore& core, int picks) {
  std::map<std::string, int> counts;
  for (int i = 0; i < picks; ++i) ++counts[PickUuid(core)];
  return counts;
}

TEST(BalancerCoreTest, NoHostIsUnavailableNamingTheServiceAndShard) {
  BalancerOptions options;
  options.shard = "eu";
  BalancerCore core("api", options);
  auto picked = core.Pick("");
  ASSERT_EQ(picked.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(picked.status().message().find("\"api\""), absl::string_view::npos);
  EXPECT_NE(picked.status().message().find("\"eu\""), absl::string_view::npos);
  core.Update(Hosts({"a"}));
  EXPECT_EQ(PickUuid(core), "a");
  core.Update(Hosts({}));
  EXPECT_FALSE(core.Pick("").ok());
}

TEST(BalancerCoreTest, RoundRobinTakesEveryHostInTurn) {
  BalancerCore core("api", Policy(BalancePolicy::kRoundRobin));
  core.Update(Hosts({"a", "b", "c"}));
  std::vector<std::string> order;
  for (int i = 0; i < 6; ++i) order.push_back(PickUuid(core));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(order[i], order[i + 3]);
  EXPECT_EQ(Count(core, 300), (std::map<std::string, int>{
                                  {"a", 100}, {"b", 100}, {"c", 100}}));
}

TEST(BalancerCoreTest, RandomReachesEveryHost) {
  BalancerCore core("api", Policy(BalancePolicy::kRandom));
  core.Update(Hosts({"a", "b", "c"}));
  // 3,000 picks: each host within 800..1200 fails about once in 10^9 runs.
  for (const auto& [uuid, n] : Count(core, 3000)) {
    EXPECT_GT(n, 800) << uuid;
    EXPECT_LT(n, 1200) << uuid;
  }
}

// How many of `held` went to `uuid`.
int HeldBy(const std::vector<PickedHost>& held, const std::string& uuid) {
  int n = 0;
  for (const PickedHost& p : held) n += p.host().uuid == uuid;
  return n;
}

TEST(BalancerCoreTest, LeastInFlightAvoidsTheBusyHostAndKeepsCountsAcrossUpdates) {
  BalancerCore core("api", Policy(BalancePolicy::kLeastInFlight));
  core.Update(Hosts({"x"}));
  std::vector<PickedHost> x_calls;
  for (int i = 0; i < 20; ++i) x_calls.push_back(*core.Pick(""));
  // x keeps its 20 calls in flight across the change that adds y.
  core.Update(Hosts({"x", "y"}));
  std::vector<PickedHost> y_calls;
  for (int i = 0; i < 19; ++i) y_calls.push_back(*core.Pick(""));
  EXPECT_EQ(HeldBy(y_calls, "y"), 19);
  // x's calls end but one, moved elsewhere (it still counts): x has 1 in
  // flight, y 19, so the next 17 calls go to x.
  PickedHost moved = std::move(x_calls.front());
  x_calls.clear();
  EXPECT_EQ(moved.host().uuid, "x");
  std::vector<PickedHost> next;
  for (int i = 0; i < 17; ++i) next.push_back(*core.Pick(""));
  EXPECT_EQ(HeldBy(next, "x"), 17);
}

TEST(BalancerCoreTest, LeastInFlightOfTwoStaysBalanced) {
  BalancerCore core("api", Policy(BalancePolicy::kLeastInFlight));
  core.Update(Hosts({"a", "b"}));
  std::vector<PickedHost> held;
  std::map<std::string, int> counts;
  for (int i = 0; i < 101; ++i) {
    held.push_back(*core.Pick(""));
    ++counts[held.back().host().uuid];
  }
  EXPECT_LE(std::abs(counts["a"] - counts["b"]), 1);
}

TEST(BalancerCoreTest, AKeyAlwaysGoesToTheSameHost) {
  BalancerCore core("api", Policy(BalancePolicy::kKeyHash));
  core.Update(Hosts(Names("h", 5)));
  std::map<std::string, int> per_host;
  for (int k = 0; k < 1000; ++k) {
    const std::string key = "user-" + std::to_string(k);
    const std::string uuid = PickUuid(core, key);
    EXPECT_EQ(PickUuid(core, key), uuid);
    ++per_host[uuid];
  }
  EXPECT_EQ(per_host.size(), 5u);
  for (const auto& [uuid, n] : per_host) EXPECT_GT(n, 100) << uuid;
}

// Which host each of `keys` goes to.
std::map<std::string, std::string> Placement(const BalancerCore& core,
                                             const std::vector<std::string>& keys) {
  std::map<std::string, std::string> placement;
  for (const std::string& key : keys) placement[key] = PickUuid(core, key);
  return placement;
}

TEST(BalancerCoreTest, AHostJoiningOrLeavingMovesOnlyItsShareOfKeys) {
  BalancerCore core("api", Policy(BalancePolicy::kKeyHash));
  const std::vector<std::string> keys = Names("key-", 10000);
  std::vector<std::string> hosts = Names("host-", 10);
  core.Update(Hosts(hosts));
  const auto before = Placement(core, keys);

  hosts.push_back("host-new");
  core.Update(Hosts(hosts));
  const auto joined = Placement(core, keys);
  int moved = 0;
  for (const std::string& key : keys) {
    if (joined.at(key) == before.at(key)) continue;
    ++moved;
    EXPECT_EQ(joined.at(key), "host-new") << key;  // Only to the new host.
  }
  // About 1/11 of the keys (909); the hash is fixed, so this is too.
  EXPECT_GT(moved, 700);
  EXPECT_LT(moved, 1100);

  // host-3 leaves: only its keys move, and the others stay.
  hosts.erase(hosts.begin() + 3);
  core.Update(Hosts(hosts));
  const auto left = Placement(core, keys);
  for (const std::string& key : keys) {
    if (joined.at(key) != "host-3") {
      EXPECT_EQ(left.at(key), joined.at(key)) << key;
    }
    EXPECT_NE(left.at(key), "host-3");
  }
}

TEST(BalancerCoreTest, AHostThatLeavesIsNeverPickedButAHeldPickStaysValid) {
  for (BalancePolicy policy :
       {BalancePolicy::kRandom, BalancePolicy::kRoundRobin,
        BalancePolicy::kLeastInFlight, BalancePolicy::kKeyHash}) {
    BalancerCore core("api", Policy(policy));
    core.Update(Hosts({"a", "b", "c"}));
    std::vector<PickedHost> held;
    for (int i = 0; i < 30; ++i) held.push_back(*core.Pick(std::to_string(i)));
    core.Update(Hosts({"a", "c"}));
    for (int i = 0; i < 300; ++i) {
      EXPECT_NE(PickUuid(core, std::to_string(i)), "b");
    }
    // The held picks still report (no use after free under ASan); what
    // they say of b, gone, touches no host that stayed.
    for (PickedHost& p : held) {
      if (p.host().uuid != "b") continue;
      for (int i = 0; i < 5; ++i) p.Failed();
    }
    held.clear();  // No call in flight now: least in flight takes both.
    std::set<std::string> picked;
    for (int i = 0; i < 1000; ++i) picked.insert(PickUuid(core, std::to_string(i)));
    EXPECT_EQ(picked, (std::set<std::string>{"a", "c"})) << static_cast<int>(policy);
  }
}

BalancerOptions Skipping(BalancePolicy policy) {
  BalancerOptions options = Policy(policy);
  options.ejection.failures = 3;
  options.ejection.window = milliseconds(1000);
  options.ejection.backoff = milliseconds(500);
  options.ejection.max_backoff = milliseconds(1500);
  return options;
}

void Fail(const BalancerCore& core, const std::string& uuid, int times) {
  for (int i = 0; i < times; ++i) core.Report(uuid, false);
}

TEST(BalancerCoreTest, AFailingHostIsSkippedForAGrowingBackoff) {
  TestClock clock;
  BalancerCore core("api", Skipping(BalancePolicy::kRoundRobin), clock.Fn());
  core.Update(Hosts({"a", "b", "c"}));
  Fail(core, "unknown", 10);  // Ignored: no host is skipped for it.
  EXPECT_EQ(Count(core, 30),
            (std::map<std::string, int>{{"a", 10}, {"b", 10}, {"c", 10}}));
  Fail(core, "b", 2);
  EXPECT_EQ(Count(core, 30)["b"], 10);  // Two failures: not yet.
  Fail(core, "b", 1);
  EXPECT_EQ(Count(core, 30), (std::map<std::string, int>{{"a", 15}, {"c", 15}}));
  clock.now += milliseconds(499);
  EXPECT_EQ(Count(core, 30).count("b"), 0u);
  clock.now += milliseconds(1);  // The first back-off, 500 ms, is over.
  EXPECT_EQ(Count(core, 30)["b"], 10);
  // Skipped again with no success between: twice as long.
  Fail(core, "b", 3);
  clock.now += milliseconds(999);
  EXPECT_EQ(Count(core, 30).count("b"), 0u);
  clock.now += milliseconds(1);
  EXPECT_EQ(Count(core, 30)["b"], 10);
  // And again: 2,000 ms capped at max_backoff, 1,500.
  Fail(core, "b", 3);
  clock.now += milliseconds(1499);
  EXPECT_EQ(Count(core, 30).count("b"), 0u);
  clock.now += milliseconds(1);
  EXPECT_EQ(Count(core, 30)["b"], 10);
  // A success ends the streak: the next skip is 500 ms again.
  core.Report("b", true);
  Fail(core, "b", 3);
  clock.now += milliseconds(499);
  EXPECT_EQ(Count(core, 30).count("b"), 0u);
  clock.now += milliseconds(1);
  EXPECT_EQ(Count(core, 30)["b"], 10);
}

TEST(BalancerCoreTest, ASuccessOfTheLeastBadEndsItsSkip) {
  TestClock clock;
  BalancerCore core("api", Skipping(BalancePolicy::kRoundRobin), clock.Fn());
  core.Update(Hosts({"a", "b"}));
  Fail(core, "a", 3);
  clock.now += milliseconds(1);
  Fail(core, "b", 3);  // Both skipped for 500 ms; a's ends first.
  auto picked = core.Pick("");
  ASSERT_TRUE(picked.ok());
  EXPECT_EQ(picked->host().uuid, "a");
  // A success reported by uuid cannot tell when its call was picked.
  core.Report("a", true);
  EXPECT_EQ(Count(core, 4), (std::map<std::string, int>{{"a", 4}}));
  picked->Succeeded();  // Picked while skipped: a answers again.
  EXPECT_EQ(Count(core, 4), (std::map<std::string, int>{{"a", 4}}));
  Fail(core, "a", 3);  // The streak was ended too: 500 ms, not 1,000.
  clock.now += milliseconds(500);  // b's skip is over too.
  EXPECT_EQ(Count(core, 4)["a"], 2);
}

TEST(BalancerCoreTest, FailuresFurtherApartThanTheWindowDoNotSkip) {
  TestClock clock;
  BalancerCore core("api", Skipping(BalancePolicy::kRoundRobin), clock.Fn());
  core.Update(Hosts({"a", "b"}));
  for (int i = 0; i < 10; ++i) {
    Fail(core, "b", 2);
    clock.now += milliseconds(1001);
  }
  EXPECT_EQ(Count(core, 20)["b"], 10);
  // A success clears the failures counted so far.
  Fail(core, "b", 2);
  core.Report("b", true);
  Fail(core, "b", 2);
  EXPECT_EQ(Count(core, 20)["b"], 10);
}

TEST(BalancerCoreTest, FailuresOfCallsOfAPickedHostCount) {
  TestClock clock;
  BalancerCore core("api", Skipping(BalancePolicy::kKeyHash), clock.Fn());
  core.Update(Hosts(Names("h", 4)));
  auto picked = core.Pick("k");
  ASSERT_TRUE(picked.ok());
  const std::string uuid = picked->host().uuid;
  for (int i = 0; i < 3; ++i) picked->Failed();
  // The key goes to another host while its own is skipped, then back.
  EXPECT_NE(PickUuid(core, "k"), uuid);
  clock.now += milliseconds(500);
  EXPECT_EQ(PickUuid(core, "k"), uuid);
}

TEST(BalancerCoreTest, WhenEveryHostIsSkippedTheLeastBadIsPicked) {
  for (BalancePolicy policy :
       {BalancePolicy::kRandom, BalancePolicy::kRoundRobin,
        BalancePolicy::kLeastInFlight, BalancePolicy::kKeyHash}) {
    TestClock clock;
    BalancerCore core("api", Skipping(policy), clock.Fn());
    core.Update(Hosts({"a", "b", "c"}));
    Fail(core, "a", 3);
    clock.now += milliseconds(100);
    Fail(core, "c", 3);
    clock.now += milliseconds(100);
    Fail(core, "b", 3);  // Skipped until 500, 600 and 700 ms from the start.
    EXPECT_EQ(Count(core, 20), (std::map<std::string, int>{{"a", 20}}));
  }
}

TEST(BalancerCoreTest, ZeroFailuresNeverSkips) {
  TestClock clock;
  BalancerOptions options = Policy(BalancePolicy::kRoundRobin);
  options.ejection.failures = 0;
  BalancerCore core("api", options, clock.Fn());
  core.Update(Hosts({"a", "b"}));
  Fail(core, "a", 100);
  EXPECT_EQ(Count(core, 10)["a"], 5);
}

TEST(BalancerCoreTest, ALateSuccessDoesNotEndASkipThatBeganAfterItsPick) {
  TestClock clock;
  BalancerCore core("api", Skipping(BalancePolicy::kRoundRobin), clock.Fn());
  core.Update(Hosts({"a", "b"}));
  Fail(core, "a", 3);
  clock.now += milliseconds(1);
  Fail(core, "b", 3);  // Both skipped; a's skip ends first.
  auto slow = core.Pick("");  // a, the least bad: a slow call begins.
  ASSERT_TRUE(slow.ok());
  ASSERT_EQ(slow->host().uuid, "a");
  clock.now += milliseconds(500);  // Both skips are over.
  Fail(core, "a", 3);              // a is skipped again, for 1,000 ms.
  slow->Succeeded();  // Picked in the earlier skip: the new one stays.
  EXPECT_EQ(Count(core, 4), (std::map<std::string, int>{{"b", 4}}));
  clock.now += milliseconds(1000);
  EXPECT_EQ(Count(core, 4)["a"], 2);
}

TEST(BalancerCoreTest, FailuresWhileSkippedDoNotCountTowardTheNextSkip) {
  TestClock clock;
  BalancerCore core("api", Skipping(BalancePolicy::kRoundRobin), clock.Fn());
  core.Update(Hosts({"a", "b"}));
  Fail(core, "a", 3);  // Skipped for 500 ms.
  Fail(core, "a", 2);  // Calls that were in flight: not counted.
  clock.now += milliseconds(500);
  Fail(core, "a", 1);  // One failure of three in the window.
  EXPECT_EQ(Count(core, 4)["a"], 2);
  Fail(core, "a", 2);  // Three: skipped.
  EXPECT_EQ(Count(core, 4)["a"], 0);
}

TEST(BalancerCoreTest, BadOptionsAreRefusedNamingTheValue) {
  struct Case {
    void (*change)(BalancerOptions*);
    const char* named;
  };
  for (const Case& c : std::vector<Case>{
           {[](BalancerOptions* o) { o->ejection.failures = -1; }, "failures -1"},
           {[](BalancerOptions* o) { o->ejection.window = milliseconds(0); },
            "window 0ms"},
           {[](BalancerOptions* o) { o->ejection.backoff = milliseconds(-5); },
            "backoff -5ms"},
           {[](BalancerOptions* o) { o->ejection.max_backoff = milliseconds(10); },
            "max_backoff 10ms"},
           {[](BalancerOptions* o) { o->policy = static_cast<BalancePolicy>(9); },
            "policy 9"}}) {
    BalancerOptions options;
    c.change(&options);
    const absl::Status status = ValidateBalancerOptions(options);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.named;
    EXPECT_NE(status.message().find(c.named), absl::string_view::npos)
        << status.message();
  }
  EXPECT_TRUE(ValidateBalancerOptions(BalancerOptions{}).ok());
  BalancerOptions off;
  off.ejection = {0, milliseconds(0), milliseconds(0), milliseconds(0)};
  EXPECT_TRUE(ValidateBalancerOptions(off).ok());  // Never skips: no times.
}

// A host's reachability as a test sets it, kept with its endpoint.
struct Reach {
  std::atomic<bool> up{true};
};
bool ReachableOf(const void* attachment) {
  return static_cast<const Reach*>(attachment)->up.load();
}

TEST(BalancerCoreTest, AnUnreachableHostIsPickedOnlyWhenNoneIsReachable) {
  TestClock clock;
  std::map<std::string, std::shared_ptr<Reach>> reach;
  BalancerCore core(
      "api", Skipping(BalancePolicy::kRoundRobin), clock.Fn(),
      [&](const Host& host) -> std::shared_ptr<const void> {
        if (host.uuid == "no-port") return nullptr;  // Left out.
        return reach[host.uuid] = std::make_shared<Reach>();
      },
      &ReachableOf);
  core.Update(Hosts({"a", "b", "c", "no-port"}));
  EXPECT_EQ(core.hosts().size(), 3u);
  EXPECT_EQ(Count(core, 30).count("no-port"), 0u);
  reach["b"]->up = false;
  EXPECT_EQ(Count(core, 30), (std::map<std::string, int>{{"a", 15}, {"c", 15}}));
  // Unchanged records keep their attachment across an update.
  core.Update(Hosts({"a", "b", "c", "no-port"}));
  EXPECT_EQ(Count(core, 30).count("b"), 0u);
  // a and c unreachable too: of the reachable... none; a skipped (but
  // reachable) host beats an unreachable one.
  Fail(core, "b", 3);
  reach["b"]->up = true;
  reach["a"]->up = false;
  reach["c"]->up = false;
  EXPECT_EQ(Count(core, 10), (std::map<std::string, int>{{"b", 10}}));
  // None reachable: never the skipped one; the others share the calls.
  reach["b"]->up = false;
  auto counts = Count(core, 10);
  EXPECT_EQ(counts.count("b"), 0u);
  EXPECT_GT(counts["a"], 0);
  EXPECT_GT(counts["c"], 0);
  reach["c"]->up = true;
  EXPECT_EQ(Count(core, 10), (std::map<std::string, int>{{"c", 10}}));
}

TEST(BalancerCoreTest, AHostLeftOutIsAskedAboutOncePerRecord) {
  TestClock clock;
  std::map<std::string, int> asked;
  BalancerCore core("api", Policy(BalancePolicy::kRoundRobin), clock.Fn(),
                    [&](const Host& host) -> std::shared_ptr<const void> {
                      ++asked[host.uuid];
                      if (host.name == "no-port.example") return nullptr;
                      return std::make_shared<int>(0);
                    });
  // Renamed so that Attach declines it, or takes it again.
  const auto with_name = [](HostSnapshot hosts, const std::string& uuid,
                            const std::string& name) {
    auto changed = std::make_shared<std::vector<Host>>(hosts.hosts());
    for (Host& host : *changed) {
      if (host.uuid == uuid) host.name = name;
    }
    return HostSnapshot(changed, hosts.revision() + 1);
  };
  core.Update(Hosts({"a", "no-port"}));
  core.Update(Hosts({"a", "b", "no-port"}));
  core.Update(Hosts({"b", "no-port"}));
  EXPECT_EQ(asked, (std::map<std::string, int>{{"a", 1}, {"b", 1}, {"no-port", 1}}));
  EXPECT_EQ(core.hosts().size(), 1u);
  // A changed record is asked about again, and enters when it is taken.
  const HostSnapshot both = with_name(Hosts({"b", "no-port"}), "no-port", "has-port.example");
  core.Update(both);
  EXPECT_EQ(asked["no-port"], 2);
  EXPECT_EQ(Count(core, 4), (std::map<std::string, int>{{"b", 2}, {"no-port", 2}}));
  // A taken host whose record loses its port: asked once, then left out.
  const HostSnapshot b_portless = with_name(both, "b", "no-port.example");
  core.Update(b_portless);
  core.Update(b_portless);
  EXPECT_EQ(asked["b"], 2);
  EXPECT_EQ(Count(core, 2), (std::map<std::string, int>{{"no-port", 2}}));
  // A host left out that goes, then comes back: asked again.
  core.Update(with_name(Hosts({"no-port"}), "no-port", "has-port.example"));
  core.Update(b_portless);
  EXPECT_EQ(asked["b"], 3);
  EXPECT_EQ(asked["no-port"], 2);
}

TEST(BalancerCoreTest, APickAllocatesNothingInTheSteadyState) {
#ifndef ETCDISC_COUNTS_ALLOCATIONS
  GTEST_SKIP() << "allocations are not counted under AddressSanitizer";
#endif
  for (BalancePolicy policy :
       {BalancePolicy::kRandom, BalancePolicy::kRoundRobin,
        BalancePolicy::kLeastInFlight, BalancePolicy::kKeyHash}) {
    BalancerCore core("api", Policy(policy));
    core.Update(Hosts(Names("h", 10)));
    int per_host[10] = {};  // Picks of h0..h9.
    { auto first = core.Pick("key"); }  // This thread's copy of the table.
    const int64_t before = allocations;
    for (int i = 0; i < 1000; ++i) {
      auto picked = core.Pick("key");
      ++per_host[picked->host().uuid[1] - '0'];
    }
    EXPECT_EQ(allocations - before, 0) << static_cast<int>(policy);
    const int most = *std::max_element(per_host, per_host + 10);
    // Round robin takes each in turn; the key keeps its one host.
    if (policy == BalancePolicy::kRoundRobin) {
      EXPECT_EQ(most, 100);
    } else if (policy == BalancePolicy::kKeyHash) {
      EXPECT_EQ(most, 1000);
    }
    // A change: the next pick copies the new table's pointer, then none.
    core.Update(Hosts(Names("h", 3)));
    { auto first = core.Pick("key"); }
    const int64_t after_change = allocations;
    for (int i = 0; i < 100; ++i) static_cast<void>(core.Pick("key"));
    EXPECT_EQ(allocations - after_change, 0);
  }
}

TEST(BalancerCoreTest, NoPickReturnsAHostThatAnUpdateBeforeItRemoved) {
  // Update i keeps hosts i and i+1 (named by number): once update i is done,
  // no pick that starts after it may return a host below i.
  BalancerCore core("api", Policy(BalancePolicy::kRoundRobin));
  core.Update(Hosts({"0", "1"}));
  std::atomic<int> done{0};  // The last update finished.
  std::atomic<bool> stop{false};
  std::atomic<int> stale{0}, picks{0};
  std::vector<std::thread> pickers;
  for (int t = 0; t < 4; ++t) {
    pickers.emplace_back([&] {
      while (!stop.load()) {
        const int floor = done.load();
        auto picked = core.Pick("");
        if (!picked.ok() || std::stoi(picked->host().uuid) < floor) ++stale;
        ++picks;
      }
    });
  }
  // Every 10 updates, the pickers pick 20 more times before the next: the
  // picks are spread among the updates, not all after them.
  const auto until = Clock::now() + std::chrono::seconds(30);
  for (int i = 1; i <= 2000; ++i) {
    core.Update(Hosts({std::to_string(i), std::to_string(i + 1)}));
    done.store(i);
    if (i % 10 != 0) continue;
    const int target = picks.load() + 20;
    while (picks.load() < target && Clock::now() < until) {
      std::this_thread::yield();
    }
  }
  stop = true;
  for (std::thread& t : pickers) t.join();
  EXPECT_GE(picks.load(), 4000);
  EXPECT_EQ(stale.load(), 0);
}

TEST(BalancerCoreTest, AThreadPickingFromManyBalancersSeesEachOnesHosts) {
  // More balancers than a thread keeps copies of: each still answers with
  // its own hosts, before and after a change.
  std::vector<std::unique_ptr<BalancerCore>> cores;
  for (int i = 0; i < 7; ++i) {
    cores.push_back(std::make_unique<BalancerCore>("api", BalancerOptions{}));
    cores.back()->Update(Hosts({"b" + std::to_string(i)}));
  }
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 7; ++i) {
      EXPECT_EQ(PickUuid(*cores[i]), "b" + std::to_string(i));
    }
  }
  cores[3]->Update(Hosts({"changed"}));
  for (int i = 0; i < 7; ++i) {
    EXPECT_EQ(PickUuid(*cores[i]), i == 3 ? "changed" : "b" + std::to_string(i));
  }
}

}  // namespace
}  // namespace etcdisc::internal
