// etcdisc services: every service with its number of live hosts.
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gflags/gflags.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "tools/table.h"

DECLARE_bool(json);

namespace etcdisc::cli {

int RunServices(const std::vector<std::string>& args) {
  if (args.size() != 1) return UsageError("services takes no argument");
  auto client = ClientFromFlags();
  if (!client.ok()) return Fail(client.status());
  auto services = (*client)->ListServices();
  if (!services.ok()) return Fail(services.status());
  if (FLAGS_json) {
    std::vector<std::string> items;
    for (const ServiceSummary& s : *services) {
      items.push_back(absl::StrCat("{\"name\":", JsonString(s.name),
                                   ",\"hosts\":", s.hosts, ",\"critical\":",
                                   s.critical ? "true" : "false", "}"));
    }
    std::printf("[%s]\n", absl::StrJoin(items, ",").c_str());
    return kOk;
  }
  Table table({"SERVICE", "HOSTS", "CRITICAL"});
  for (const ServiceSummary& s : *services) {
    table.AddRow({s.name, absl::StrCat(s.hosts), s.critical ? "yes" : "no"});
  }
  table.Print(stdout);
  return kOk;
}

}  // namespace etcdisc::cli
