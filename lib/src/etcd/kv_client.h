// etcd's KV service: reads, writes, transactions and compaction.
#ifndef ETCDISC_ETCD_KV_CLIENT_H_
#define ETCDISC_ETCD_KV_CLIENT_H_

#include <chrono>
#include <cstdint>

#include "absl/status/statusor.h"
#include "etcd/connection.h"
#include "etcd/types.h"

namespace etcdisc::internal {

// Unary KV calls, each with a deadline of `timeout`. Reads move to the next
// member and try again on a member failure; writes move on but are not
// repeated (a write that timed out may have been applied). Failures come back
// as absl codes: Unavailable / DeadlineExceeded when no member answered in
// time, OutOfRange for a read at a compacted revision, Aborted never (a Txn
// whose compares fail succeeds with succeeded == false).
// Safe for concurrent use; `connection` must outlive it.
class KvClient {
 public:
  KvClient(Connection* connection, std::chrono::milliseconds timeout)
      : connection_(connection), timeout_(timeout) {}

  absl::StatusOr<RangeResponse> Range(const RangeRequest& request);
  absl::StatusOr<PutResponse> Put(const PutRequest& request);
  absl::StatusOr<DeleteResponse> Delete(const DeleteRequest& request);
  absl::StatusOr<TxnResponse> Txn(const TxnRequest& request);
  // The same within `timeout` instead of the client's.
  absl::StatusOr<TxnResponse> Txn(const TxnRequest& request,
                                  std::chrono::milliseconds timeout);
  // Drops the history before `revision`; `physical` waits until it is gone
  // from the backend. OutOfRange when it was compacted already or is in the
  // future.
  absl::Status Compact(int64_t revision, bool physical);

 private:
  Connection* connection_;
  std::chrono::milliseconds timeout_;
};

}  // namespace etcdisc::internal

#endif  // ETCDISC_ETCD_KV_CLIENT_H_
