#include "channels/channel_set.h"

#include <set>

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include "absl/strings/str_cat.h"
#include "util/log.h"

namespace etcdisc::internal {

ChannelSet::ChannelSet(std::string service, ChannelOptions options)
    : options_(std::move(options)),
      credentials_(options_.credentials != nullptr
                       ? options_.credentials
                       : grpc::InsecureChannelCredentials()),
      now_([] { return std::chrono::steady_clock::now(); }),
      core_(
          std::move(service), options_.balancer, now_,
          [this](const Host& host) { return Attach(host); },
          &HostChannelReachable) {}

ChannelSet::~ChannelSet() {
  MutexLock lock(&mu_);
  for (auto& [target, channel] : channels_) channel->Release();
}

std::shared_ptr<const void> ChannelSet::Attach(const Host& host) {
  const std::optional<std::string> target = GrpcTarget(host, options_);
  if (!target) {
    ETCDISC_LOG(kInfo, absl::StrCat("host ", host.uuid, " of ", service(),
                                    " has no port \"", options_.port_name,
                                    "\": no gRPC call goes to it"));
    return nullptr;
  }
  MutexLock lock(&mu_);
  std::shared_ptr<HostChannel>& channel = channels_[*target];
  if (channel == nullptr) {
    channel = std::make_shared<HostChannel>(
        *target,
        grpc::CreateCustomChannel(*target, credentials_, options_.arguments),
        now_);
    channel->channel()->GetState(true);  // Connect now, not at the first call.
  } else if (auto existing = channel->channel();
             existing != nullptr &&
             existing->GetState(false) != GRPC_CHANNEL_READY) {
    // A new host at the address of another (a server restarted on its
    // port before its old record went): try it now, not once gRPC's
    // reconnect back-off from the old one's failures ends.
    grpc::experimental::ChannelResetConnectionBackoff(existing.get());
  }
  return channel;
}

void ChannelSet::Update(const HostSnapshot& hosts) {
  core_.Update(hosts);
  // The targets the table uses now; the others' channels close.
  std::set<std::string> used;
  for (const Host& host : core_.hosts().hosts()) {
    if (auto target = GrpcTarget(host, options_)) used.insert(*target);
  }
  MutexLock lock(&mu_);
  for (auto it = channels_.begin(); it != channels_.end();) {
    if (used.count(it->first) != 0) {
      ++it;
      continue;
    }
    it->second->Release();
    it = channels_.erase(it);
  }
}

absl::StatusOr<std::pair<PickedHost, std::shared_ptr<grpc::Channel>>>
ChannelSet::Pick(absl::string_view key) const {
  // A host picked from a table that an update replaced meanwhile may have
  // lost its channel: pick again from the new table.
  for (int attempt = 0; attempt < 3; ++attempt) {
    absl::StatusOr<PickedHost> picked = core_.Pick(key);
    if (!picked.ok()) return picked.status();
    const auto* host_channel = static_cast<const HostChannel*>(
        BalancerCore::BalancedHostOf(*picked).attachment.get());
    if (auto channel = host_channel->channel()) {
      return std::make_pair(*std::move(picked), std::move(channel));
    }
  }
  return absl::UnavailableError(absl::StrCat(
      "the hosts of service \"", service(), "\" changed during three picks"));
}

}  // namespace etcdisc::internal
