// A gRPC channel to one host (hostname:port), shared by the endpoints of
// that target, and whether it is worth a call now.
#ifndef ETCDISC_CHANNELS_HOST_CHANNEL_H_
#define ETCDISC_CHANNELS_HOST_CHANNEL_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <grpcpp/channel.h>

#include "balancing/balanced_host.h"

namespace etcdisc::internal {

// The channel is reached through std::atomic_load/atomic_store: Release
// drops it while pickers may read it, and an endpoint kept by a picker's
// stale copy of a table then holds this small object, never a connection.
// In libstdc++ those take one of a small pool of process-wide mutexes,
// chosen by address, for the copy of the pointer: pickers of one host
// briefly share it (unlike a Balancer's pick, which takes no lock).
//
// Reachability, read on the pick path:
//   READY                picked
//   never connected yet  picked while IDLE or CONNECTING (a call waits for
//                        the first connection), until a call fails
//                        UNAVAILABLE; not in TRANSIENT_FAILURE
//   connected once (seen READY at a pick, or a call failed UNAVAILABLE:
//   it may have connected and lost it between two picks), then IDLE,
//   CONNECTING or TRANSIENT_FAILURE
//                        not picked until READY again: a host killed -9
//                        or going away gets no new call. An IDLE channel
//                        is asked to reconnect; one that went IDLE for
//                        another reason (no call for gRPC's idle timeout,
//                        a server's connection age) is skipped only for
//                        the time it takes to reconnect. When no host is
//                        reachable, the balancer still picks one.
//   READY, but a call failed UNAVAILABLE since (CallFailed)
//                        not picked until gRPC shows a state other than
//                        READY (it had not seen the connection go yet:
//                        the rules above then apply), or for kSuspectFor
//                        if it never does (the server itself answered
//                        UNAVAILABLE).
class HostChannel {
 public:
  static constexpr std::chrono::seconds kSuspectFor{1};

  // `now`: the steady clock, or a test's.
  HostChannel(std::string target, std::shared_ptr<grpc::Channel> channel,
              SteadyNow now);

  const std::string& target() const { return target_; }
  // The channel, or nullptr once released.
  std::shared_ptr<grpc::Channel> channel() const;
  // Whether a call should go to it now (see the class comment); cheap.
  bool Reachable() const;
  // Drops the channel: its connection closes once no call uses it.
  void Release();
  // A call to it failed UNAVAILABLE: see the class comment.
  void CallFailed() const;

 private:
  const std::string target_;
  std::shared_ptr<grpc::Channel> channel_;  // Atomic access only.
  const SteadyNow now_;
  // Seen READY, or a call failed UNAVAILABLE: from then on only READY is
  // reachable.
  mutable std::atomic<bool> needs_ready_{false};
  // Not reachable while READY until then (steady clock, ns); 0: trusted.
  mutable std::atomic<int64_t> suspect_until_{0};
};

// For BalancerCore: whether the HostChannel `attachment` is reachable.
bool HostChannelReachable(const void* attachment);

}  // namespace etcdisc::internal

#endif  // ETCDISC_CHANNELS_HOST_CHANNEL_H_
