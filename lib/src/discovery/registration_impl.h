// The background life of one registered host.
#ifndef ETCDISC_DISCOVERY_REGISTRATION_IMPL_H_
#define ETCDISC_DISCOVERY_REGISTRATION_IMPL_H_

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "util/mutex.h"
#include "discovery/client_core.h"
#include "etcd/watch_hub.h"
#include "etcdisc/client.h"
#include "util/backoff.h"

namespace etcdisc::internal {

// Keeps one host registered: writes its keys in one Txn under its own lease,
// writes them again (same uuid) when the lease is lost, puts the service
// record back when it disappears while the host lives, and adopts credentials
// changed in the service record for a public service.
//
// All work that waits on etcd runs in Run() on the client's pool, one Run()
// at a time per registration, so its steps and its events are ordered. Other
// threads (lease keeper, watch stream, Stop) only set flags and Kick().
// Safe for concurrent use.
class RegistrationImpl final
    : public Stoppable,
      public std::enable_shared_from_this<RegistrationImpl> {
 public:
  RegistrationImpl(std::shared_ptr<ClientCore> core, std::string service,
                   Host host, RegisterOptions options,
                   RegistrationCallback on_event);

  // Starts the background work; call once, right after construction.
  void Start() ABSL_LOCKS_EXCLUDED(mu_);

  bool Ready() const ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status WaitRegistration(std::chrono::milliseconds timeout)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<Credentials> GetCredentials() const ABSL_LOCKS_EXCLUDED(mu_);
  std::string UUID() const { return uuid_; }
  Host host() const ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status Stop() ABSL_LOCKS_EXCLUDED(mu_);
  void StopForShutdown() override { Stop().IgnoreError(); }

 private:
  enum class Step { kNone, kWrite, kRewriteHost, kWatchService, kRestoreService };

  void Kick() ABSL_LOCKS_EXCLUDED(mu_);
  void Run() ABSL_LOCKS_EXCLUDED(mu_);
  Step NextStepLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Perform(Step step) ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status Write() ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status RewriteHost() ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status WatchService() ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status RestoreService() ABSL_LOCKS_EXCLUDED(mu_);
  void RetryLater() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The host record and lease to write now.
  std::pair<Host, int64_t> HostAndLease() const ABSL_LOCKS_EXCLUDED(mu_);

  void OnLeaseLost(int64_t lease, const absl::Status& why)
      ABSL_LOCKS_EXCLUDED(mu_);
  void OnServiceUpdate(WatchUpdate update) ABSL_LOCKS_EXCLUDED(mu_);
  // Takes in what the service record says now (nullptr: it is gone).
  void ApplyServiceRecordLocked(const KeyValue* record)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Emit(RegistrationEvent::Kind kind, absl::Status detail)
      ABSL_LOCKS_EXCLUDED(mu_);

  const std::shared_ptr<ClientCore> core_;
  const std::string service_;
  const std::string uuid_;
  const std::string host_key_;
  const std::string service_key_;
  const RegisterOptions options_;
  const RegistrationCallback on_event_;

  mutable Mutex mu_;
  Host host_ ABSL_GUARDED_BY(mu_);
  int64_t lease_ ABSL_GUARDED_BY(mu_) = 0;
  bool registered_ ABSL_GUARDED_BY(mu_) = false;  // Keys written, lease alive.
  bool ever_registered_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<absl::Status> stop_status_ ABSL_GUARDED_BY(mu_);
  // Work to do.
  bool need_write_ ABSL_GUARDED_BY(mu_) = true;
  bool need_host_rewrite_ ABSL_GUARDED_BY(mu_) = false;
  bool need_service_watch_ ABSL_GUARDED_BY(mu_) = false;
  bool need_service_restore_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<absl::Status> lost_ ABSL_GUARDED_BY(mu_);  // Not yet reported.
  bool credentials_changed_ ABSL_GUARDED_BY(mu_) = false;
  // Run() bookkeeping.
  bool running_ ABSL_GUARDED_BY(mu_) = false;
  bool retry_pending_ ABSL_GUARDED_BY(mu_) = false;
  Backoff backoff_ ABSL_GUARDED_BY(mu_);
  WatchId service_watch_ ABSL_GUARDED_BY(mu_) = 0;
  // Where to start watching the service record without reading it first
  // (right after our own write); 0: read it.
  int64_t service_watch_from_ ABSL_GUARDED_BY(mu_) = 0;
};

// The public handle: forwards to the shared implementation, stops on
// destruction.
class RegistrationHandle final : public Registration {
 public:
  explicit RegistrationHandle(std::shared_ptr<RegistrationImpl> impl)
      : impl_(std::move(impl)) {}
  ~RegistrationHandle() override { impl_->Stop().IgnoreError(); }

  bool Ready() const override { return impl_->Ready(); }
  absl::Status WaitRegistration(std::chrono::milliseconds timeout) override {
    return impl_->WaitRegistration(timeout);
  }
  absl::StatusOr<Credentials> GetCredentials() const override {
    return impl_->GetCredentials();
  }
  std::string UUID() const override { return impl_->UUID(); }
  Host host() const override { return impl_->host(); }
  absl::Status Stop() override { return impl_->Stop(); }

 private:
  std::shared_ptr<RegistrationImpl> impl_;
};

}  // namespace etcdisc::internal

#endif  // ETCDISC_DISCOVERY_REGISTRATION_IMPL_H_
