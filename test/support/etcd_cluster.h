// A real etcd (Debian's /usr/bin/etcd) for tests: one member or a cluster,
// started on free loopback ports in a temporary directory, with the faults
// tests need: kill -9, restart on the same data, pause, resume, compaction.
#ifndef ETCDISC_TEST_SUPPORT_ETCD_CLUSTER_H_
#define ETCDISC_TEST_SUPPORT_ETCD_CLUSTER_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "etcd/etcd_client.h"
#include "etcdisc/client.h"
#include "support/test_certs.h"


namespace etcdisc::testing {

struct EtcdClusterOptions {
  int members = 1;
  // Raft timing: short, so that elections after a kill take about a second.
  // etcd's minimum lease TTL is 1.5x the election timeout.
  int heartbeat_ms = 50;
  int election_timeout_ms = 500;
  // How long Start() and Restart() wait for members to serve.
  std::chrono::seconds start_timeout{30};
  std::string etcd_binary = "/usr/bin/etcd";
  // kServer: https:// client URLs with a certificate from a throwaway CA;
  // kMutual: also --client-cert-auth (clients need a certificate of that CA).
  enum class Tls { kNone, kServer, kMutual };
  Tls tls = Tls::kNone;
  // etcd authentication on (set up with etcdctl once the members serve):
  // users root, "registrar" (role registrar: readwrite on /services/,
  // /service_infos/, /clusters/ and /service_health/), "watcher" (role
  // reader: read on all four) and "cn-registrar" (role registrar, for a client certificate with
  // that common name). The fixture's own calls go as root.
  bool auth = false;
  // etcd's --auth-token-ttl in seconds (how long a simple token lives
  // unused); 0: etcd's default, 300.
  int auth_token_ttl_s = 0;
  // With auth: etcd's JWT tokens (ES256, a throwaway key pair) that expire
  // this many seconds after they are made, used or not; 0: simple tokens.
  int jwt_ttl_s = 0;
};

// Not thread-safe: drive it from the test's main thread. Member processes die
// with the process that started them (PR_SET_PDEATHSIG), and the destructor
// kills them and removes the directory, so nothing outlives a failed or
// aborted test.
class EtcdCluster {
 public:
  static absl::StatusOr<std::unique_ptr<EtcdCluster>> Start(
      EtcdClusterOptions options = {});
  ~EtcdCluster();
  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;

  int size() const { return static_cast<int>(members_.size()); }
  // All client URLs, comma-separated, in member order.
  std::string endpoints() const;
  // Member i's client URL.
  std::string endpoint(int i) const;
  // Member i's process id (-1 when killed).
  pid_t pid(int i) const { return members_[i].pid; }

  // SIGKILL and reap member i.
  absl::Status Kill(int i);
  // Starts member i again on its data; waits until it serves with a leader.
  absl::Status Restart(int i);
  // Starts a killed member i again with its data removed. For a one-member
  // cluster this is etcd wiped: an empty store at revision 1.
  absl::Status RestartEmpty(int i);
  // For a one-member cluster: starts killed member 0 empty as a new cluster,
  // with another cluster id (what a client sees when its endpoint now leads
  // to another cluster).
  absl::Status RestartAsNewCluster();
  // Starts several killed members at once (a cluster needs a quorum before
  // any member serves), then waits for each to serve.
  absl::Status RestartAll();
  // SIGSTOP / SIGCONT member i.
  absl::Status Pause(int i);
  absl::Status Resume(int i);
  bool IsRunning(int i) const;

  // The index of the member that is leader now, as the running members see
  // it; waits up to `timeout` for one.
  absl::StatusOr<int> Leader(
      std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Compacts the keyspace up to `revision`, waiting until it is applied.
  absl::Status Compact(int64_t revision);
  // The cluster's current revision.
  absl::StatusOr<int64_t> Revision();
  // Starts etcd's gRPC proxy (`etcd grpc-proxy start`) in front of every
  // member and returns its client URL once it serves; the proxy dies with the
  // cluster. Idempotent: a second call returns the first proxy.
  absl::StatusOr<std::string> StartProxy();
  // Starts one more proxy, beside those running; its client URL.
  absl::StatusOr<std::string> AddProxy();
  // Kills every proxy.
  void StopProxy();
  // The process id of proxy i (in the order they were started).
  pid_t proxy_pid(int i) const { return proxies_[i].pid; }

  bool auth() const { return options_.auth; }
  // With auth: the password of `user` (one of those above).
  std::string Password(const std::string& user) const;
  // With auth: what a client logged in as `user` sets.
  AuthOptions ClientAuth(const std::string& user) const;

  // Runs etcdctl against member 0 (as root if `as_root`: with auth on, root
  // may change users and roles); its standard output.
  absl::StatusOr<std::string> Etcdctl(const std::vector<std::string>& args,
                                      bool as_root) const;
  // How many leases etcd holds now (etcdctl lease list).
  absl::StatusOr<int> LeaseCount() const;
  // The ids of the leases etcd holds now.
  absl::StatusOr<std::set<int64_t>> LeaseIds() const;

  // The tail of member i's log, for failure messages.
  std::string LogTail(int i) const;
  // The last `max_lines` warnings and errors of member i's log (slow disk,
  // slow applies, elections), for failure messages.
  std::string LogWarnings(int i, size_t max_lines) const;

  // With TLS: the certificates made for this cluster, and what a client of
  // it sets (the CA, and the root user's certificate with kMutual).
  const TestCerts& certs() const { return certs_; }
  TlsOptions ClientTls() const;
  // The same, read, for an etcd-layer client.
  internal::EtcdClientOptions::Tls EtcdTls() const;

 private:
  struct MemberProcess {
    std::string name;
    std::string data_dir;
    std::string log_path;
    int client_port = 0;
    int peer_port = 0;
    pid_t pid = -1;
    bool paused = false;
  };

  explicit EtcdCluster(EtcdClusterOptions options) : options_(options) {}
  static absl::StatusOr<std::unique_ptr<EtcdCluster>> StartOnFreePorts(
      const EtcdClusterOptions& options);
  absl::Status Launch(int i);
  absl::Status WaitServing(int i, std::chrono::steady_clock::time_point until);
  std::vector<std::string> Args(int i) const;
  absl::StatusOr<int> AnyRunning() const;
  // Adds the users and roles above and turns authentication on.
  absl::Status EnableAuth();
  absl::StatusOr<std::unique_ptr<internal::EtcdClient>> AdminClient(
      const std::string& endpoint) const;

  EtcdClusterOptions options_;
  TestCerts certs_;
  KeyPair jwt_keys_;
  std::string dir_;
  std::string token_;
  std::string password_salt_;  // Makes this run's passwords.
  std::vector<MemberProcess> members_;
  struct ProxyProcess {
    pid_t pid = -1;
    std::string endpoint;
  };
  std::vector<ProxyProcess> proxies_;
};

}  // namespace etcdisc::testing

#endif  // ETCDISC_TEST_SUPPORT_ETCD_CLUSTER_H_
