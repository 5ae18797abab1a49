#include "tools/waiting.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "etcdisc/view.h"
#include "gflags/gflags.h"
#include "tools/cli.h"

DECLARE_bool(json);
DECLARE_string(timeout);

namespace etcdisc::cli {
namespace {

constexpr auto kDefaultWait = std::chrono::seconds(30);
// The deadline of each call to etcd while waiting longer than that.
constexpr char kCallTimeout[] = "5s";
constexpr std::chrono::milliseconds kNoWait{0};

void PrintResolved(const ServiceView& view, std::FILE* out) {
  const size_t hosts = view.hosts().size();
  if (FLAGS_json) {
    std::fprintf(out, "{\"service\":%s,\"hosts\":%zu}\n",
                 JsonString(view.service()).c_str(), hosts);
  } else {
    std::fprintf(out, "%s: %zu host%s\n", view.service().c_str(), hosts,
                 hosts == 1 ? "" : "s");
  }
  std::fflush(out);
}

using Views = std::vector<std::unique_ptr<ServiceView>>;

// Prints and drops the views that have a host; the first error of a view.
absl::Status TakeResolved(Views* pending, std::FILE* out) {
  for (auto it = pending->begin(); it != pending->end();) {
    if (!(*it)->status().ok()) return (*it)->status();
    if ((*it)->ready() && !(*it)->hosts().empty()) {
      PrintResolved(**it, out);
      it = pending->erase(it);
    } else {
      ++it;
    }
  }
  return absl::OkStatus();
}

// At the deadline: why etcd could not be read (exit 3) when it could not,
// else "no host" naming the missing.
int TimedOut(const Views& pending, std::chrono::milliseconds wait) {
  for (const auto& view : pending) {
    if (!view->ready()) return Fail(view->WaitReady(kNoWait));
  }
  std::vector<std::string> names;
  for (const auto& view : pending) names.push_back(view->service());
  std::fprintf(stderr, "etcdisc: no live host after %s for: %s\n",
               absl::FormatDuration(absl::FromChrono(wait)).c_str(),
               absl::StrJoin(names, ", ").c_str());
  return kNotFound;
}

}  // namespace

absl::StatusOr<std::chrono::milliseconds> WaitTimeFromFlags() {
  if (gflags::GetCommandLineFlagInfoOrDie("timeout").is_default) {
    return std::chrono::milliseconds(kDefaultWait);
  }
  auto wait = ParseDuration("timeout", FLAGS_timeout);
  if (wait.ok() && *wait > std::chrono::seconds(5)) FLAGS_timeout = kCallTimeout;
  return wait;
}

int WaitForHosts(Client& client, const std::vector<std::string>& services,
                 const std::string& shard, std::chrono::milliseconds wait,
                 std::FILE* out) {
  Views pending;
  for (const std::string& service : services) {
    auto view = ServiceView::Open(client, service, ViewOptions{shard});
    if (!view.ok()) return Fail(view.status());
    pending.push_back(*std::move(view));
  }
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (true) {
    absl::Status failed = TakeResolved(&pending, out);
    if (!failed.ok()) return Fail(failed);
    if (pending.empty()) return kOk;
    if (std::chrono::steady_clock::now() >= deadline) {
      return TimedOut(pending, wait);
    }
    // The views are in memory: looking again every 50 ms costs nothing.
    const int taken = TakeTerminationSignal(std::chrono::milliseconds(50));
    if (taken != 0) {
      std::fprintf(stderr, "etcdisc: interrupted while waiting\n");
      return 128 + taken;
    }
  }
}

}  // namespace etcdisc::cli
