#include "discovery/client_core.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "discovery/host_rules.h"

namespace etcdisc::internal {

absl::StatusOr<std::shared_ptr<ClientCore>> ClientCore::Create(
    const ClientOptions& options) {
  absl::Status prefix = ValidateKeyPrefix(options.key_prefix);
  if (!prefix.ok()) return prefix;
  if (options.call_timeout.count() <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid call timeout ", options.call_timeout.count(),
        "ms: it must be above zero"));
  }
  EtcdClientOptions etcd_options;
  etcd_options.endpoints = options.endpoints;
  etcd_options.call_timeout = options.call_timeout;
  auto etcd = EtcdClient::Create(etcd_options);
  if (!etcd.ok()) return etcd.status();
  return std::shared_ptr<ClientCore>(
      new ClientCore(options, *std::move(etcd)));
}

ClientCore::ClientCore(const ClientOptions& options,
                       std::unique_ptr<EtcdClient> etcd)
    : options_(options),
      keys_(options.key_prefix),
      machine_hostname_(options.hostname.empty() ? MachineHostname()
                                                 : options.hostname),
      etcd_(std::move(etcd)),
      pool_(options.worker_threads),
      leases_(etcd_.get(), &pool_) {}

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
  std::vector<std::weak_ptr<Stoppable>> tracked;
  {
    MutexLock lock(&mu_);
    if (shut_down_) return;
    shut_down_ = true;
    tracked.swap(tracked_);
  }
  for (auto& weak : tracked) {
    if (auto s = weak.lock()) s->StopForShutdown();
  }
  leases_.Shutdown();
  pool_.Shutdown();
  etcd_->Shutdown();
}

}  // namespace etcdisc::internal
