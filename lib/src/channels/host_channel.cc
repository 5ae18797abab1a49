#include "channels/host_channel.h"

#include <utility>

namespace etcdisc::internal {

HostChannel::HostChannel(std::string target,
                         std::shared_ptr<grpc::Channel> channel, SteadyNow now)
    : target_(std::move(target)),
      channel_(std::move(channel)),
      now_(std::move(now)) {}

std::shared_ptr<grpc::Channel> HostChannel::channel() const {
  return std::atomic_load(&channel_);
}

void HostChannel::Release() {
  std::atomic_store(&channel_, std::shared_ptr<grpc::Channel>());
}

bool HostChannel::Reachable() const {
  const std::shared_ptr<grpc::Channel> channel = this->channel();
  if (channel == nullptr) return false;
  // A read of the channel's state, without a lock inside gRPC.
  const grpc_connectivity_state state = channel->GetState(false);
  if (state == GRPC_CHANNEL_READY) {
    needs_ready_.store(true, std::memory_order_relaxed);
    const int64_t suspect = suspect_until_.load(std::memory_order_relaxed);
    return suspect == 0 || ToNanos(now_()) >= suspect;
  }
  // gRPC has seen the connection go: the rules below take over.
  if (suspect_until_.load(std::memory_order_relaxed) != 0) {
    suspect_until_.store(0, std::memory_order_relaxed);
  }
  if (!needs_ready_.load(std::memory_order_relaxed)) {
    return state == GRPC_CHANNEL_IDLE || state == GRPC_CHANNEL_CONNECTING;
  }
  // Connected once and lost it: reconnect, and skip it meanwhile.
  if (state == GRPC_CHANNEL_IDLE) channel->GetState(true);
  return false;
}

void HostChannel::CallFailed() const {
  // The channel may have connected and lost it between two picks, unseen
  // by Reachable: from now on it must show READY.
  needs_ready_.store(true, std::memory_order_relaxed);
  suspect_until_.store(ToNanos(now_() + kSuspectFor),
                       std::memory_order_relaxed);
}

bool HostChannelReachable(const void* attachment) {
  return static_cast<const HostChannel*>(attachment)->Reachable();
}

}  // namespace etcdisc::internal
