// etcdisc watch SERVICE --snapshot [--exec=CMD]: the whole host list at
// start and after every change.
#include <atomic>
#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "etcdisc/view.h"
#include "gflags/gflags.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "tools/shell.h"

DEFINE_bool(snapshot, false,
            "watch: print every host at start and after each change, one line "
            "each time (a JSON array with --json)");
DEFINE_string(exec, "",
              "watch: with --snapshot, run `/bin/sh -c CMD` after each change "
              "with the hosts as a JSON array on its stdin; never two at "
              "once, the last run always sees the latest hosts");

DECLARE_bool(json);
DECLARE_string(timeout);

namespace etcdisc::cli {
namespace {

std::string JsonArray(const HostSnapshot& hosts) {
  std::string out = "[";
  for (const Host& host : hosts.hosts()) {
    if (out.size() > 1) out += ",";
    out += ToJson(Redacted(host));
  }
  return out + "]";
}

void Print(const std::string& service, const HostSnapshot& hosts) {
  if (FLAGS_json) {
    std::printf("%s\n", JsonArray(hosts).c_str());
  } else {
    std::string list;
    for (const Host& host : hosts.hosts()) {
      absl::StrAppend(&list, "  ", host.name, " ",
                      absl::StrJoin(host.ports, ",", absl::PairFormatter("=")));
    }
    const std::string when =
        absl::FormatTime("%H:%M:%E3S", absl::Now(), absl::LocalTimeZone());
    std::printf("%s  %s  %zu host%s%s\n", when.c_str(), service.c_str(),
                hosts.size(), hosts.size() == 1 ? "" : "s", list.c_str());
  }
  std::fflush(stdout);
}

}  // namespace

int RunWatchSnapshot(Client& client, const std::string& service) {
  auto view = ServiceView::Open(client, service);
  if (!view.ok()) return Fail(view.status());
  // As a plain watch does: fail when etcd cannot be read to start.
  auto timeout = ParseDuration("timeout", FLAGS_timeout);
  if (!timeout.ok()) return Fail(timeout.status());
  if (absl::Status ready = (*view)->WaitReady(*timeout); !ready.ok()) {
    return Fail(ready);
  }
  auto changes = std::make_shared<std::atomic<uint64_t>>(0);
  (*view)->OnChange([changes](const HostSnapshot&) { ++*changes; });
  uint64_t handled = 0;
  // The view is in memory: looking every 50 ms costs nothing, and a signal
  // ends the wait at once.
  while (TakeTerminationSignal(std::chrono::milliseconds(50)) == 0) {
    if (!(*view)->status().ok()) return Fail((*view)->status());
    const uint64_t now = changes->load();
    if (now == handled) continue;
    // Changes that came while the last command ran are taken together: the
    // hosts read here are the latest.
    handled = now;
    const HostSnapshot hosts = (*view)->hosts();
    if (FLAGS_exec.empty()) {
      Print(service, hosts);
      continue;
    }
    auto ran = RunShell(FLAGS_exec, JsonArray(hosts) + "\n");
    if (!ran.ok()) return Fail(ran.status());
    // Asked to stop while the command ran: it was told too, and has ended.
    if (ran->forwarded_signal != 0) break;
    if (ran->status != 0) {
      std::fprintf(stderr, "etcdisc: --exec command exited %d\n", ran->status);
    }
  }
  return kOk;
}

}  // namespace etcdisc::cli
