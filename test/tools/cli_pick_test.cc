// etcdisc pick against a real etcd.
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "etcdisc/balancer.h"
#include "tools/cli_fixture.h"

namespace etcdisc {
namespace {

using ::etcdisc::testing::CliTest;
using ::etcdisc::testing::Contains;
using ::etcdisc::testing::ProcessResult;

// How many lines of `out` name each uuid.
std::map<std::string, int> UuidsPerLine(const std::string& out,
                                        const std::vector<std::string>& uuids) {
  std::map<std::string, int> counts;
  for (absl::string_view line : absl::StrSplit(out, '\n')) {
    for (const std::string& uuid : uuids) {
      if (line.find(uuid) != absl::string_view::npos) ++counts[uuid];
    }
  }
  return counts;
}

TEST_F(CliTest, PickTakesHostsInTurnAndKeysToTheLibrarysHost) {
  auto a = MustRegister("api", WebHost("10.0.0.1"));
  auto b = MustRegister("api", WebHost("10.0.0.2"));
  auto c = MustRegister("api", WebHost("10.0.0.3"));
  const std::vector<std::string> uuids = {a->UUID(), b->UUID(), c->UUID()};

  ProcessResult turns = Run({"pick", "api", "--count=6", "--json"});
  ASSERT_EQ(turns.exit_code, 0) << turns.err;
  EXPECT_EQ(UuidsPerLine(turns.out, uuids),
            (std::map<std::string, int>{{uuids[0], 2}, {uuids[1], 2}, {uuids[2], 2}}))
      << turns.out;

  // A key's host is the same in another process: this one's Balancer.
  BalancerOptions options;
  options.policy = BalancePolicy::kKeyHash;
  auto balancer = Balancer::Open(discovery(), "api", options);
  ASSERT_TRUE(balancer.ok()) << balancer.status();
  ASSERT_TRUE((*balancer)->WaitReady(std::chrono::seconds(10)).ok());
  for (const std::string key : {"user-1", "user-2", "user-3", "user-4"}) {
    ProcessResult owner = Run({"pick", "api", "--hash-key=" + key, "--count=3"});
    ASSERT_EQ(owner.exit_code, 0) << owner.err;
    auto picked = (*balancer)->Pick(key);
    ASSERT_TRUE(picked.ok());
    EXPECT_EQ(UuidsPerLine(owner.out, uuids),
              (std::map<std::string, int>{{picked->host().uuid, 3}}))
        << key << "\n" << owner.out;
  }
}

TEST_F(CliTest, PickRefusesBadFlagsAndSaysWhenThereIsNoHost) {
  ProcessResult none = Run({"pick", "nothing-here"});
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_TRUE(Contains(none.err, "nothing-here")) << none.err;
  ProcessResult policy = Run({"pick", "api", "--policy=fastest"});
  EXPECT_EQ(policy.exit_code, 2);
  EXPECT_TRUE(Contains(policy.err, "fastest")) << policy.err;
  ProcessResult count = Run({"pick", "api", "--count=0"});
  EXPECT_EQ(count.exit_code, 2);
  EXPECT_TRUE(Contains(count.err, "--count 0")) << count.err;
  EXPECT_EQ(Run({"pick"}).exit_code, 2);
}

}  // namespace
}  // namespace etcdisc
