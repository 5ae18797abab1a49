#include "tools/waiting.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "etcdisc/view.h"
#include "gflags/gflags.h"
#include "tools/cli.h"
#include "views/one_revision.h"

DECLARE_bool(json);
DECLARE_string(timeout);

namespace etcdisc::cli {
namespace {

constexpr auto kDefaultWait = std::chrono::seconds(30);
// The deadline of each call to etcd while waiting longer than that.
constexpr char kCallTimeout[] = "5s";
constexpr std::chrono::milliseconds kCallTime{5000};
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

struct Waited {
  std::unique_ptr<ServiceView> view;
  bool printed = false;  // Its line was printed when it first had a host.
};
using Views = std::vector<Waited>;

bool HasHost(const ServiceView& view) {
  return view.ready() && !view.hosts().empty();
}

// Prints each service the first time it has a host; whether all have one
// now (a service whose hosts went away since is waited for again).
absl::StatusOr<bool> AllHaveHosts(Views* views, std::FILE* out) {
  bool all = true;
  for (Waited& waited : *views) {
    if (!waited.view->status().ok()) return waited.view->status();
    const bool has = HasHost(*waited.view);
    if (has && !waited.printed) {
      PrintResolved(*waited.view, out);
      waited.printed = true;
    }
    all = all && has;
  }
  return all;
}

std::vector<int64_t> Revisions(const Views& views) {
  std::vector<int64_t> revisions;
  for (const Waited& waited : views) {
    revisions.push_back(waited.view->hosts().revision());
  }
  return revisions;
}

// At the deadline: why etcd could not be read (exit 3) when it could not,
// else "no host" naming the missing (those of the last read at one revision
// when every view had a host).
int TimedOut(const Views& views, const internal::OneRevisionCheck& together,
             std::chrono::milliseconds wait) {
  for (const Waited& waited : views) {
    if (!waited.view->ready()) return Fail(waited.view->WaitReady(kNoWait));
  }
  std::vector<std::string> names;
  for (const Waited& waited : views) {
    if (!HasHost(*waited.view)) names.push_back(waited.view->service());
  }
  if (names.empty() && !together.last().ok()) {
    return Fail(together.last().status());
  }
  if (names.empty()) {
    for (const auto& shortfall : *together.last()) {
      names.push_back(shortfall.service);
    }
  }
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
  Views views;
  std::vector<internal::Wanted> wanted;
  for (const std::string& service : services) {
    auto view = ServiceView::Open(client, service, ViewOptions{shard});
    if (!view.ok()) return Fail(view.status());
    views.push_back(Waited{*std::move(view)});
    wanted.push_back({service, shard, 1});
  }
  internal::OneRevisionCheck together(std::move(wanted));
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (true) {
    std::vector<int64_t> revisions = Revisions(views);
    absl::StatusOr<bool> all = AllHaveHosts(&views, out);
    if (!all.ok()) return Fail(all.status());
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (*all && left.count() > 0) {
      // At most a call's time, so that a signal is not kept waiting long.
      auto done = together.Check(client, std::move(revisions),
                                 std::min(left, kCallTime));
      if (done && !done->ok()) return Fail(*done);
      if (done) return kOk;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return TimedOut(views, together, wait);
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
