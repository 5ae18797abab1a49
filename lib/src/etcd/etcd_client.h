// The etcd layer's entry point: one connection to a cluster and everything
// that runs over it. Knows nothing of services.
#ifndef ETCDISC_ETCD_ETCD_CLIENT_H_
#define ETCDISC_ETCD_ETCD_CLIENT_H_

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "etcd/cluster_client.h"
#include "etcd/connection.h"
#include "etcd/kv_client.h"
#include "etcd/lease_client.h"
#include "etcd/lease_keeper.h"
#include "etcd/watch_hub.h"
#include "util/scheduler.h"

namespace etcdisc::internal {

// Every field must be set: the defaults live in ClientOptions
// (etcdisc/client.h), and EtcdOptionsFrom (discovery/options.h) copies them.
// Values are taken as checked (ValidateClientOptions).
struct EtcdClientOptions {
  // Comma-separated member URLs: "http://10.0.0.1:2379,http://10.0.0.2:2379".
  std::string endpoints;
  // Deadline of each unary call (Range, Put, Txn, LeaseGrant, ...).
  std::chrono::milliseconds call_timeout{};
  // How long a call or a stream waits to connect to a member before trying
  // the next.
  std::chrono::milliseconds dial_timeout{};
  // HTTP/2 pings on connections with calls in flight.
  std::chrono::milliseconds ping_time{};
  std::chrono::milliseconds ping_timeout{};
  // Progress probes of the watch stream: how often, and how long an answer
  // may take before the member is taken as stalled and left.
  WatchHub::Timing watch_timing;
  // For https:// endpoints, PEM text: the CA bundle that signed the members'
  // certificates (empty: the system's roots), and a client certificate and
  // its key for mutual TLS (both or neither). `server_name` is checked
  // against the members' certificates instead of each endpoint's host.
  struct Tls {
    std::string ca_pem;
    std::string cert_pem;
    std::string key_pem;
    std::string server_name;
  } tls;
  // An etcd user: calls and streams carry its token (see AuthTokens).
  std::optional<EtcdCredentials> credentials;
};

// One gRPC channel in use at a time, one Watch stream and one LeaseKeepAlive
// stream, however many leases and watchers it carries. Safe for concurrent
// use. Destruction ends both streams, waits for their last callbacks and joins
// the scheduler thread.
class EtcdClient {
 public:
  // InvalidArgument, naming the bad item, for a malformed endpoint list.
  // Connects lazily: a cluster that is down, or a TLS handshake that fails,
  // shows only in the calls.
  static absl::StatusOr<std::unique_ptr<EtcdClient>> Create(
      const EtcdClientOptions& options);
  ~EtcdClient();
  EtcdClient(const EtcdClient&) = delete;
  EtcdClient& operator=(const EtcdClient&) = delete;

  KvClient& kv() { return kv_; }
  LeaseClient& lease() { return lease_; }
  LeaseKeeper& keeper() { return *keeper_; }
  WatchHub& watch() { return *watch_; }
  ClusterClient& cluster() { return cluster_; }
  Scheduler& scheduler() { return scheduler_; }
  EtcdMetrics& metrics() { return connection_.metrics(); }
  // See Connection::SetAnswerHookForTesting.
  void SetAnswerHookForTesting(Connection::AnswerHook hook) {
    connection_.SetAnswerHookForTesting(std::move(hook));
  }
  // See Connection::SetSendHookForTesting.
  void SetSendHookForTesting(Connection::SendHook hook) {
    connection_.SetSendHookForTesting(std::move(hook));
  }

  // Asks the cluster for its members and makes their client URLs the
  // endpoints (learners and members not started yet left out; when any
  // endpoint given is https://, only https:// URLs: never a fall back to
  // plain text; otherwise only http:// ones). Returns
  // whether the endpoints changed;
  // MemberList's error, or FailedPrecondition when no member has a usable
  // URL, leaving the endpoints as they were.
  absl::StatusOr<bool> SyncEndpoints();
  std::vector<std::string> endpoints() const { return connection_.endpoints(); }
  // Connection::SetEndpoints, for tests that swap member lists under load.
  bool SetEndpointsForTesting(const std::vector<Endpoint>& endpoints) {
    return connection_.SetEndpoints(endpoints);
  }

  // Ends both streams and joins the scheduler thread; calls made afterwards
  // still work but nothing runs in the background. Idempotent.
  void Shutdown();

 private:
  EtcdClient(ConnectionOptions connection_options,
             const EtcdClientOptions& options);

  // Whether the endpoints given were https://.
  const bool tls_;
  Connection connection_;
  Scheduler scheduler_;
  KvClient kv_;
  LeaseClient lease_;
  ClusterClient cluster_;
  std::unique_ptr<LeaseKeeper> keeper_;
  std::unique_ptr<WatchHub> watch_;
};

}  // namespace etcdisc::internal

#endif  // ETCDISC_ETCD_ETCD_CLIENT_H_
