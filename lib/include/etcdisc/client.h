// etcdisc's entry point: register hosts of services in etcd, find them, and
// follow them as they come and go.
//
//   auto client = etcdisc::Client::FromEnvironment();
//   auto reg = (*client)->Register("web", host);
//   auto hosts = (*client)->Get("web");
//   auto news = (*client)->SubscribeNew("web");
#ifndef ETCDISC_CLIENT_H_
#define ETCDISC_CLIENT_H_

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "etcdisc/fleet.h"
#include "etcdisc/host.h"
#include "etcdisc/metrics.h"
#include "etcdisc/subscription.h"

namespace etcdisc {

namespace internal {
class ClientCore;
class RegistrationImpl;
class HealthPublisher;
class HealthLeases;
struct ClientAccess;  // Reaches the internals, for etcdisc's own tests.
}  // namespace internal

// How a Client reaches etcd and paces its background work. Every field has
// its default here and its valid range in its comment; Client::Create refuses
// a value out of range with InvalidArgument naming the field and the value.
// TLS to etcd, for https:// endpoints. Each item is a file, or the PEM text
// itself (one of the two, never both).
struct TlsOptions {
  // The CA bundle that signed etcd's certificates; neither: the system's.
  std::string ca_file;
  std::string ca_pem;
  // A client certificate and its private key, for mutual TLS: both or
  // neither. With etcd's --client-cert-auth, a certificate whose common name
  // is an etcd user authenticates as that user.
  std::string cert_file;
  std::string cert_pem;
  std::string key_file;
  std::string key_pem;
  // The name checked against etcd's certificates instead of each endpoint's
  // host, for certificates issued to another name.
  std::string server_name;

  // Whether anything is set.
  bool empty() const {
    return ca_file.empty() && ca_pem.empty() && cert_file.empty() &&
           cert_pem.empty() && key_file.empty() && key_pem.empty() &&
           server_name.empty();
  }
};

// An etcd user, for an etcd with authentication on: every call and stream
// then carries the user's token, got with the password and got anew when
// etcd refuses it (expired, or lost by a restarted member). A wrong password
// or unknown user is asked for again at most every 10 s. Not needed when a
// client certificate's common name is an etcd user (etcd's
// --client-cert-auth). The password is text or a file (one of the two); it
// never appears in an error or a log line.
struct AuthOptions {
  std::string user;
  std::string password;
  // Its first line is the password (a trailing newline is dropped).
  std::string password_file;

  bool empty() const {
    return user.empty() && password.empty() && password_file.empty();
  }
};

struct ClientOptions {
  // --- Where etcd is, and what etcdisc's keys look like ---

  // etcd members' client URLs, comma-separated: "http://h1:2379,http://h2:2379".
  // At least one; https:// ones are reached with TLS (see `tls`).
  std::string endpoints = "http://localhost:2379";
  // Certificates for https:// endpoints. Set only with https:// endpoints.
  TlsOptions tls;
  // The etcd user, if etcd has authentication on.
  AuthOptions auth;
  // Prepended to every key etcdisc reads or writes ("" = none), so tenants and
  // tests can share one etcd: "/tenant-a" gives "/tenant-a/services/...".
  // Empty, or starting with '/' and not ending with one.
  std::string key_prefix;
  // How often to ask etcd for its members and take their client URLs as the
  // endpoints, so that a client given some of the members finds the others,
  // and keeps working as members are replaced; the first ask is at once.
  // 0 (never: the endpoints stay as given; right when they name a gRPC proxy
  // or a load balancer, since etcd's answer would name the members behind
  // it, and when the URLs the members advertise cannot be reached from here)
  // or 1 s to 24 h.
  std::chrono::milliseconds endpoint_sync_interval{0};
  // The machine's private hostname, used when a host names none; empty: the
  // HOSTNAME environment variable, else the operating system's hostname. No
  // '/', whitespace or control character.
  std::string hostname;

  // --- Calls to etcd ---

