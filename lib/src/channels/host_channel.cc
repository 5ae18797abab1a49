#include "channels/host_channel.h"

#include <utility>

namespace etcdisc::internal {

HostChannel::HostChannel(std::string target,
                         std::shared_ptr<grpc::Channel> channel)
    : target_(std::move(target)), channel_(std::move(channel)) {}

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
    was_ready_.store(true, std::memory_order_relaxed);
    return true;
  }
  if (!was_ready_.load(std::memory_order_relaxed)) {
    return state == GRPC_CHANNEL_IDLE || state == GRPC_CHANNEL_CONNECTING;
  }
  // Connected once and lost it: reconnect, and skip it meanwhile.
  if (state == GRPC_CHANNEL_IDLE) channel->GetState(true);
  return false;
}

bool HostChannelReachable(const void* attachment) {
  return static_cast<const HostChannel*>(attachment)->Reachable();
}

}  // namespace etcdisc::internal
