// What a registration needs from the world around it: etcd's calls, the
// lease keeper and watches, a timer, worker threads and the callback thread.
// A client gives the real one (ClientRegistrationEnv); unit tests give a
// scripted one, to drive a registration through every transition of its
// state machine without etcd.
#ifndef ETCDISC_DISCOVERY_REGISTRATION_ENV_H_
#define ETCDISC_DISCOVERY_REGISTRATION_ENV_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "discovery/keys.h"
#include "discovery/service_record_watches.h"
#include "discovery/shared_leases.h"
#include "etcd/lease_keeper.h"
#include "etcd/types.h"
#include "etcd/watch_hub.h"

namespace etcdisc::internal {

class ClientCore;

// Implementations are safe for concurrent use.
class RegistrationEnv {
 public:
  virtual ~RegistrationEnv() = default;

  virtual const KeyLayout& keys() const = 0;
  // The deadline of one call to etcd.
  virtual std::chrono::milliseconds call_timeout() const = 0;
  // Whether the client is shut down (a handle that outlives it is inert).
  virtual bool shut_down() const = 0;

  // Leases: a lease to write under (granted now or spare), kept alive until
  // forgotten; `on_lost` runs when etcd says it is gone.
  virtual absl::StatusOr<LeaseGrant> TakeLease(
      std::chrono::milliseconds ttl) = 0;
  virtual void RefillLeases(std::chrono::milliseconds ttl) = 0;
  virtual void KeepLease(int64_t lease, int64_t ttl_seconds,
                         LeaseLostHandler on_lost) = 0;
  virtual void ForgetLease(int64_t lease) = 0;
  virtual absl::Status RevokeLease(int64_t lease,
                                   std::chrono::milliseconds timeout) = 0;
  // Shared leases (RegisterOptions::share_lease, discovery/shared_leases.h):
  // join the client's lease of `service` and `ttl` as `holder`, leave it
  // (the last holder revokes it), report it gone (every holder hears it).
  virtual absl::StatusOr<int64_t> JoinSharedLease(
      const std::string& service, std::chrono::milliseconds ttl,
      uint64_t holder,
      SharedLeaseLost on_lost) = 0;
  virtual void LeaveSharedLease(int64_t lease, uint64_t holder,
                                std::chrono::milliseconds timeout) = 0;
  virtual void SharedLeaseGone(int64_t lease, const absl::Status& why) = 0;

  // Keys. A write under a lease etcd no longer has fails with NotFound.
  virtual absl::StatusOr<TxnResponse> Txn(const TxnRequest& txn) = 0;
  // The same within `timeout` instead of call_timeout().
  virtual absl::StatusOr<TxnResponse> Txn(const TxnRequest& txn,
                                          std::chrono::milliseconds timeout) = 0;
  virtual absl::StatusOr<PutResponse> Put(const PutRequest& put) = 0;
  virtual absl::StatusOr<RangeResponse> Range(const RangeRequest& read) = 0;
  virtual WatchId Watch(WatchOptions options, WatchHandler handler) = 0;
  virtual void CancelWatch(WatchId id) = 0;
  // The client's watch of a service record, shared by its registrations of
  // the service (discovery/service_record_watches.h): join it with what the
  // caller knows of the record at `from` - 1; leave it with the ticket.
  virtual int64_t JoinServiceRecord(const std::string& key, int64_t from,
                                    std::optional<KeyValue> known,
                                    RecordListener listener) = 0;
  virtual void LeaveServiceRecord(const std::string& key, int64_t ticket) = 0;

  // Threads. Post: on a worker that may wait on etcd (false once shut
  // down). RunAfter: short work after a delay. PostCallback: on the
  // callback thread, in order. FlushCallbacks: returns once what was posted
  // so far has run.
  virtual bool Post(std::function<void()> work) = 0;
  virtual void RunAfter(std::chrono::steady_clock::duration delay,
                        std::function<void()> task) = 0;
  virtual void PostCallback(std::function<void()> callback) = 0;
  virtual void FlushCallbacks() = 0;
};

// The real one: a client's etcd connection, pools and threads.
std::shared_ptr<RegistrationEnv> ClientRegistrationEnv(
    std::shared_ptr<ClientCore> core);

}  // namespace etcdisc::internal

#endif  // ETCDISC_DISCOVERY_REGISTRATION_ENV_H_