  // Deadline of each call to etcd (Get, and each step of the background
  // work). 1 ms to 1 h.
  std::chrono::milliseconds call_timeout{5000};
  // How long a call, or a stream about to open, waits to connect to one
  // member before trying the next. 1 ms to 1 h.
  std::chrono::milliseconds dial_timeout{2000};
  // HTTP/2 pings on a connection with calls or streams open, so that a member
  // that stops answering (paused, cut off) is left after the ping timeout.
  // Time: 5 s to 1 h (etcd refuses pings more often than every 5 s);
  // timeout: 1 ms to 1 h.
  std::chrono::milliseconds ping_time{6000};
  std::chrono::milliseconds ping_timeout{3000};

  // --- Background work ---

  // Threads for background work that waits on etcd: at most this many for
  // registrations and as many for subscriptions, started only as work needs
  // them. 1 to 1024.
  int worker_threads = 16;
  // The client's destructor stops every registration (revoking its lease)
  // in parallel, waiting at most this long in all. 0 (= call_timeout) to 1 h.
  std::chrono::milliseconds shutdown_timeout{0};

  // --- Subscriptions ---

  // Events a subscription holds unread before it closes with
  // ResourceExhausted. 0 (no limit) to 2^30.
  size_t subscription_capacity = 1 << 16;
  // How often every subscription re-reads its service and corrects any
  // difference from what it delivered. A guard against a watch event lost by
  // etcd itself (etcd 3.4 and 3.5 could drop one around a compaction); costs
  // one small read per subscription per interval when nothing changed.
  // 0 (never), or 100 ms to 24 h.
  std::chrono::milliseconds reconcile_interval{std::chrono::minutes(5)};
  // The watch stream asks etcd for a progress report this often while idle,
  // and leaves a member that takes longer than the timeout to answer (a
  // paused or cut-off member) for the next one. Each 100 ms to 1 h.
  std::chrono::milliseconds watch_probe_interval{2000};
  std::chrono::milliseconds watch_probe_timeout{3000};
};

// Reads ClientOptions the way the Go package etcd-discovery does: ETCD_HOSTS
// (comma-separated URLs), else ETCD_HOST, else http://localhost:2379; HOSTNAME
// for the private hostname; TLS from ETCD_CACERT (CA bundle), ETCD_TLS_CERT and
// ETCD_TLS_KEY (client certificate and key): files, or with
// ETCD_TLS_INMEMORY=true (exactly "true"; anything else means files) the PEM
// text itself, as is or base64-encoded. With any of them set, http:// endpoints
// become https://. InvalidArgument names a variable that is not PEM. Beyond
// the Go package: the etcd user from ETCD_USER, with ETCD_PASSWORD or
// ETCD_PASSWORD_FILE (see AuthOptions).
absl::StatusOr<ClientOptions> ClientOptionsFromEnvironment();

struct RegisterOptions {
  // Lifetime of the host's keys without a refresh; refreshed every ttl/3.
  // Rounded up to whole seconds; etcd raises a TTL below its minimum (1.5x
  // its election timeout: 2 s with etcd's defaults) to that minimum.
  std::chrono::milliseconds ttl{5000};
  // How often the host's health is sampled and published next to its record
  // (etcdisc/fleet.h): written when it changed beyond a threshold (load by
  // a quarter or 0.5, whichever is more; 1% of memory; 1 MiB of RSS; the CPU
  // rate by a quarter or 0.05 core, whichever is more; any gauge), and at
  // least every sixth interval. 0 turns publishing off.
  std::chrono::milliseconds health_interval{10000};
  // How long the last health of a host that went stays in etcd (shown as
  // offline by Client::Fleet). Whole seconds, at least 1 s.
  std::chrono::seconds health_retention{24 * 3600};
  // Also publish the host for etcd's Go gRPC resolver, so that Go clients
  // dialing "etcd:///<go_grpc_target>" call it: the key
  // <go_grpc_target>/<uuid>, under the host's lease, holding
  // {"Op":0,"Addr":"<hostname>:<port>","Metadata":null}, where port is the
  // host's port named go_grpc_port (public, else private). Written with the
  // host's record, gone with it. Empty: not published.
  std::string go_grpc_target{};
  std::string go_grpc_port = "grpc";
  // Write the host's keys under one lease that this client's registrations
  // of the same service with share_lease and the same ttl hold together,
  // instead of a lease of its own: a registration is then one write to etcd
  // (no grant), and the client keeps one lease alive for all of them.
  // Stop() deletes the host's keys (one Txn, once any write of them still
  // in flight has landed) and the last registration to stop revokes the
  // lease, with the service record if it was written under it. A lease
  // that etcd loses takes all their keys at once; each is written again,
  // under the next shared lease. For a process that registers many hosts.
  bool share_lease = false;
};

// What happens to a registration over its life.
struct RegistrationEvent {
  enum class Kind {
    kRegistered,          // First written to etcd.
    kLost,                // etcd reports its lease gone (expired, revoked,
                          // etcd wiped); it is being written again.
    kReregistered,        // Written again, same uuid, after a loss.
    kCredentialsChanged,  // Adopted new user/password from the service record.
    kAttemptFailed,       // A call to etcd failed (detail says why); it is
                          // tried again after a backoff of up to 5 s.
    kStopped,             // Stop() ran; the last event.
  };
  Kind kind;
  // Why, for kLost and kAttemptFailed; for kStopped, Unavailable when etcd
  // could not be told (the keys then expire with their TTL).
  absl::Status detail;
  Credentials credentials;  // The credentials in force after the event.
};

// A host registered in etcd, kept there in the background until Stop() or
// destruction: its lease is refreshed, its keys are put back with the same
// uuid if etcd ever reports the lease gone or someone deletes them, and the
// service record is put back when it disappears. It never gives up: while
// etcd cannot be reached it retries with a capped, jittered backoff, and each
// failed attempt is reported (kAttemptFailed, LastError()). Safe for
// concurrent use.
class Registration {
 public:
  // Stops the registration (see Stop()).
  ~Registration();
  Registration(const Registration&) = delete;
  Registration& operator=(const Registration&) = delete;

