// Something with background work that a client tracks: it stops it at
// shutdown, and asks it for its metrics.
#ifndef ETCDISC_DISCOVERY_STOPPABLE_H_
#define ETCDISC_DISCOVERY_STOPPABLE_H_

#include <chrono>

#include "etcdisc/metrics.h"

namespace etcdisc::internal {

class Stoppable {
 public:
  virtual ~Stoppable() = default;
  // Stops; calls to etcd it makes to say so end by `deadline`.
  virtual void StopBy(std::chrono::steady_clock::time_point deadline) = 0;
  // Appends its own series to `out` (a registration's, a subscription's).
  virtual void AddMetrics(ClientMetrics* out) const = 0;
};

}  // namespace etcdisc::internal

#endif  // ETCDISC_DISCOVERY_STOPPABLE_H_
