// etcdisc wait SERVICE...: returns once every service has a live host.
#include <cstdio>
#include <string>
#include <vector>

#include "gflags/gflags.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "tools/waiting.h"

DECLARE_string(shard);

namespace etcdisc::cli {

int RunWait(const std::vector<std::string>& args) {
  if (args.size() < 2) return UsageError("wait takes one or more SERVICEs");
  auto wait = WaitTimeFromFlags();
  if (!wait.ok()) return Fail(wait.status());
  BlockTerminationSignals();
  auto client = ClientFromFlags();
  if (!client.ok()) return Fail(client.status());
  const std::vector<std::string> services(args.begin() + 1, args.end());
  return WaitForHosts(**client, services, FLAGS_shard, *wait, stdout);
}

}  // namespace etcdisc::cli