  // Whether the host's keys are in etcd: true from the first write until etcd
  // reports the lease gone. While etcd cannot be reached it keeps its last
  // known value.
  bool Ready() const;
  // Waits until the host is registered. DeadlineExceeded after `timeout`;
  // FailedPrecondition if the registration was stopped. PermissionDenied
  // (naming the key) or Unauthenticated (naming the etcd user) at once when
  // etcd refused the writes: the registration then revokes its lease and
  // gives up rather than retry what cannot succeed; Stop() it, fix the role
  // or password, and Register again.
  absl::Status WaitRegistration(std::chrono::milliseconds timeout);
  // The credentials in force: the host's, or those adopted from the service
  // record. FailedPrecondition until the first registration.
  absl::StatusOr<Credentials> credentials() const;
  // "<uuid4>-<private hostname>", fixed for the registration's life.
  std::string UUID() const;
  // The host record as written to etcd.
  Host host() const;
  // Why the last call to etcd failed; OK once one succeeds again.
  absl::Status LastError() const;
  // Revokes the lease so that watchers see the host go down at once, and
  // stops all background work; waits at most the client's call timeout.
  // Stopped either way; Unavailable if etcd could not be told (the keys then
  // expire with their TTL) - calling Stop() again retries the revoke. After
  // it returns no callback of this registration runs, unless it was called
  // from one (the kStopped event then follows that callback).
  absl::Status Stop();
  // Sets a gauge published with the host's health (etcdisc/fleet.h), e.g.
  // SetGauge("queue_depth", 12); it goes out with the next health write.
  // InvalidArgument, naming it, for a name that is not 1 to 64 of
  // [A-Za-z0-9_] starting with a letter or '_', a value that is not finite,
  // or a 65th gauge; FailedPrecondition when health publishing is off.
  absl::Status SetGauge(absl::string_view name, double value);

 private:
  friend class Client;
  Registration(std::shared_ptr<internal::RegistrationImpl> impl,
               std::shared_ptr<internal::HealthPublisher> health);
  const std::shared_ptr<internal::RegistrationImpl> impl_;
  const std::shared_ptr<internal::HealthPublisher> health_;  // May be null.
};

// Handler of registration events. Runs on the client's callback thread (one
// per Client, shared by all its registrations), one event at a time, in the
// order things happened. It may call Stop() or destroy the registration; it
// must not block for long, since other registrations' events wait behind it,
// and must not destroy the Client (the process aborts with a message).
using RegistrationCallback = std::function<void(const RegistrationEvent&)>;

// The hosts of a service as read from etcd by one Get. A plain value.
class ServiceHosts {
 public:
  ServiceHosts(std::string name, std::vector<Host> hosts,
               std::optional<ServiceInfo> record, std::string shard = "")
      : name_(std::move(name)), hosts_(std::move(hosts)),
        record_(std::move(record)), shard_(std::move(shard)) {}

