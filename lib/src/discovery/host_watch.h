// Follows the hosts of one service: which appear, which go down, with no gap
// and no repeat across reconnects and compaction.
#ifndef ETCDISC_DISCOVERY_HOST_WATCH_H_
#define ETCDISC_DISCOVERY_HOST_WATCH_H_

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "util/mutex.h"
#include "discovery/client_core.h"
#include "etcd/watch_hub.h"
#include "etcdisc/host.h"
#include "util/backoff.h"

namespace etcdisc::internal {

// Where a HostWatch delivers. Called with the watch's lock held, one call at
// a time, in etcd's revision order; must not block (push to a queue).
struct HostSink {
  std::function<void(const Host& host)> on_new;
  std::function<void(const std::string& uuid)> on_down;
  // The watch ended for good (client shut down).
  std::function<void(const absl::Status& why)> on_end;
};

// Reads the service's hosts once, then watches its key prefix from the next
// revision. It remembers which host keys are live, so that when etcd has
// compacted past the watch (it fell behind or was disconnected long), it
// re-reads the prefix and delivers the difference: New for keys that
// appeared, Down for keys that went. A malformed host record is skipped with
// one warning; its key is never announced and so never reported down.
// Safe for concurrent use.
class HostWatch final : public Stoppable,
                        public std::enable_shared_from_this<HostWatch> {
 public:
  HostWatch(std::shared_ptr<ClientCore> core, std::string service,
            HostSink sink);

  // Reads the current hosts (delivering them as New if `existing`) and
  // starts watching. Unavailable / DeadlineExceeded if etcd cannot be read.
  absl::Status Start(bool existing) ABSL_LOCKS_EXCLUDED(mu_);
  // Ends the watch; nothing is delivered after this returns.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);
  void StopForShutdown() override;

 private:
  struct Known {
    int64_t create_revision = 0;
    bool announced = false;  // Delivered as New (or live at the start).
  };

  void OnUpdate(WatchUpdate update) ABSL_LOCKS_EXCLUDED(mu_);
  void Resync() ABSL_LOCKS_EXCLUDED(mu_);
  void RetryResyncLater() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WatchFromLocked(int64_t revision) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ApplyPutLocked(const KeyValue& kv) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ApplyDeleteLocked(const std::string& key)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Announces `kv` as New if its record is valid; returns whether it did.
  bool AnnounceLocked(const KeyValue& kv) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::shared_ptr<ClientCore> core_;
  const std::string service_;
  const std::string prefix_;
  const HostSink sink_;

  Mutex mu_;
  std::map<std::string, Known> known_ ABSL_GUARDED_BY(mu_);
  WatchId watch_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  Backoff backoff_ ABSL_GUARDED_BY(mu_);
};

}  // namespace etcdisc::internal

#endif  // ETCDISC_DISCOVERY_HOST_WATCH_H_
