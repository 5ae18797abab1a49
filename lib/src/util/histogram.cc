#include "util/histogram.h"

#include <algorithm>

namespace etcdisc::internal {

Histogram::Histogram(std::vector<int64_t> bounds)
    : bounds_(std::move(bounds)),
      counts_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i] = 0;
}

std::vector<int64_t> Histogram::MicrosecondBounds() {
  return {100,     250,     500,     1'000,     2'500,     5'000,
          10'000,  25'000,  50'000,  100'000,   250'000,   500'000,
          1'000'000, 2'500'000, 5'000'000, 10'000'000};
}

void Histogram::Record(int64_t value) {
  const size_t bucket =
      std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

HistogramSnapshot Histogram::Snapshot(int64_t per_unit) const {
  HistogramSnapshot out;
  const double divisor = static_cast<double>(per_unit);
  for (int64_t bound : bounds_) out.bounds.push_back(bound / divisor);
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    out.counts.push_back(counts_[i].load(std::memory_order_relaxed));
    out.count += out.counts.back();
  }
  out.sum = sum_.load(std::memory_order_relaxed) / divisor;
  return out;
}

}  // namespace etcdisc::internal
