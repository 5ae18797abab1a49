// The picking half of a Balancer: the table of a service's hosts, replaced
// whole on every change of the service, and the policies that pick from it.
// Fed by a ServiceView in the library, by hand in the unit tests.
#ifndef ETCDISC_BALANCING_BALANCER_CORE_H_
#define ETCDISC_BALANCING_BALANCER_CORE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "balancing/balanced_host.h"
#include "etcdisc/balancer.h"
#include "etcdisc/view.h"
#include "util/mutex.h"

namespace etcdisc::internal {

// The hosts at one change, in key order. Never changes once made.
struct EndpointTable {
  HostSnapshot hosts;
  std::vector<std::shared_ptr<BalancedHost>> endpoints;
  // The hosts of the change that Attach left out, not asked again while
  // their records stay the same.
  std::vector<Host> left_out;
};

// InvalidArgument naming the first bad value of `options`.
absl::Status ValidateBalancerOptions(const BalancerOptions& options);

class BalancerCore;

// Waits, within `timeout`, for `view`'s first read and then for `core`'s
// first Update (the view's hosts reach it from the client's callback
// thread). `what` names the waiter in the error ("the balancer of").
absl::Status WaitFirstUpdate(const ServiceView& view, const BalancerCore& core,
                             std::chrono::milliseconds timeout,
                             absl::string_view what);

// Pickers read the current table through a per-thread copy of its pointer,
// refreshed under mu_ only when the table's generation has moved: a pick in
// the steady state reads one atomic and touches no shared lock. A thread
// keeps the last tables of the last few balancers it picked from until it
// picks from others or exits. Safe for concurrent use.
class BalancerCore {
 public:
  // What to keep with a host that enters the table (BalancedHost::attachment);
  // nullptr leaves the host out (it is never picked). Asked once per host
  // record: a record left out is not asked again until it changes.
  using Attach = std::function<std::shared_ptr<const void>(const Host& host)>;

  BalancerCore(std::string service, BalancerOptions options,
               SteadyNow now = [] { return std::chrono::steady_clock::now(); },
               Attach attach = nullptr, ReachableFn reachable = nullptr);

  // The endpoint a pick of this balancer returned.
  static const BalancedHost& BalancedHostOf(const PickedHost& picked) {
    return *picked.endpoint_;
  }

  // The hosts from now on. A host present before keeps its calls in flight,
  // its failures and its attachment (by uuid, when its record is unchanged).
  // Calls must not overlap (a view's callbacks never do).
  void Update(const HostSnapshot& hosts) ABSL_LOCKS_EXCLUDED(mu_);
  // Waits until the first Update; false after `timeout`.
  bool WaitUpdated(std::chrono::milliseconds timeout) const
      ABSL_LOCKS_EXCLUDED(mu_);

  absl::StatusOr<PickedHost> Pick(absl::string_view key) const;
  void Report(absl::string_view uuid, bool succeeded) const;
  HostSnapshot hosts() const ABSL_LOCKS_EXCLUDED(mu_);
  const std::string& service() const { return service_; }

 private:
  const EndpointTable& Current() const ABSL_LOCKS_EXCLUDED(mu_);
  // What one pick saw: the clock (read at most once, and only if needed;
  // 0 until then) and, when every host was skipped, the end of the skip of
  // the least bad one it took (else 0), for PickedHost.
  struct Choice {
    int64_t now = 0;
    int64_t skip_seen = 0;
  };
  // The index of the endpoint to pick in a table with at least one.
  size_t Choose(const EndpointTable& table, absl::string_view key,
                Choice* choice) const;
  size_t ChooseByHash(const EndpointTable& table, absl::string_view key,
                      Choice* choice) const;
  size_t ChooseOfTwo(const EndpointTable& table, Choice* choice) const;
  // From `start` on, the first usable endpoint; the least bad when none is.
  size_t FirstUsable(const EndpointTable& table, size_t start,
                     Choice* choice) const;

  const std::string service_;
  const BalancerOptions options_;
  const std::shared_ptr<const EndpointRules> policy_;
  const Attach attach_;
  const uint64_t id_;  // Unique in the process: names the per-thread copies.
  mutable std::atomic<uint64_t> next_{0};  // kRoundRobin's turn.

  mutable Mutex mu_;
  std::shared_ptr<const EndpointTable> table_ ABSL_GUARDED_BY(mu_);
  bool updated_ ABSL_GUARDED_BY(mu_) = false;
  // Moved (under mu_) each time table_ is replaced.
  std::atomic<uint64_t> generation_{1};
};

}  // namespace etcdisc::internal

#endif  // ETCDISC_BALANCING_BALANCER_CORE_H_
