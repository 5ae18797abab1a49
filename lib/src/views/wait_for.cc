// WaitFor: a view per service, and a wait until each has enough hosts.
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

namespace etcdisc {
namespace {

// "db (1 of 2 hosts)" for each view short of `min_hosts`.
std::vector<std::string> Missing(
    const std::vector<std::unique_ptr<ServiceView>>& views, int min_hosts) {
  std::vector<std::string> missing;
  for (const auto& view : views) {
    const size_t have = view->hosts().size();
    if (view->ready() && have >= static_cast<size_t>(min_hosts)) continue;
    if (!view->ready()) {
      missing.push_back(absl::StrCat(view->service(), " (not read yet)"));
    } else {
      missing.push_back(absl::StrCat(view->service(), " (", have, " of ",
                                     min_hosts, " hosts)"));
    }
  }
  return missing;
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
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto changes = std::make_shared<internal::ChangeCounter>();
  std::vector<std::unique_ptr<ServiceView>> views;
  for (const std::string& service : services) {
    auto view = ServiceView::Open(client, service, ViewOptions{options.shard});
    if (!view.ok()) return view.status();
    (*view)->OnChange([changes](const HostSnapshot&) { changes->Bump(); });
    views.push_back(*std::move(view));
  }
  std::optional<absl::Status> done =
      internal::PollUntil(*changes, deadline, [&]() -> std::optional<absl::Status> {
        if (Missing(views, options.min_hosts).empty()) return absl::OkStatus();
        for (const auto& view : views) {
          if (!view->status().ok()) return view->status();
        }
        return std::nullopt;
      });
  if (done) return *done;
  return absl::DeadlineExceededError(absl::StrCat(
      "waited ", absl::FormatDuration(absl::FromChrono(timeout)),
      " for services still missing: ",
      absl::StrJoin(Missing(views, options.min_hosts), ", ")));
}

}  // namespace etcdisc
