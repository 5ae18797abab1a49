// Taking a member's key: create it if absent, or free it from a holder that
// is provably dead (Join's rule, in etcdisc/membership.h).
#ifndef ETCDISC_MEMBERSHIP_NODE_KEY_H_
#define ETCDISC_MEMBERSHIP_NODE_KEY_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "discovery/client_core.h"

namespace etcdisc::internal {

struct NodeKey {
  std::string cluster;
  std::string node;
  std::string key;    // KeyLayout::NodeKey(cluster, node)
  std::string value;  // EncodeMember(...)
  std::string token;  // MemberRecord::token in `value`.
};

// Creates `node.key` with `node.value` under `lease`, by Join's rule: when a
// running process of this machine holds it, AlreadyExists at once; when a
// process of this machine that is gone holds it, revokes its lease and
// takes it; when a process elsewhere holds it, waits for its lease to run
// out (at most its remaining TTL + 1.5 s) and takes it, or fails with
// AlreadyExists if it is still held then. A key holding `node.token` is this
// membership's own earlier write, whose answer was lost: under `lease` it is
// taken as it is; under another lease (one that could not be revoked) that
// lease is revoked first. Returns the key's create revision. etcd's errors
// as they come.
absl::StatusOr<int64_t> TakeNodeKey(ClientCore& core, const NodeKey& node,
                                    int64_t lease);

}  // namespace etcdisc::internal

#endif  // ETCDISC_MEMBERSHIP_NODE_KEY_H_
