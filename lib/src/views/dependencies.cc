// Dependencies: a view per declared service, and a start that waits for all.
#include <atomic>
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

// Why Start gave up: the services missing at the last look or, when every
// view had a host then, at the last read at one revision.
absl::Status NotStarted(std::chrono::milliseconds timeout,
                        std::vector<std::string> missing,
                        const internal::OneRevisionCheck& together) {
  std::string why;
  if (missing.empty() && !together.last().ok()) {
    why = absl::StrCat("every service (reading them at one revision failed: ",
                       together.last().status().message(), ")");
  } else {
    if (missing.empty()) {
      for (const auto& shortfall : *together.last()) {
        missing.push_back(shortfall.service);
      }
    }
    why = absl::StrJoin(missing, ", ");
  }
  return absl::DeadlineExceededError(absl::StrCat(
      "not started: no host after ",
      absl::FormatDuration(absl::FromChrono(timeout)), " for ", why));
}

}  // namespace

struct Dependencies::Needed {
  std::unique_ptr<ServiceView> view;
  std::string shard;  // The view's.
  // Set on the callback thread once setup ran with a host.
  std::shared_ptr<std::atomic<bool>> set_up;
  std::shared_ptr<internal::ChangeCounter> setups;  // Shared by all.
};

Dependencies::Dependencies(Client& client) : client_(client) {}

Dependencies::~Dependencies() = default;

absl::Status Dependencies::Use(absl::string_view service,
                               ServiceView::ChangeCallback setup,
                               ViewOptions options) {
  if (started_) {
    return absl::FailedPreconditionError(absl::StrCat(
        "Dependencies::Use(\"", service, "\") after Start()"));
  }
  auto view = ServiceView::Open(client_, service, options);
  if (!view.ok()) return view.status();
  auto needed = std::make_unique<Needed>();
  needed->shard = options.shard;
  needed->set_up = std::make_shared<std::atomic<bool>>(false);
  needed->setups = needed_.empty()
                       ? std::make_shared<internal::ChangeCounter>()
                       : needed_.front()->setups;
  (*view)->OnChange([setup = std::move(setup), set_up = needed->set_up,
                     setups = needed->setups](const HostSnapshot& hosts) {
    // Not before the service has a host; after that, every change.
    if (hosts.empty() && !set_up->load()) return;
    if (setup) setup(hosts);
    set_up->store(true);
    setups->Bump();
  });
  needed->view = *std::move(view);
  needed_.push_back(std::move(needed));
  return absl::OkStatus();
}

absl::Status Dependencies::Start(const std::function<void()>& start,
                                 std::chrono::milliseconds timeout) {
  started_ = true;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const auto left = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
  };
  std::vector<internal::Wanted> wanted;
  for (const auto& needed : needed_) {
    wanted.push_back({needed->view->service(), needed->shard, 1});
  }
  internal::OneRevisionCheck together(std::move(wanted));
  std::vector<std::string> missing;  // At the last look.
  // Bumped by every setup call: one counter is shared by all services.
  internal::ChangeCounter no_services;
  internal::ChangeCounter& setups =
      needed_.empty() ? no_services : *needed_[0]->setups;
  std::optional<absl::Status> done =
      internal::PollUntil(setups, deadline, [&]() -> std::optional<absl::Status> {
        for (const auto& needed : needed_) {
          if (!needed->view->status().ok()) return needed->view->status();
        }
        missing.clear();
        std::vector<int64_t> revisions;
        for (const auto& needed : needed_) {
          const HostSnapshot hosts = needed->view->hosts();
          revisions.push_back(hosts.revision());
          if (!needed->set_up->load() || hosts.empty()) {
            missing.push_back(needed->view->service());
          }
        }
        if (!missing.empty() || left().count() <= 0) return std::nullopt;
        return together.Check(client_, std::move(revisions), left());
      });
  if (!done) return NotStarted(timeout, missing, together);
  if (!done->ok()) return *done;
  if (start) start();
  return absl::OkStatus();
}

}  // namespace etcdisc
