// etcdisc pick SERVICE: the hosts a Balancer picks, as a program using it
// would get them; with --hash-key, the host that owns a key.
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "etcdisc/balancer.h"
#include "gflags/gflags.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "tools/table.h"

DEFINE_string(policy, "",
              "pick: round_robin, random, least_in_flight or key_hash "
              "(default: key_hash with --hash-key, else round_robin)");
DEFINE_string(hash_key, "", "pick: the key whose host to pick (key_hash)");
DEFINE_int32(count, 1, "pick: how many picks to make (1..1000000)");

DECLARE_bool(json);
DECLARE_string(shard);
DECLARE_string(timeout);

namespace etcdisc::cli {
namespace {

absl::StatusOr<BalancePolicy> PolicyFromFlags() {
  static const std::map<std::string, BalancePolicy> kPolicies = {
      {"round_robin", BalancePolicy::kRoundRobin},
      {"random", BalancePolicy::kRandom},
      {"least_in_flight", BalancePolicy::kLeastInFlight},
      {"key_hash", BalancePolicy::kKeyHash}};
  if (FLAGS_policy.empty()) {
    return FLAGS_hash_key.empty() ? BalancePolicy::kRoundRobin
                             : BalancePolicy::kKeyHash;
  }
  auto found = kPolicies.find(FLAGS_policy);
  if (found == kPolicies.end()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid --policy \"", FLAGS_policy,
        "\": round_robin, random, least_in_flight or key_hash"));
  }
  return found->second;
}

void Print(const std::vector<Host>& picks) {
  if (FLAGS_json) {
    for (const Host& h : picks) {
      std::printf("{\"uuid\":%s,\"hostname\":%s}\n", JsonString(h.uuid).c_str(),
                  JsonString(h.name).c_str());
    }
    return;
  }
  Table table({"UUID", "HOSTNAME", "SHARD"});
  for (const Host& h : picks) {
    table.AddRow({h.uuid, h.name, h.shard.empty() ? "-" : h.shard});
  }
  table.Print(stdout);
}

}  // namespace

int RunPick(const std::vector<std::string>& args) {
  if (args.size() != 2) return UsageError("pick takes one SERVICE");
  if (FLAGS_count < 1 || FLAGS_count > 1000000) {
    return UsageError(absl::StrCat("invalid --count ", FLAGS_count,
                                   ": from 1 to 1000000"));
  }
  auto policy = PolicyFromFlags();
  if (!policy.ok()) return Fail(policy.status());
  auto timeout = ParseDuration("timeout", FLAGS_timeout);
  if (!timeout.ok()) return Fail(timeout.status());
  auto client = ClientFromFlags();
  if (!client.ok()) return Fail(client.status());
  BalancerOptions options;
  options.policy = *policy;
  options.shard = FLAGS_shard;
  auto balancer = Balancer::Open(**client, args[1], options);
  if (!balancer.ok()) return Fail(balancer.status());
  if (absl::Status ready = (*balancer)->WaitReady(*timeout); !ready.ok()) {
    return Fail(ready);
  }
  std::vector<Host> picks;
  for (int i = 0; i < FLAGS_count; ++i) {
    auto picked = (*balancer)->Pick(FLAGS_hash_key);
    if (absl::IsUnavailable(picked.status())) {  // No host: as get says it.
      return Fail(absl::NotFoundError(picked.status().message()));
    }
    if (!picked.ok()) return Fail(picked.status());
    picks.push_back(picked->host());
  }
  Print(picks);
  return kOk;
}

}  // namespace etcdisc::cli
