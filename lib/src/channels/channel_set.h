// The channels of a service's hosts, kept in step with a live view of it,
// and the balancer that picks among them.
#ifndef ETCDISC_CHANNELS_CHANNEL_SET_H_
#define ETCDISC_CHANNELS_CHANNEL_SET_H_

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "balancing/balancer_core.h"
#include "etcdisc/grpc.h"
#include "channels/host_channel.h"
#include "util/mutex.h"

namespace etcdisc::internal {

// Update is called by the view's callback (never two at once); Pick from
// any thread. Safe for concurrent use.
class ChannelSet {
 public:
  ChannelSet(std::string service, ChannelOptions options);
  // Releases every channel.
  ~ChannelSet();

  // The service's hosts now: a channel for each new target, none kept for
  // a target no host has any more.
  void Update(const HostSnapshot& hosts) ABSL_LOCKS_EXCLUDED(mu_);
  const BalancerCore& core() const { return core_; }
  // A host and its channel, by the balancer's policy.
  absl::StatusOr<std::pair<PickedHost, std::shared_ptr<grpc::Channel>>> Pick(
      absl::string_view key) const;
  HostSnapshot hosts() const { return core_.hosts(); }
  const std::string& service() const { return core_.service(); }

 private:
  // For the balancer: the HostChannel of a host entering its table, made
  // or shared by target; nullptr (and a line in the log: the balancer asks
  // once per record) for a host without a gRPC port.
  std::shared_ptr<const void> Attach(const Host& host)
      ABSL_LOCKS_EXCLUDED(mu_);

  const ChannelOptions options_;
  const std::shared_ptr<grpc::ChannelCredentials> credentials_;
  const SteadyNow now_;  // The balancer's clock and every channel's.
  BalancerCore core_;

  mutable Mutex mu_;
  // By target ("hostname:port"): every channel a host of the table uses.
  std::map<std::string, std::shared_ptr<HostChannel>> channels_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace etcdisc::internal

#endif  // ETCDISC_CHANNELS_CHANNEL_SET_H_
