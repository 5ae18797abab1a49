// etcdisc wait SERVICE...: returns once every service has a live host.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "etcdisc/view.h"
#include "gflags/gflags.h"
#include "tools/cli.h"
#include "tools/commands.h"

DECLARE_bool(json);
DECLARE_string(shard);
DECLARE_string(timeout);

namespace etcdisc::cli {
namespace {

constexpr auto kDefaultWait = std::chrono::seconds(30);
// The deadline of each call to etcd while waiting longer than that.
constexpr char kCallTimeout[] = "5s";
constexpr std::chrono::milliseconds kNoWait{0};

void PrintResolved(const ServiceView& view) {
  const size_t hosts = view.hosts().size();
  if (FLAGS_json) {
    std::printf("{\"service\":%s,\"hosts\":%zu}\n",
                JsonString(view.service()).c_str(), hosts);
  } else {
    std::printf("%s: %zu host%s\n", view.service().c_str(), hosts,
                hosts == 1 ? "" : "s");
  }
  std::fflush(stdout);
}

// How long to wait: --timeout when given, else 30 s. Each call to etcd keeps
// its own shorter deadline.
absl::StatusOr<std::chrono::milliseconds> WaitTime() {
  if (gflags::GetCommandLineFlagInfoOrDie("timeout").is_default) {
    return std::chrono::milliseconds(kDefaultWait);
  }
  auto wait = ParseDuration("timeout", FLAGS_timeout);
  if (wait.ok() && *wait > std::chrono::seconds(5)) FLAGS_timeout = kCallTimeout;
  return wait;
}

}  // namespace

int RunWait(const std::vector<std::string>& args) {
  if (args.size() < 2) return UsageError("wait takes one or more SERVICEs");
  auto wait = WaitTime();
  if (!wait.ok()) return Fail(wait.status());
  BlockTerminationSignals();
  auto client = ClientFromFlags();
  if (!client.ok()) return Fail(client.status());
  std::vector<std::unique_ptr<ServiceView>> pending;
  for (size_t i = 1; i < args.size(); ++i) {
    auto view = ServiceView::Open(**client, args[i], ViewOptions{FLAGS_shard});
    if (!view.ok()) return Fail(view.status());
    pending.push_back(*std::move(view));
  }
  const auto deadline = std::chrono::steady_clock::now() + *wait;
  while (!pending.empty()) {
    for (auto it = pending.begin(); it != pending.end();) {
      if (!(*it)->status().ok()) return Fail((*it)->status());
      if ((*it)->ready() && !(*it)->hosts().empty()) {
        PrintResolved(**it);
        it = pending.erase(it);
      } else {
        ++it;
      }
    }
    if (pending.empty()) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      // etcd could not be read at all: say why (exit 3), not "no host".
      for (const auto& view : pending) {
        if (!view->ready()) return Fail(view->WaitReady(kNoWait));
      }
      std::vector<std::string> names;
      for (const auto& view : pending) names.push_back(view->service());
      std::fprintf(stderr, "etcdisc: no live host after %s for: %s\n",
                   absl::FormatDuration(absl::FromChrono(*wait)).c_str(),
                   absl::StrJoin(names, ", ").c_str());
      return kNotFound;
    }
    // The views are in memory: looking again every 50 ms costs nothing.
    const int taken = TakeTerminationSignal(std::chrono::milliseconds(50));
    if (taken != 0) {
      std::fprintf(stderr, "etcdisc: interrupted while waiting\n");
      return 128 + taken;
    }
  }
  return kOk;
}

}  // namespace etcdisc::cli
