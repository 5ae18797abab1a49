#include "util/backoff.h"

#include <algorithm>
#include <random>

namespace etcdisc::internal {

Backoff::Backoff(std::chrono::milliseconds initial,
                 std::chrono::milliseconds max)
    : initial_(std::max(initial, std::chrono::milliseconds(1))),
      max_(std::max(max, initial_)),
      ceiling_(initial_),
      rng_state_(std::random_device{}()) {}

std::chrono::milliseconds Backoff::Next() {
  // splitmix64: a tiny, good-enough generator; jitter needs no more.
  rng_state_ += 0x9e3779b97f4a7c15ULL;
  uint64_t z = rng_state_;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;

  const int64_t low = initial_.count() / 2;
  const int64_t high = ceiling_.count();
  const int64_t span = std::max<int64_t>(high - low, 1);
  const auto delay = std::chrono::milliseconds(low + int64_t(z % span));
  ceiling_ = std::min(ceiling_ * 2, max_);
  ++failures_;
  return delay;
}

void Backoff::Reset() {
  ceiling_ = initial_;
  failures_ = 0;
}

}  // namespace etcdisc::internal
