#include "discovery/stop_list.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include <utility>

namespace etcdisc::internal {

absl::Status StopList::Add(std::weak_ptr<Stoppable> s) {
  MutexLock lock(&mu_);
  if (closed_) {
    return absl::FailedPreconditionError("the etcdisc client is shut down");
  }
  // Forget the ones that went away, so the list does not grow forever.
  std::vector<std::weak_ptr<Stoppable>> live;
  for (auto& t : live_) {
    if (!t.expired()) live.push_back(std::move(t));
  }
  live.push_back(std::move(s));
  live_.swap(live);
  return absl::OkStatus();
}

std::vector<std::shared_ptr<Stoppable>> StopList::Live() const {
  MutexLock lock(&mu_);
  std::vector<std::shared_ptr<Stoppable>> live;
  for (const auto& t : live_) {
    if (auto s = t.lock()) live.push_back(std::move(s));
  }
  return live;
}

bool StopList::closed() const {
  MutexLock lock(&mu_);
  return closed_;
}

bool StopList::CloseAndStopAll(std::chrono::steady_clock::time_point deadline) {
  std::vector<std::weak_ptr<Stoppable>> all;
  {
    MutexLock lock(&mu_);
    if (closed_) return false;
    closed_ = true;
    all.swap(live_);
  }
  // Each stop may wait on etcd (a revoke) until the deadline; they run side
  // by side so that N registrations against a dead etcd take one deadline,
  // not N.
  constexpr size_t kMaxStoppers = 16;
  std::atomic<size_t> next{0};
  auto stop_some = [&] {
    for (size_t i = next++; i < all.size(); i = next++) {
      if (auto s = all[i].lock()) s->StopBy(deadline);
    }
  };
  std::vector<std::thread> stoppers;
  for (size_t i = 1; i < std::min(all.size(), kMaxStoppers); ++i) {
    stoppers.emplace_back(stop_some);
  }
  stop_some();
  for (auto& t : stoppers) t.join();
  return true;
}

}  // namespace etcdisc::internal
