#include "balancing/balanced_host.h"

#include <algorithm>
#include <utility>

namespace etcdisc::internal {
namespace {

using Clock = std::chrono::steady_clock;

// The back-off of the `streak`-th skip in a row (0: the first).
Clock::duration Backoff(const EjectionOptions& options, int streak) {
  auto backoff = std::chrono::duration_cast<Clock::duration>(options.backoff);
  const auto most = std::chrono::duration_cast<Clock::duration>(
      std::max(options.max_backoff, options.backoff));
  for (int i = 0; i < streak && backoff < most; ++i) backoff *= 2;
  return std::min(backoff, most);
}

}  // namespace

int64_t ToNanos(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             t.time_since_epoch())
      .count();
}

uint64_t HashText(absl::string_view text) {
  uint64_t hash = 0xcbf29ce484222325ULL;  // FNV-1a, 64 bits.
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return MixHashes(hash, 0);
}

uint64_t MixHashes(uint64_t a, uint64_t b) {
  // splitmix64's finalizer over the two, so that every bit of both counts.
  uint64_t z = a ^ (b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2));
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

BalancedHost::BalancedHost(Host host_record,
                           std::shared_ptr<const EndpointRules> p,
                           std::shared_ptr<const void> attached)
    : host(std::move(host_record)),
      hash(HashText(host.uuid)),
      policy(std::move(p)),
      attachment(std::move(attached)) {}

int64_t BalancedHost::SkipEnd(int64_t* now_ns) const {
  const int64_t until = skipped_until.load(std::memory_order_relaxed);
  if (until == 0) return 0;
  if (*now_ns == 0) *now_ns = ToNanos(policy->now());
  return *now_ns < until ? until : 0;
}

bool BalancedHost::Usable(int64_t* now_ns) const {
  return Reachable() && !Skipped(now_ns);
}

void BalancedHost::Failed() {
  const EjectionOptions& options = policy->options;
  if (options.failures <= 0) return;
  const Clock::time_point now = policy->now();
  MutexLock lock(&mu_);
  failing_.store(true, std::memory_order_release);
  // Calls that were in flight when it was skipped fail too: they neither
  // lengthen the skip under way nor count toward the next one.
  if (skipped_until.load(std::memory_order_relaxed) > ToNanos(now)) return;
  if (failures_ == 0 || now - window_start_ > options.window) {
    window_start_ = now;
    failures_ = 0;
  }
  if (++failures_ < options.failures) return;
  failures_ = 0;
  skipped_until.store(ToNanos(now + Backoff(options, streak_)),
                      std::memory_order_relaxed);
  ++streak_;
}

void BalancedHost::Succeeded(int64_t skip_seen) {
  // The common case, a healthy host, takes no lock.
  if (!failing_.load(std::memory_order_acquire)) return;
  MutexLock lock(&mu_);
  const int64_t now = ToNanos(policy->now());  // After waiting for the lock.
  failures_ = 0;
  // A success ends only the skip its call was picked in: not one that
  // began after the pick.
  const int64_t until = skipped_until.load(std::memory_order_relaxed);
  if (until > now && until != skip_seen) return;
  streak_ = 0;
  skipped_until.store(0, std::memory_order_relaxed);
  failing_.store(false, std::memory_order_release);
}

}  // namespace etcdisc::internal