  const std::string& name() const { return name_; }
  // The shard the hosts were filtered by (GetForShard); empty after Get.
  const std::string& shard() const { return shard_; }
  // The service record, when /service_infos/<service> exists.
  const std::optional<ServiceInfo>& record() const { return record_; }

  // Every host. NotFound "service ... not found" when the service has neither
  // hosts nor a record; NotFound "no host found for service ..." when it has
  // no host, with "on shard ..." after GetForShard.
  absl::StatusOr<std::vector<Host>> All() const;
  // The first host (in key order), or All()'s error.
  absl::StatusOr<Host> First() const;
  // A host picked at random, or All()'s error.
  absl::StatusOr<Host> One() const;
  // For a public service, the URL of the service record (its hostname, ports
  // and credentials); otherwise the URL of a random host. InvalidArgument for
  // a scheme the service has no port for; All()'s errors otherwise.
  absl::StatusOr<std::string> URL(absl::string_view scheme = "",
                                  absl::string_view path = "") const;

 private:
  std::string name_;
  std::vector<Host> hosts_;
  std::optional<ServiceInfo> record_;
  std::string shard_;
};

// One line of ListServices().
struct ServiceSummary {
  std::string name;
  int hosts = 0;          // Live host keys.
  bool critical = false;  // From the service record (false without one).
  bool has_record = false;
};

// How one Get reads.
struct GetOptions {
  // Read the member's own copy without asking the leader (etcd's
  // serializable read): cheaper, and answered by a member cut off from its
  // leader, but possibly behind the cluster by a few writes. For read-heavy
  // callers; a ServiceView (etcdisc/view.h) reads without any round trip.
  bool serializable = false;
  // The deadline of this Get; 0: ClientOptions::call_timeout.
  std::chrono::milliseconds timeout{0};
};

struct SubscribeOptions {
  // First deliver the hosts present now as New events (SubscribeNew only),
  // then the changes after them, with no gap and no repeat.
  bool existing = false;
};

// What a client holds and has done, for monitoring and tests.
struct ClientStats {
  int watch_streams_opened = 0;      // 1 + reconnects of the one Watch stream.
  int keepalive_streams_opened = 0;  // Likewise for LeaseKeepAlive.
  bool watch_stream_open = false;      // Open now; false while reconnecting
  bool keepalive_stream_open = false;  // or before the first use.
  size_t watchers = 0;               // Watches multiplexed on the stream now.
  size_t leases_kept = 0;            // Leases refreshed now (spares included).
  // Full re-reads of a subscription's service: after etcd compacted past its
  // watch, after etcd's store went back, or to correct a difference.
  int64_t resyncs = 0;
  // Re-reads that found hosts the watch had not reported (an event lost by
  // etcd, or a member that lost its data), and corrected them.
  int64_t corrections = 0;
};


// A connection to etcd for discovery: one gRPC channel, one watch stream and
// one lease keep-alive stream, whatever the number of registrations and
// subscriptions. Safe for concurrent use without external synchronization.
// Destruction stops every registration (revoking its lease, all in parallel
// within shutdown_timeout) and closes every subscription; handles that
// outlive the client are inert.
//
// Threads. Public calls (Get, Register, Subscribe..., Stop) run on the
// caller's thread; Get and the first read of a subscription wait on etcd
// there. In the background a client runs:
//   - gRPC's threads, which receive watch and keep-alive answers and never
//     wait on etcd;
//   - one timer thread (keep-alive refreshes, retries after a backoff);
//   - for each of the two streams, once it has had to wait for a member to
//     connect, one thread that waits for the connection before a stream
//     opens;
//   - up to worker_threads threads for registrations' calls to etcd, and as
//     many again for subscriptions' re-reads, so that neither can starve the
//     other; threads start only when work needs them;
//   - one callback thread, on which every RegistrationCallback runs.
// Subscription events are queued by gRPC's threads (watch updates), the
// re-read threads (after compaction or a correction), or, for `existing`
// hosts, the thread calling Subscribe...; they are popped on the
// application's own. Queuing never waits: see Subscription.
class Client {
 public:
  // InvalidArgument, naming the bad value, for bad endpoints or options.
  // Connects lazily: an unreachable etcd shows in the calls.
  static absl::StatusOr<std::unique_ptr<Client>> Create(ClientOptions options);
  // Create(ClientOptionsFromEnvironment()).
  static absl::StatusOr<std::unique_ptr<Client>> FromEnvironment();
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Registers `host` as a host of `service` and returns at once; the work
  // goes on in the background (see Registration), and Registration::host()
  // gives the record written, with its uuid. A Host passed here is taken as
  // its HostSpec: its service_name and uuid are Register's to decide.
  // InvalidArgument, naming the bad value, for an invalid service name
  // (empty, '/', whitespace or control characters, over 255 bytes), an empty
  // hostname, or a port that is not a number from 1 to 65535 under a
  // non-empty scheme. Nothing is written then.
  absl::StatusOr<std::unique_ptr<Registration>> Register(
      absl::string_view service, HostSpec host, RegisterOptions options = {},
      RegistrationCallback on_event = nullptr);

