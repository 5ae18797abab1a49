#include "discovery/client_core.h"

#include <algorithm>
#include <cstdlib>
#include <atomic>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "discovery/host_rules.h"
#include "discovery/options.h"
#include "util/log.h"
#include "util/status_macros.h"

namespace etcdisc::internal {

absl::StatusOr<std::shared_ptr<ClientCore>> ClientCore::Create(
    const ClientOptions& options) {
  ETCDISC_RETURN_IF_ERROR(ValidateClientOptions(options));
  EtcdClientOptions etcd_options = EtcdOptionsFrom(options);
  ETCDISC_ASSIGN_OR_RETURN(auto etcd, EtcdClient::Create(etcd_options));
  return std::shared_ptr<ClientCore>(
      new ClientCore(options, std::move(etcd)));
}

ClientCore::ClientCore(const ClientOptions& options,
                       std::unique_ptr<EtcdClient> etcd)
    : options_(options),
      keys_(options.key_prefix),
      machine_hostname_(options.hostname.empty() ? MachineHostname()
                                                 : options.hostname),
      etcd_(std::move(etcd)),
      registration_pool_(options.worker_threads),
      watch_pool_(options.worker_threads),
      leases_(etcd_.get(), &registration_pool_) {}

ClientCore::~ClientCore() { Shutdown(); }

absl::Status ClientCore::Track(std::weak_ptr<Stoppable> s) {
  MutexLock lock(&mu_);
  if (shut_down_) {
    return absl::FailedPreconditionError("the etcdisc client is shut down");
  }
  // Forget the ones that went away, so the list does not grow forever.
  std::vector<std::weak_ptr<Stoppable>> live;
  for (auto& t : tracked_) {
    if (!t.expired()) live.push_back(std::move(t));
  }
  live.push_back(std::move(s));
  tracked_.swap(live);
  return absl::OkStatus();
}

bool ClientCore::shut_down() const {
  MutexLock lock(&mu_);
  return shut_down_;
}

void ClientCore::Shutdown() {
  if (callbacks_.OnExecutorThread()) {
    // The callback thread would have to join itself, then return into an
    // executor that no longer exists.
    LogWarning("an etcdisc Client was destroyed from one of its own "
               "registration callbacks; that is not allowed");
    std::abort();
  }
  std::vector<std::weak_ptr<Stoppable>> tracked;
  {
    MutexLock lock(&mu_);
    if (shut_down_) return;
    shut_down_ = true;
    tracked.swap(tracked_);
  }
  StopAll(tracked);
  callbacks_.Shutdown();  // Delivers the kStopped events queued above.
  leases_.Shutdown();
  registration_pool_.Shutdown();
  watch_pool_.Shutdown();
  etcd_->Shutdown();
}

void ClientCore::StopAll(const std::vector<std::weak_ptr<Stoppable>>& tracked) {
  // Each stop may wait on etcd (a revoke) until the deadline; they run side
  // by side so that N registrations against a dead etcd take one deadline,
  // not N.
  constexpr size_t kMaxStoppers = 16;
  const auto timeout = options_.shutdown_timeout.count() > 0
                           ? options_.shutdown_timeout
                           : options_.call_timeout;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::atomic<size_t> next{0};
  auto stop_some = [&] {
    for (size_t i = next++; i < tracked.size(); i = next++) {
      if (auto s = tracked[i].lock()) s->StopBy(deadline);
    }
  };
  std::vector<std::thread> stoppers;
  for (size_t i = 1; i < std::min(tracked.size(), kMaxStoppers); ++i) {
    stoppers.emplace_back(stop_some);
  }
  stop_some();
  for (auto& t : stoppers) t.join();
}

}  // namespace etcdisc::internal
