#include "etcd/etcd_client.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "util/status_macros.h"

namespace etcdisc::internal {

absl::StatusOr<std::unique_ptr<EtcdClient>> EtcdClient::Create(
    const EtcdClientOptions& options) {
  ETCDISC_ASSIGN_OR_RETURN(auto endpoints, ParseEndpoints(options.endpoints));
  ConnectionOptions connection_options;
  connection_options.endpoints = std::move(endpoints);
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = options.tls.ca_pem;
  ssl.pem_cert_chain = options.tls.cert_pem;
  ssl.pem_private_key = options.tls.key_pem;
  connection_options.tls_credentials = grpc::SslCredentials(ssl);
  connection_options.tls_server_name = options.tls.server_name;
  connection_options.ping_time = options.ping_time;
  connection_options.ping_timeout = options.ping_timeout;
  connection_options.dial_timeout = options.dial_timeout;
  connection_options.credentials = options.credentials;
  return std::unique_ptr<EtcdClient>(
      new EtcdClient(std::move(connection_options), options));
}

EtcdClient::EtcdClient(ConnectionOptions connection_options,
                       const EtcdClientOptions& options)
    : tls_(std::any_of(connection_options.endpoints.begin(),
                       connection_options.endpoints.end(),
                       [](const Endpoint& e) { return e.tls; })),
      connection_(std::move(connection_options)),
      kv_(&connection_, options.call_timeout),
      lease_(&connection_, options.call_timeout),
      cluster_(&connection_, options.call_timeout),
      keeper_(std::make_unique<LeaseKeeper>(&connection_, &scheduler_)),
      watch_(std::make_unique<WatchHub>(&connection_, &scheduler_,
                                        options.watch_timing)) {}

absl::StatusOr<bool> EtcdClient::SyncEndpoints() {
  ETCDISC_ASSIGN_OR_RETURN(std::vector<Member> members, cluster_.MemberList());
  std::vector<Endpoint> endpoints;
  for (const Member& member : members) {
    if (member.is_learner) continue;
    for (const std::string& url : member.client_urls) {
      auto parsed = ParseEndpoints(url);
      if (parsed.ok() && parsed->front().tls == tls_) {
        endpoints.push_back(parsed->front());
      }
    }
  }
  if (endpoints.empty()) {
    return absl::FailedPreconditionError(
        "etcd's member list names no client URL etcdisc can use");
  }
  return connection_.SetEndpoints(endpoints);
}

EtcdClient::~EtcdClient() {
  Shutdown();
  watch_.reset();
  keeper_.reset();
}

void EtcdClient::Shutdown() {
  // Streams first (their callbacks may schedule work), then the scheduler,
  // whose pending tasks point into the keeper and the hub.
  watch_->Shutdown();
  keeper_->Shutdown();
  scheduler_.Shutdown();
}

}  // namespace etcdisc::internal
