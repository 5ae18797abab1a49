// gRPC channels that follow a service: one channel per live host, kept
// connected, and a pick per call by a Balancer. Library etcdisc::grpc
// (etcdisc_grpc), over etcdisc and gRPC C++.
//
//   auto channels = *etcdisc::ServiceChannels::Open(*client, "greeter");
//   channels->WaitReady(std::chrono::seconds(5));
//   auto call = channels->Pick();             // Unavailable: no host
//   if (call.ok()) {
//     Greeter::Stub stub(call->channel());    // a stub per call is cheap
//     grpc::ClientContext context;
//     grpc::Status status = stub.SayHello(&context, request, &reply);
//     call->Done(status);                     // UNAVAILABLE counts against
//   }                                         // the host
//
// Why a channel per host and not one channel over every address: a host
// that comes or goes adds or drops its own channel, and every other
// connection stays as it is (no reconnect storm, no call failed because a
// neighbour changed); and the pick per call sees the Balancer's policy,
// calls in flight and failures, which gRPC's own balancing would not.
#ifndef ETCDISC_GRPC_H_
#define ETCDISC_GRPC_H_

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <grpcpp/channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>
#include <grpcpp/support/status.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "etcdisc/balancer.h"
#include "etcdisc/client.h"
#include "etcdisc/host.h"
#include "etcdisc/view.h"

namespace etcdisc {

namespace internal {
class ChannelSet;
}  // namespace internal

struct ChannelOptions {
  // The host's gRPC port: ports[port_name], else private_ports[port_name]
  // (at the private hostname). A host with neither is never picked.
  std::string port_name = "grpc";
  // Take the private hostname and port first, the public ones second.
  bool prefer_private = false;
  // The pick: policy, shard, when a failing host is skipped.
  BalancerOptions balancer;
  // Of every channel; nullptr: plaintext (grpc::InsecureChannelCredentials).
  // With TLS, the name checked in a server's certificate is the hostname
  // it registered, unless `arguments` override it
  // (SetSslTargetNameOverride).
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  // Of every channel, as given (keepalive, message sizes, ...).
  grpc::ChannelArguments arguments;
};

// The channel of one call, to one host. Not thread-safe; movable. The host
// counts the call in flight until this is destroyed.
class ServiceCall {
 public:
  // For a Stub: `Greeter::Stub stub(call.channel());`.
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }
  const Host& host() const { return picked_.host(); }
  // The call's answer: UNAVAILABLE (the host unreachable or going away)
  // and DEADLINE_EXCEEDED count toward skipping the host; any other answer
  // is the host's own and counts as a success.
  void Done(const grpc::Status& status);

 private:
  friend class ServiceChannels;
  ServiceCall(PickedHost picked, std::shared_ptr<grpc::Channel> channel)
      : picked_(std::move(picked)), channel_(std::move(channel)) {}
  PickedHost picked_;
  std::shared_ptr<grpc::Channel> channel_;
};

// The live hosts of a service as gRPC channels. It follows the service
// with a live view: a new host gets a channel (connecting at once) from the
// change that adds it, and a host that goes down is not picked from the
// change that removes it; its channel closes once its calls in flight end.
// Safe for concurrent use. A pick is a Balancer's pick plus, per candidate
// host, a read of its channel's state; that read briefly takes a lock
// (libstdc++'s for atomic shared_ptr access) which pickers of the same host
// share.
class ServiceChannels {
 public:
  // InvalidArgument for an invalid service name or options; as
  // Balancer::Open otherwise. Returns at once, before the first read.
  static absl::StatusOr<std::unique_ptr<ServiceChannels>> Open(
      Client& client, absl::string_view service, ChannelOptions options);
  // With the default ChannelOptions. (An overload rather than a default
  // argument: GCC 12 at -O3 warns, wrongly, that a default ChannelOptions
  // built in the caller's code may be used uninitialized.)
  static absl::StatusOr<std::unique_ptr<ServiceChannels>> Open(
      Client& client, absl::string_view service);
  ~ServiceChannels();
  ServiceChannels(const ServiceChannels&) = delete;
  ServiceChannels& operator=(const ServiceChannels&) = delete;

  // Waits until the first read is done; as Balancer::WaitReady.
  absl::Status WaitReady(std::chrono::milliseconds timeout) const;
  // A channel for one call, to a host picked by the policy (kKeyHash: the
  // host of `key`). Unavailable naming the service when it has no host with
  // a gRPC port.
  absl::StatusOr<ServiceCall> Pick(absl::string_view key = "") const;
  // The hosts picked from now.
  HostSnapshot hosts() const;
  // As Balancer::status: OK while following the service.
  absl::Status status() const;

 private:
  ServiceChannels(std::unique_ptr<internal::ChannelSet> set,
                  std::unique_ptr<ServiceView> view);
  const std::unique_ptr<internal::ChannelSet> set_;
  const std::unique_ptr<ServiceView> view_;  // Destroyed first.
};

// "hostname:port" of `host`'s gRPC port by `options` (port_name,
// prefer_private); nullopt when it has none.
std::optional<std::string> GrpcTarget(const Host& host,
                                      const ChannelOptions& options);

}  // namespace etcdisc

#endif  // ETCDISC_GRPC_H_
