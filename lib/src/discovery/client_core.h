// What a Client's registrations and subscriptions share, and its shutdown:
// the etcd client, the worker threads, the callback thread, the key layout,
// spare and shared leases, the list of live ones to stop (StopList) and the counters
// Client::Stats() reports.
#ifndef ETCDISC_DISCOVERY_CLIENT_CORE_H_
#define ETCDISC_DISCOVERY_CLIENT_CORE_H_

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "discovery/keys.h"
#include "discovery/lease_source.h"
#include "discovery/service_record_watches.h"
#include "discovery/shared_leases.h"
#include "discovery/stop_list.h"
#include "discovery/stoppable.h"
#include "etcd/etcd_client.h"
#include "etcdisc/client.h"
#include "util/serial_executor.h"
#include "util/thread_pool.h"

namespace etcdisc::internal {

// Safe for concurrent use. Registrations and subscriptions hold it by
// shared_ptr, so it outlives them; Shutdown() stops them all, after which
// they are inert.
class ClientCore {
 public:
  static absl::StatusOr<std::shared_ptr<ClientCore>> Create(
      const ClientOptions& options);
  ~ClientCore();

  EtcdClient& etcd() { return *etcd_; }
  // Registrations' calls to etcd.
  ThreadPool& registration_pool() { return registration_pool_; }
  // Subscriptions' calls to etcd (re-reads), apart so that registrations
  // retrying against a slow etcd cannot hold them back, nor the reverse.
  ThreadPool& watch_pool() { return watch_pool_; }
  // Where application callbacks run.
  SerialExecutor& callbacks() { return callbacks_; }
  LeaseSource& leases() { return leases_; }
  SharedLeases& shared_leases() { return shared_leases_; }
  ServiceRecordWatches& service_records() { return service_records_; }
  // Runs `task` once after `delay` on the client's timer thread, which it
  // shares with the keep-alive refreshes: it must be short and never wait
  // (post longer work to a pool). Dropped after Shutdown().
  void RunAfter(std::chrono::steady_clock::duration delay,
                std::function<void()> task) {
    etcd_->scheduler().RunAfter(delay, std::move(task));
  }
  const KeyLayout& keys() const { return keys_; }
  const ClientOptions& options() const { return options_; }
  const std::string& machine_hostname() const { return machine_hostname_; }

  // Counts a subscription's re-read after compaction.
  void CountResync() { resyncs_.fetch_add(1, std::memory_order_relaxed); }
  int64_t resyncs() const { return resyncs_.load(std::memory_order_relaxed); }
  // Counts a difference that a periodic re-read found and corrected.
  void CountCorrection() {
    corrections_.fetch_add(1, std::memory_order_relaxed);
  }
  int64_t corrections() const {
    return corrections_.load(std::memory_order_relaxed);
  }

  // With options().endpoint_sync_interval, takes etcd's member list as the
  // endpoints now and then at every interval, until Shutdown(). Call once.
  void StartEndpointSync();

  // Everything Client::Metrics() reports.
  ClientMetrics Metrics() const;

  // Tracks `s` until it goes away; FailedPrecondition after Shutdown().
  absl::Status Track(std::weak_ptr<Stoppable> s);
  bool shut_down() const;
  // Stops every tracked registration and subscription, in parallel and
  // within options().shutdown_timeout overall, then the background threads
  // and streams. Idempotent; not from a client thread.
  void Shutdown();

 private:
  ClientCore(const ClientOptions& options, std::unique_ptr<EtcdClient> etcd);
  // One sync, on the watch pool, after `delay`; then the next.
  void ScheduleEndpointSync(std::chrono::steady_clock::duration delay);
  void SyncEndpoints();

  const ClientOptions options_;
  const KeyLayout keys_;
  const std::string machine_hostname_;
  std::unique_ptr<EtcdClient> etcd_;
  ThreadPool registration_pool_;
  ThreadPool watch_pool_;
  SerialExecutor callbacks_;
  LeaseSource leases_;
  SharedLeases shared_leases_;
  ServiceRecordWatches service_records_;
  StopList live_;
  std::atomic<int64_t> resyncs_{0};
  std::atomic<int64_t> corrections_{0};
};

}  // namespace etcdisc::internal

#endif  // ETCDISC_DISCOVERY_CLIENT_CORE_H_
