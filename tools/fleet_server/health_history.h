// The load and RSS each host reported over the last minutes, for the fleet
// page's sparklines: kept by the server from the time it starts, so that a
// page opened later still shows the curve.
#ifndef ETCDISC_TOOLS_FLEET_SERVER_HEALTH_HISTORY_H_
#define ETCDISC_TOOLS_FLEET_SERVER_HEALTH_HISTORY_H_

#include <chrono>
#include <deque>
#include <map>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "etcdisc/fleet.h"
#include "util/mutex.h"

namespace etcdisc::cli {

// Safe for concurrent use.
class HealthHistory {
 public:
  // Keeps each host's points of the last `span`, at most `max_points`.
  HealthHistory(std::chrono::seconds span, size_t max_points)
      : span_(span), max_points_(max_points) {}

  // A host's health as it is now (a point, if it is newer than its last);
  // a forgotten host is dropped.
  void Add(const FleetHost& host) ABSL_LOCKS_EXCLUDED(mu_);
  void Forget(const FleetHost& host) ABSL_LOCKS_EXCLUDED(mu_);
  // {"<service>/<uuid>":[[unix_ms,load1,rss_bytes],...],...}, oldest first.
  std::string Json() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Point {
    std::chrono::system_clock::time_point at;
    double load1 = 0;
    int64_t rss_bytes = 0;
  };
  const std::chrono::seconds span_;
  const size_t max_points_;
  mutable internal::Mutex mu_;
  std::map<std::string, std::deque<Point>> points_ ABSL_GUARDED_BY(mu_);
};

}  // namespace etcdisc::cli

#endif  // ETCDISC_TOOLS_FLEET_SERVER_HEALTH_HISTORY_H_
