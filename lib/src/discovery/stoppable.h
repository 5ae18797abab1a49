// Something with background work that a client stops at shutdown.
#ifndef ETCDISC_DISCOVERY_STOPPABLE_H_
#define ETCDISC_DISCOVERY_STOPPABLE_H_

#include <chrono>

namespace etcdisc::internal {

class Stoppable {
 public:
  virtual ~Stoppable() = default;
  // Stops; calls to etcd it makes to say so end by `deadline`.
  virtual void StopBy(std::chrono::steady_clock::time_point deadline) = 0;
};

}  // namespace etcdisc::internal

#endif  // ETCDISC_DISCOVERY_STOPPABLE_H_
