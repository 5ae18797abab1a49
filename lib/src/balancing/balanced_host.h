// One host as a balancer picks it: its record, its calls in flight and its
// failures. The pick path reads only atomics; failures take the host's own
// lock, never one that pickers share.
#ifndef ETCDISC_BALANCING_BALANCED_HOST_H_
#define ETCDISC_BALANCING_BALANCED_HOST_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "etcdisc/balancer.h"
#include "etcdisc/host.h"
#include "util/mutex.h"

namespace etcdisc::internal {

using SteadyNow = std::function<std::chrono::steady_clock::time_point()>;

// Whether a host may be picked now, by what its balancer's owner keeps
// with it (BalancedHost::attachment: the state of its channel). Called on the
// pick path: it must be quick, and must not block.
using ReachableFn = bool (*)(const void* attachment);

// What the endpoints of one balancer share: when to skip a host, the clock
// (a test's own, or the steady clock), and whether it is reachable (nullptr:
// always).
struct EndpointRules {
  EjectionOptions options;
  SteadyNow now;
  ReachableFn reachable = nullptr;
};

struct BalancedHost {
  BalancedHost(Host host, std::shared_ptr<const EndpointRules> policy,
               std::shared_ptr<const void> attachment = nullptr);

  // Whether a pick may choose it at `*now` (read from the clock only when
  // the host has been skipped; 0 until then): reachable and not skipped.
  bool Usable(int64_t* now_ns) const;
  bool Reachable() const {
    return policy->reachable == nullptr || policy->reachable(attachment.get());
  }
  // A call to it failed. Not counted while the host is skipped: such
  // failures come from calls picked before the skip (or from the least bad
  // fallback), and the skip already holds.
  void Failed();
  // A call to it succeeded. `skip_seen`: the end of the skip under way when
  // the call was picked (every host was skipped), or 0. A success ends that
  // very skip, since the host answers again, but not a later one.
  void Succeeded(int64_t skip_seen = 0);
  // Whether it is skipped now (at `*now_ns`, read as in Usable).
  bool Skipped(int64_t* now_ns) const { return SkipEnd(now_ns) != 0; }
  // When the skip under way ends (steady clock, ns); 0: not skipped now.
  int64_t SkipEnd(int64_t* now_ns) const;

  const Host host;
  const uint64_t hash;  // Of the uuid, for rendezvous hashing.
  const std::shared_ptr<const EndpointRules> policy;
  // What the balancer's owner keeps with the host (a channel to it).
  const std::shared_ptr<const void> attachment;
  std::atomic<int> in_flight{0};
  // Skipped until then (steady clock, ns); 0: not skipped.
  std::atomic<int64_t> skipped_until{0};

 private:
  Mutex mu_;
  // Failures counted since window_start_ (within one window).
  std::chrono::steady_clock::time_point window_start_ ABSL_GUARDED_BY(mu_);
  int failures_ ABSL_GUARDED_BY(mu_) = 0;
  // Skips in a row with no success between: the next back-off doubles.
  int streak_ ABSL_GUARDED_BY(mu_) = 0;
  // Whether a failure was counted since the last success that cleared them
  // (written under mu_; read without it by Succeeded's fast path).
  std::atomic<bool> failing_{false};
};

// Nanoseconds on the steady clock, as skipped_until holds them.
int64_t ToNanos(std::chrono::steady_clock::time_point t);

// A stable 64-bit hash of text (the same in every process) and a mix of two
// hashes, for rendezvous hashing.
uint64_t HashText(absl::string_view text);
uint64_t MixHashes(uint64_t a, uint64_t b);

}  // namespace etcdisc::internal

#endif  // ETCDISC_BALANCING_BALANCED_HOST_H_
