#include "tools/fleet_server/health_history.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "tools/cli.h"

namespace etcdisc::cli {
namespace {

std::string KeyOf(const FleetHost& host) {
  return absl::StrCat(host.service, "/", host.uuid);
}

}  // namespace

void HealthHistory::Add(const FleetHost& host) {
  if (!host.health) return;
  internal::MutexLock lock(&mu_);
  std::deque<Point>& points = points_[KeyOf(host)];
  if (!points.empty() && points.back().at >= host.last_seen) return;
  points.push_back({host.last_seen, host.health->load1, host.health->rss_bytes});
  // Records carry times from 1970 to 2199 (ParseUtcTime): no overflow here.
  const auto oldest = host.last_seen - span_;
  while (points.size() > 1 &&
         (points.size() > max_points_ || points.front().at < oldest)) {
    points.pop_front();
  }
}

void HealthHistory::Forget(const FleetHost& host) {
  internal::MutexLock lock(&mu_);
  points_.erase(KeyOf(host));
}

std::string HealthHistory::Json() const {
  std::vector<std::string> hosts;
  internal::MutexLock lock(&mu_);
  for (const auto& [key, points] : points_) {
    std::vector<std::string> items;
    for (const Point& p : points) {
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
          p.at.time_since_epoch());
      items.push_back(absl::StrFormat("[%d,%.2f,%d]", ms.count(), p.load1,
                                      p.rss_bytes));
    }
    hosts.push_back(
        absl::StrCat(JsonString(key), ":[", absl::StrJoin(items, ","), "]"));
  }
  return absl::StrCat("{", absl::StrJoin(hosts, ","), "}");
}

}  // namespace etcdisc::cli
