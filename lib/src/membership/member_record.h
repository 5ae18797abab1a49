// A cluster member's record as JSON, and the checks on what goes into it.
#ifndef ETCDISC_MEMBERSHIP_MEMBER_RECORD_H_
#define ETCDISC_MEMBERSHIP_MEMBER_RECORD_H_

#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "etcd/types.h"
#include "etcdisc/membership.h"

namespace etcdisc::internal {

// What a member writes: the public fields, the process that holds the key
// (see ProcessId), by which a joiner under the same id judges it, and a
// token drawn at random for each Membership, by which it knows its own
// writes (one whose answer was lost, say) from another's.
struct MemberRecord {
  etcdisc::Member member;
  std::string process;
  std::string token;
};

// {"node","hostname","since","meta","process","token"}; `since` as RFC 3339
// UTC with milliseconds; `member.revision` is not written (it is the key's).
std::string EncodeMember(const MemberRecord& record);

// The record stored at `kv` under `nodes_prefix`: the node id from the key,
// the revision from the key's create revision, the rest from the JSON
// (unknown fields ignored). InvalidArgument naming the key for a key of
// another shape or a malformed record.
absl::StatusOr<MemberRecord> MemberFromKeyValue(absl::string_view nodes_prefix,
                                                const KeyValue& kv);

// The cluster name used for an empty one.
inline constexpr absl::string_view kDefaultCluster = "default";

// `cluster`, or kDefaultCluster when empty; InvalidArgument naming it when
// it is not one key segment.
absl::StatusOr<std::string> ClusterName(absl::string_view cluster);

// InvalidArgument naming the entry when meta is out of JoinOptions' bounds.
absl::Status ValidateMeta(const std::map<std::string, std::string>& meta);

}  // namespace etcdisc::internal

#endif  // ETCDISC_MEMBERSHIP_MEMBER_RECORD_H_
