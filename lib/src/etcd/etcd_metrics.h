// What the etcd layer measures about its link to the cluster: unary call
// latencies and errors per method, member failures, stream opens per member,
// keep-alive round trips, and how far behind and how fast the watch stream
// delivers. Recording takes no lock, but for the short one that finds a
// call's method.
// Safe for concurrent use.
#ifndef ETCDISC_ETCD_ETCD_METRICS_H_
#define ETCDISC_ETCD_ETCD_METRICS_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "etcdisc/metrics.h"
#include "util/histogram.h"
#include "util/mutex.h"

namespace etcdisc::internal {

enum class StreamKind { kWatch, kKeepAlive };

class EtcdMetrics {
 public:
  void RecordCall(absl::string_view method,
                  std::chrono::steady_clock::duration took, bool ok)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Per member, by URL; rare events, counted under the lock.
  void CountMemberFailure(const std::string& endpoint) ABSL_LOCKS_EXCLUDED(mu_);
  void CountStreamOpen(StreamKind kind, const std::string& endpoint)
      ABSL_LOCKS_EXCLUDED(mu_);
  void RecordKeepAliveRoundTrip(std::chrono::steady_clock::duration took);
  void RecordWatchLag(int64_t revisions);
  void RecordWatchDelivery(std::chrono::steady_clock::duration took);

  // Fills the etcd layer's part of `out`: calls, members and histograms.
  void Snapshot(ClientMetrics* out) const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Call {
    Histogram duration{Histogram::MicrosecondBounds()};
    std::atomic<int64_t> errors{0};
  };

  Call& CallOf(absl::string_view method) ABSL_LOCKS_EXCLUDED(mu_);

  mutable Mutex mu_;
  // Every member seen, also those no longer in the member list.
  std::map<std::string, MemberMetrics> members_ ABSL_GUARDED_BY(mu_);
  // Entries are never removed, so a reference stays valid after the lock.
  std::map<std::string, std::unique_ptr<Call>, std::less<>> calls_
      ABSL_GUARDED_BY(mu_);
  Histogram keepalive_rtt_{Histogram::MicrosecondBounds()};
  Histogram watch_lag_{{0, 1, 2, 5, 10, 100, 1'000, 10'000}};
  Histogram watch_delivery_{Histogram::MicrosecondBounds()};
};

}  // namespace etcdisc::internal

#endif  // ETCDISC_ETCD_ETCD_METRICS_H_
