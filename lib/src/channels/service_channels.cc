// ServiceChannels and ServiceCall: the public front of a ChannelSet fed by
// a ServiceView.
#include <utility>

#include "absl/strings/str_cat.h"
#include "discovery/go_endpoint.h"
#include "etcdisc/grpc.h"
#include "channels/channel_set.h"
#include "util/status_macros.h"

namespace etcdisc {
namespace {

std::optional<std::string> PublicTarget(const Host& host,
                                        const std::string& port_name) {
  auto port = host.ports.find(port_name);
  if (port == host.ports.end() || host.name.empty()) return std::nullopt;
  return internal::JoinHostPort(host.name, port->second);
}

std::optional<std::string> PrivateTarget(const Host& host,
                                         const std::string& port_name) {
  auto port = host.private_ports.find(port_name);
  const std::string& name =
      host.private_hostname.empty() ? host.name : host.private_hostname;
  if (port == host.private_ports.end() || name.empty()) return std::nullopt;
  return internal::JoinHostPort(name, port->second);
}

}  // namespace

std::optional<std::string> GrpcTarget(const Host& host,
                                      const ChannelOptions& options) {
  auto first = options.prefer_private ? PrivateTarget(host, options.port_name)
                                      : PublicTarget(host, options.port_name);
  if (first) return first;
  return options.prefer_private ? PublicTarget(host, options.port_name)
                                : PrivateTarget(host, options.port_name);
}

void ServiceCall::Done(const grpc::Status& status) {
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    // Its connection may be gone before gRPC's state says so: no new call
    // goes to it until the state catches up (HostChannel::CallFailed).
    static_cast<const internal::HostChannel*>(
        internal::BalancerCore::BalancedHostOf(picked_).attachment.get())
        ->CallFailed();
    picked_.Failed();
  } else if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    picked_.Failed();
  } else {
    picked_.Succeeded();
  }
}

absl::StatusOr<std::unique_ptr<ServiceChannels>> ServiceChannels::Open(
    Client& client, absl::string_view service, ChannelOptions options) {
  if (options.port_name.empty()) {
    return absl::InvalidArgumentError("invalid port_name \"\": name the port");
  }
  ETCDISC_RETURN_IF_ERROR(internal::ValidateBalancerOptions(options.balancer));
  const ViewOptions view_options{options.balancer.shard};
  ETCDISC_ASSIGN_OR_RETURN(std::unique_ptr<ServiceView> view,
                           ServiceView::Open(client, service, view_options));
  auto set = std::make_unique<internal::ChannelSet>(std::string(service),
                                                    std::move(options));
  // The view is destroyed first (~ServiceChannels) and waits for this.
  view->OnChange(
      [set = set.get()](const HostSnapshot& hosts) { set->Update(hosts); });
  return std::unique_ptr<ServiceChannels>(
      new ServiceChannels(std::move(set), std::move(view)));
}

absl::StatusOr<std::unique_ptr<ServiceChannels>> ServiceChannels::Open(
    Client& client, absl::string_view service) {
  return Open(client, service, ChannelOptions());
}

ServiceChannels::ServiceChannels(std::unique_ptr<internal::ChannelSet> set,
                                 std::unique_ptr<ServiceView> view)
    : set_(std::move(set)), view_(std::move(view)) {}

ServiceChannels::~ServiceChannels() = default;

absl::Status ServiceChannels::WaitReady(std::chrono::milliseconds timeout) const {
  return internal::WaitFirstUpdate(*view_, set_->core(), timeout,
                                   "the channels of");
}

absl::StatusOr<ServiceCall> ServiceChannels::Pick(absl::string_view key) const {
  ETCDISC_ASSIGN_OR_RETURN(auto picked, set_->Pick(key));
  return ServiceCall(std::move(picked.first), std::move(picked.second));
}

HostSnapshot ServiceChannels::hosts() const { return set_->hosts(); }
absl::Status ServiceChannels::status() const { return view_->status(); }

}  // namespace etcdisc
