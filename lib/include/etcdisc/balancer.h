// Client-side balancing over a live view of a service: pick a host for each
// call without a round trip to etcd, skip hosts that keep failing, and drop a
// host as soon as etcd says it is down.
//
//   auto balancer = etcdisc::Balancer::Open(*client, "api");
//   (*balancer)->WaitReady(std::chrono::seconds(5));
//   auto picked = (*balancer)->Pick();          // Unavailable: no host
//   if (picked.ok()) {
//     bool ok = Call(picked->host().name, picked->host().ports.at("http"));
//     ok ? picked->Succeeded() : picked->Failed();
//   }                                             // the call ends here
#ifndef ETCDISC_BALANCER_H_
#define ETCDISC_BALANCER_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "etcdisc/client.h"
#include "etcdisc/host.h"
#include "etcdisc/view.h"

namespace etcdisc {

namespace internal {
class BalancerCore;
struct BalancedHost;
}  // namespace internal

enum class BalancePolicy {
  kRandom,
  kRoundRobin,
  // Power of two choices: of two hosts drawn at random, the one with fewer
  // calls in flight (a call is in flight while its PickedHost lives).
  kLeastInFlight,
  // The host of a key (Pick(key)), by rendezvous hashing: when a host joins
  // or leaves, only the keys that go to it or came from it move (about 1/N).
  kKeyHash,
};

// When a host that fails is skipped (Curator's DownInstancePolicy, with a
// growing back-off). A skipped host gets no call until its back-off ends,
// unless every host is skipped: then the one whose back-off ends first is
// picked, never none.
struct EjectionOptions {
  // Failures (PickedHost::Failed, Balancer::ReportError) within `window`
  // that skip a host; 0: never skip.
  int failures = 5;
  std::chrono::milliseconds window{10000};
  // The first skip lasts `backoff`; each further one in a row (no success
  // between) twice the last, at most `max_backoff`.
  std::chrono::milliseconds backoff{1000};
  std::chrono::milliseconds max_backoff{60000};
};

struct BalancerOptions {
  BalancePolicy policy = BalancePolicy::kRoundRobin;
  // Only the hosts of this shard; empty: every host.
  std::string shard;
  EjectionOptions ejection;
};

// One call's host. The call is in flight (for kLeastInFlight) from the pick
// until this is destroyed or moved from. Not thread-safe; movable.
class PickedHost {
 public:
  PickedHost() = default;
  ~PickedHost();
  PickedHost(PickedHost&& other) noexcept;
  PickedHost& operator=(PickedHost&& other) noexcept;
  PickedHost(const PickedHost&) = delete;
  PickedHost& operator=(const PickedHost&) = delete;

  // The host's record; valid while this lives, even if the host goes down.
  const Host& host() const;
  // The call failed because of the host: counts toward skipping it (not
  // while it is skipped: the skip already holds).
  void Failed();
  // The call succeeded: clears the host's failures and its back-off streak
  // (and its skip, if it was picked during that very skip, as the least
  // bad: a skip that began after the pick stays).
  void Succeeded();
  // host(), Failed() and Succeeded() need a PickedHost from a pick, not a
  // default-constructed or moved-from one.

 private:
  friend class internal::BalancerCore;
  PickedHost(std::shared_ptr<internal::BalancedHost> endpoint,
             int64_t skip_seen);
  std::shared_ptr<internal::BalancedHost> endpoint_;
  // The end of the host's skip when it was picked (every host skipped, this
  // one the least bad); 0: it was not skipped.
  int64_t skip_seen_ = 0;
};

// The live hosts of one service, and a pick among them per call. It follows
// the service with a ServiceView (one more watcher on the client's one watch
// stream): a new host is picked from the change that adds it, a host that
// goes down is never picked after the change that removes it. A pick takes
// no lock shared with other pickers in the steady state and allocates
// nothing. Safe for concurrent use.
class Balancer {
 public:
  // Starts following `service`; returns at once, before the first read.
  // InvalidArgument for an invalid service name or options (naming the
  // value); FailedPrecondition after the client shut down.
  static absl::StatusOr<std::unique_ptr<Balancer>> Open(
      Client& client, absl::string_view service, BalancerOptions options = {});
  ~Balancer();
  Balancer(const Balancer&) = delete;
  Balancer& operator=(const Balancer&) = delete;

  // Waits until the first read is done; as ServiceView::WaitReady.
  absl::Status WaitReady(std::chrono::milliseconds timeout) const;

  // A host for one call, by the policy (kKeyHash: the host of an empty key).
  // Unavailable naming the service when it has no host (on the shard).
  absl::StatusOr<PickedHost> Pick() const;
  // The host of `key` for kKeyHash; other policies ignore the key.
  absl::StatusOr<PickedHost> Pick(absl::string_view key) const;

  // Failure and success of a call to the host `uuid`, for callers that keep
  // the uuid rather than the PickedHost; an unknown uuid is ignored.
  void ReportError(absl::string_view uuid) const;
  void ReportSuccess(absl::string_view uuid) const;

  // The hosts picked from now (skipped ones included).
  HostSnapshot hosts() const;
  const std::string& service() const;
  // OK while following the service; otherwise why its view stopped (the
  // client shut down, or etcd refused to let it read the service), after
  // which picks keep choosing among the last hosts it saw.
  absl::Status status() const;

 private:
  Balancer(std::shared_ptr<internal::BalancerCore> core,
           std::unique_ptr<ServiceView> view);
  const std::shared_ptr<internal::BalancerCore> core_;
  const std::unique_ptr<ServiceView> view_;
};

}  // namespace etcdisc

#endif  // ETCDISC_BALANCER_H_