  // Reads the service's hosts and record in one round trip. Unavailable or
  // DeadlineExceeded when etcd cannot be reached in time; InvalidArgument for
  // an invalid service name. A malformed host record is skipped.
  absl::StatusOr<ServiceHosts> Get(absl::string_view service);
  // The same, read as `options` say. InvalidArgument for a negative timeout.
  absl::StatusOr<ServiceHosts> Get(absl::string_view service,
                                   const GetOptions& options);
  // The hosts and record of each of `services`, in that order, all read at
  // one etcd revision: together they show one moment, which separate Gets
  // may not (one service's host that went may show beside another's that
  // came after it). One round trip for up to 64 services, one more for each
  // further 64, all within the one timeout. Get's errors, naming the first
  // invalid service name.
  absl::StatusOr<std::vector<ServiceHosts>> GetMany(
      const std::vector<std::string>& services,
      const GetOptions& options = GetOptions{});
  // The same, keeping only the hosts of `shard`: a shard without hosts is
  // not an error here, but in ServiceHosts::All() and what uses it, as in
  // the Go package.
  absl::StatusOr<ServiceHosts> GetForShard(absl::string_view service,
                                           absl::string_view shard,
                                           const GetOptions& options = {});
  // Every service with a host or a record, sorted by name, read in one
  // round trip.
  absl::StatusOr<std::vector<ServiceSummary>> ListServices();
  // The hosts of `service` (empty: of every service) with their health, in
  // one round trip: online hosts, and offline those that went within their
  // retention (etcdisc/fleet.h). Sorted by service, then online first, then
  // hostname and uuid. A malformed health record is shown as no health.
  absl::StatusOr<std::vector<FleetHost>> Fleet(absl::string_view service = "");

  // Hosts of `service` whose keys are created after this call returns (or,
  // with `existing`, present now too). Unavailable when etcd cannot be read
  // to start; afterwards the subscription survives reconnects, member
  // failures and compaction, losing and repeating nothing.
  absl::StatusOr<std::unique_ptr<Subscription<Host>>> SubscribeNew(
      absl::string_view service, SubscribeOptions options = {});
  // Uuids of hosts of `service` whose keys are deleted or expire after this
  // call returns.
  absl::StatusOr<std::unique_ptr<Subscription<std::string>>> SubscribeDown(
      absl::string_view service);

  // New and Down events of `service` in one stream, in etcd's order: what
  // SubscribeNew and SubscribeDown give separately, with their promises.
  absl::StatusOr<std::unique_ptr<Subscription<HostEvent>>> Subscribe(
      absl::string_view service, SubscribeOptions options = {});

  ClientStats Stats() const;
  // A snapshot of what the client is doing, for monitoring; render it with
  // PrometheusText() (etcdisc/metrics.h, which documents every metric).
  // Cheap enough to take on every scrape: one short lock per registration
  // and subscription.
  ClientMetrics Metrics() const;

 private:
  friend struct internal::ClientAccess;
  explicit Client(std::shared_ptr<internal::ClientCore> core);
  std::shared_ptr<internal::ClientCore> core_;
  // Shared by the health records of this client's registrations.
  std::shared_ptr<internal::HealthLeases> health_leases_;
};

}  // namespace etcdisc

#endif  // ETCDISC_CLIENT_H_
