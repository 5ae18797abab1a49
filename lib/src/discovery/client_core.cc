#include "discovery/client_core.h"

#include <algorithm>
#include <cstdlib>
#include <atomic>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "discovery/host_rules.h"
#include "discovery/options.h"
#include "discovery/etcd_user.h"
#include "discovery/tls.h"
#include "util/log.h"
#include "util/status_macros.h"

namespace etcdisc::internal {

absl::StatusOr<std::shared_ptr<ClientCore>> ClientCore::Create(
    const ClientOptions& options) {
  ETCDISC_RETURN_IF_ERROR(ValidateClientOptions(options));
  EtcdClientOptions etcd_options = EtcdOptionsFrom(options);
  ETCDISC_ASSIGN_OR_RETURN(etcd_options.tls, LoadTls(options));
  ETCDISC_ASSIGN_OR_RETURN(etcd_options.credentials,
                           LoadCredentials(options.auth));
  ETCDISC_ASSIGN_OR_RETURN(auto etcd, EtcdClient::Create(etcd_options));
  std::shared_ptr<ClientCore> core(new ClientCore(options, std::move(etcd)));
  core->StartEndpointSync();
  return core;
}

void ClientCore::StartEndpointSync() {
  if (options_.endpoint_sync_interval.count() > 0) ScheduleEndpointSync({});
}

// The tasks hold `this`: the timer drops its tasks, and the pool its queued
// ones, in Shutdown(), before any member of this goes; a running one is
// waited for.
void ClientCore::ScheduleEndpointSync(std::chrono::steady_clock::duration delay) {
  RunAfter(delay, [this] {
    watch_pool_.Post([this] {
      SyncEndpoints();
      ScheduleEndpointSync(options_.endpoint_sync_interval);
    });
  });
}

void ClientCore::SyncEndpoints() {
  if (shut_down()) return;
  absl::StatusOr<bool> changed = etcd_->SyncEndpoints();
  if (!changed.ok()) {
    ETCDISC_LOG(kWarning, absl::StrCat("could not read etcd's member list: ",
                                       changed.status().message()));
  } else if (*changed) {
    ETCDISC_LOG(kInfo, absl::StrCat("etcd endpoints are now ",
                                    absl::StrJoin(etcd_->endpoints(), ",")));
  }
}

ClientCore::ClientCore(const ClientOptions& options,
                       std::unique_ptr<EtcdClient> etcd)
    : options_(WithoutSecrets(options)),
      keys_(options.key_prefix),
      machine_hostname_(options.hostname.empty() ? MachineHostname()
                                                 : options.hostname),
      etcd_(std::move(etcd)),
      registration_pool_(options.worker_threads),
      watch_pool_(options.worker_threads),
      leases_(etcd_.get(), &registration_pool_),
      shared_leases_(etcd_.get()),
      service_records_(
          [hub = &etcd_->watch()](WatchOptions watch, WatchHandler handler) {
            return hub->Watch(std::move(watch), std::move(handler));
          },
          [hub = &etcd_->watch()](WatchId id) { hub->Cancel(id); }) {}

ClientCore::~ClientCore() { Shutdown(); }

absl::Status ClientCore::Track(std::weak_ptr<Stoppable> s) {
  return live_.Add(std::move(s));
}

bool ClientCore::shut_down() const { return live_.closed(); }

ClientMetrics ClientCore::Metrics() const {
  ClientMetrics out;
  for (const auto& s : live_.Live()) s->AddMetrics(&out);
  out.resyncs = resyncs();
  out.corrections = corrections();
  out.watchers = etcd_->watch().size();
  out.leases_kept = etcd_->keeper().size();
  out.watch_stream_open = etcd_->watch().stream_open();
  out.keepalive_stream_open = etcd_->keeper().stream_open();
  etcd_->metrics().Snapshot(&out);
  return out;
}

void ClientCore::Shutdown() {
  if (callbacks_.OnExecutorThread()) {
    // The callback thread would have to join itself, then return into an
    // executor that no longer exists.
    ETCDISC_LOG(kError, "an etcdisc Client was destroyed from one of its own "
               "registration callbacks; that is not allowed");
    std::abort();
  }
  const auto timeout = options_.shutdown_timeout.count() > 0
                           ? options_.shutdown_timeout
                           : options_.call_timeout;
  if (!live_.CloseAndStopAll(std::chrono::steady_clock::now() + timeout)) {
    return;
  }
  callbacks_.Shutdown();  // Delivers the kStopped events queued above.
  leases_.Shutdown();
  shared_leases_.Shutdown();
  registration_pool_.Shutdown();
  watch_pool_.Shutdown();
  etcd_->Shutdown();
}

}  // namespace etcdisc::internal
