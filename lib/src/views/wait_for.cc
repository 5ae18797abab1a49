// WaitFor: a view per service, and a wait until all have enough hosts at
// one moment.
#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "etcdisc/view.h"
#include "views/change_counter.h"
#include "views/one_revision.h"

namespace etcdisc {
namespace {

using Views = std::vector<std::unique_ptr<ServiceView>>;
using Clock = std::chrono::steady_clock;

// "db (1 of 2 hosts)" for each view short of `min_hosts`, "db (not read
// yet)" for one not read.
std::vector<std::string> Missing(const std::vector<HostSnapshot>& snapshots,
                                 const Views& views, int min_hosts) {
  std::vector<std::string> missing;
  for (size_t i = 0; i < views.size(); ++i) {
    const size_t have = snapshots[i].size();
    if (!views[i]->ready()) {
      missing.push_back(absl::StrCat(views[i]->service(), " (not read yet)"));
    } else if (have < static_cast<size_t>(min_hosts)) {
      missing.push_back(internal::Describe({views[i]->service(), have, min_hosts}));
    }
  }
  return missing;
}

std::vector<HostSnapshot> Snapshots(const Views& views) {
  std::vector<HostSnapshot> snapshots;
  for (const auto& view : views) snapshots.push_back(view->hosts());
  return snapshots;
}

std::vector<int64_t> Revisions(const std::vector<HostSnapshot>& snapshots) {
  std::vector<int64_t> revisions;
  for (const HostSnapshot& snapshot : snapshots) {
    revisions.push_back(snapshot.revision());
  }
  return revisions;
}

std::chrono::milliseconds Left(Clock::time_point deadline) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                               Clock::now());
}

// Why WaitFor gave up: the services missing at the last look or, when every
// view had its hosts then, at the last read at one revision.
absl::Status TimedOut(std::chrono::milliseconds timeout,
                      const std::vector<std::string>& missing,
                      const internal::OneRevisionCheck& together) {
  const std::string waited = absl::StrCat(
      "waited ", absl::FormatDuration(absl::FromChrono(timeout)));
  if (!missing.empty()) {
    return absl::DeadlineExceededError(absl::StrCat(
        waited, " for services still missing: ", absl::StrJoin(missing, ", ")));
  }
  if (!together.last().ok()) {
    return absl::DeadlineExceededError(absl::StrCat(
        waited, ": reading every service at one revision failed: ",
        together.last().status().message()));
  }
  std::vector<std::string> short_of;
  for (const auto& shortfall : *together.last()) {
    short_of.push_back(internal::Describe(shortfall));
  }
  return absl::DeadlineExceededError(absl::StrCat(
      waited, " for services still missing at one revision: ",
      short_of.empty() ? "(not read yet)" : absl::StrJoin(short_of, ", ")));
}

}  // namespace

absl::Status WaitFor(Client& client, const std::vector<std::string>& services,
                     std::chrono::milliseconds timeout,
                     WaitForOptions options) {
  if (options.min_hosts < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid WaitForOptions::min_hosts = ", options.min_hosts,
        ": must be 1 or more"));
  }
  const auto deadline = Clock::now() + timeout;
  auto changes = std::make_shared<internal::ChangeCounter>();
  Views views;
  std::vector<internal::Wanted> wanted;
  for (const std::string& service : services) {
    auto view = ServiceView::Open(client, service, ViewOptions{options.shard});
    if (!view.ok()) return view.status();
    (*view)->OnChange([changes](const HostSnapshot&) { changes->Bump(); });
    views.push_back(*std::move(view));
    wanted.push_back({service, options.shard, options.min_hosts});
  }
  internal::OneRevisionCheck together(std::move(wanted));
  std::vector<std::string> missing;  // At the last look.
  const auto check = [&]() -> std::optional<absl::Status> {
    for (const auto& view : views) {
      if (!view->status().ok()) return view->status();
    }
    const std::vector<HostSnapshot> snapshots = Snapshots(views);
    missing = Missing(snapshots, views, options.min_hosts);
    if (!missing.empty() || Left(deadline).count() <= 0) return std::nullopt;
    return together.Check(client, Revisions(snapshots), Left(deadline));
  };
  std::optional<absl::Status> done =
      internal::PollUntil(*changes, deadline, check);
  if (done) return *done;
  return TimedOut(timeout, missing, together);
}

}  // namespace etcdisc
