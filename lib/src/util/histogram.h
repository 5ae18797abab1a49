// A fixed-bucket histogram of integer values that many threads record into
// without a lock (one relaxed atomic add for the bucket, one for the sum).
#ifndef ETCDISC_UTIL_HISTOGRAM_H_
#define ETCDISC_UTIL_HISTOGRAM_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "etcdisc/metrics.h"

namespace etcdisc::internal {

class Histogram {
 public:
  // `bounds`: ascending upper bounds of the buckets; values above the last
  // go to a final bucket.
  explicit Histogram(std::vector<int64_t> bounds);
  // Bounds of durations in microseconds: 100 us .. 10 s, about x2.5 apart.
  static std::vector<int64_t> MicrosecondBounds();

  void Record(int64_t value);
  // The snapshot with values divided by `per_unit` (1'000'000 turns
  // microseconds into seconds). Taken without a lock: the count is the
  // buckets' total, and a value recorded meanwhile may be in its bucket and
  // not yet in the sum.
  HistogramSnapshot Snapshot(int64_t per_unit = 1) const;

 private:
  const std::vector<int64_t> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;
  std::atomic<int64_t> sum_{0};
};

}  // namespace etcdisc::internal

#endif  // ETCDISC_UTIL_HISTOGRAM_H_
