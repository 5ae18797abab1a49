// Plain C++ values for etcd's requests and responses, so that the layers above
// the etcd layer never see protobuf or gRPC types.
#ifndef ETCDISC_ETCD_TYPES_H_
#define ETCDISC_ETCD_TYPES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace etcdisc::internal {

// The end of the key range holding every key that starts with `prefix`:
// `prefix` with its last byte below 0xff incremented and what follows dropped.
// For an empty prefix, or one of only 0xff bytes, returns "\0" (all keys).
std::string PrefixRangeEnd(const std::string& prefix);

// A key in etcd, as it stood at some revision.
struct KeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;
  int64_t lease = 0;  // 0: no lease.
};

struct RangeRequest {
  std::string key;
  std::string range_end;  // Empty: just `key`. See PrefixRangeEnd().
  int64_t limit = 0;      // 0: no limit.
  int64_t revision = 0;   // 0: the newest revision.
  bool keys_only = false;
  bool count_only = false;
  bool serializable = false;  // Read from the member's local state.

  static RangeRequest Prefix(const std::string& prefix) {
    RangeRequest r;
    r.key = prefix;
    r.range_end = PrefixRangeEnd(prefix);
    return r;
  }
};

struct RangeResponse {
  int64_t revision = 0;  // The store's revision when the read was served.
  std::vector<KeyValue> kvs;
  bool more = false;  // More keys than `limit` in the range.
  int64_t count = 0;  // Keys in the range, whatever the limit.
};

struct PutRequest {
  std::string key;
  std::string value;
  int64_t lease = 0;  // 0: no lease.
  bool prev_kv = false;
};

struct PutResponse {
  int64_t revision = 0;
  std::optional<KeyValue> prev_kv;  // Set when asked for and the key existed.
};

struct DeleteRequest {
  std::string key;
  std::string range_end;  // Empty: just `key`.
  bool prev_kv = false;
};

struct DeleteResponse {
  int64_t revision = 0;
  int64_t deleted = 0;
  std::vector<KeyValue> prev_kvs;
};

// One condition of a transaction, on one key.
struct Compare {
  enum class Target { kVersion, kCreateRevision, kModRevision, kValue, kLease };
  enum class Result { kEqual, kGreater, kLess, kNotEqual };

  std::string key;
  Target target = Target::kVersion;
  Result result = Result::kEqual;
  int64_t number = 0;   // For every target but kValue.
  std::string value;    // For kValue.

  // The key does not exist (its create revision is 0).
  static Compare Missing(std::string key);
  static Compare ModRevision(std::string key, Result result, int64_t revision);
  static Compare Value(std::string key, Result result, std::string value);
  static Compare Lease(std::string key, Result result, int64_t lease);
};

// One operation of a transaction.
struct TxnOp {
  enum class Kind { kRange, kPut, kDelete };
  Kind kind = Kind::kPut;
  RangeRequest range;
  PutRequest put;
  DeleteRequest del;

  static TxnOp Range(RangeRequest r);
  static TxnOp Put(PutRequest p);
  static TxnOp Delete(DeleteRequest d);
};

struct TxnOpResponse {
  TxnOp::Kind kind = TxnOp::Kind::kPut;
  RangeResponse range;
  PutResponse put;
  DeleteResponse del;
};

struct TxnRequest {
  std::vector<Compare> compares;  // All must hold for `success` to run.
  std::vector<TxnOp> success;
  std::vector<TxnOp> failure;
};

struct TxnResponse {
  int64_t revision = 0;
  bool succeeded = false;
  std::vector<TxnOpResponse> responses;  // One per op of the branch taken.
};

struct LeaseGrant {
  int64_t id = 0;
  int64_t ttl_seconds = 0;  // As granted: etcd may raise a TTL to its minimum.
};

struct LeaseTimeToLive {
  int64_t id = 0;
  int64_t ttl_seconds = 0;  // Remaining; -1 when the lease does not exist.
  int64_t granted_ttl_seconds = 0;
  std::vector<std::string> keys;
};

struct Member {
  uint64_t id = 0;
  std::string name;
  std::vector<std::string> peer_urls;
  std::vector<std::string> client_urls;
  bool is_learner = false;
};

// One member's view of itself and of the cluster.
struct MemberStatus {
  uint64_t member_id = 0;
  uint64_t leader_id = 0;  // 0: the member knows no leader.
  uint64_t raft_term = 0;
  int64_t revision = 0;
  std::string version;
  std::vector<std::string> errors;
};

// A change to one key, as a watch delivers it.
struct WatchEvent {
  enum class Type { kPut, kDelete };
  Type type = Type::kPut;
  KeyValue kv;  // For a delete: the key, and mod_revision = the delete's.
  std::optional<KeyValue> prev_kv;  // Set when the watch asked for it.
};

}  // namespace etcdisc::internal

#endif  // ETCDISC_ETCD_TYPES_H_
