#include "membership/node_key.h"

#include <atomic>
#include <chrono>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "membership/member_record.h"
#include "membership/process_id.h"
#include "util/log.h"
#include "util/status_macros.h"

namespace etcdisc::internal {
namespace {

// Beyond the holder's remaining TTL (which etcd rounds down to seconds):
// etcd's expiry scan runs every 500 ms.
constexpr auto kExpirySlack = std::chrono::milliseconds(1500);
// Rounds of "held, freed, taken by another meanwhile" before giving up.
constexpr int kMaxRounds = 4;

std::string Taken(const NodeKey& node) {
  return absl::StrCat("node id \"", node.node, "\" is taken in cluster \"",
                      node.cluster, "\"");
}

// Waits until `holder` is deleted, for as long as its lease can last
// without a refresh. OK when it went; AlreadyExists when it stayed.
absl::Status AwaitExpiry(ClientCore& core, const NodeKey& node,
                         const KeyValue& holder, int64_t revision,
                         const std::string& hostname) {
  ETCDISC_ASSIGN_OR_RETURN(auto ttl,
                           core.etcd().lease().TimeToLive(holder.lease, false));
  if (ttl.ttl_seconds < 0) return absl::OkStatus();  // Gone already.
  const auto wait = std::chrono::seconds(ttl.ttl_seconds) + kExpirySlack;
  auto gone = std::make_shared<absl::Notification>();
  auto told = std::make_shared<std::atomic<bool>>(false);
  WatchOptions watch;
  watch.key = node.key;
  watch.start_revision = revision + 1;
  const WatchId id =
      core.etcd().watch().Watch(watch, [gone, told](WatchUpdate update) {
        bool deleted = !update.status.ok();  // Look again.
        for (const WatchEvent& event : update.events) {
          deleted |= event.type == WatchEvent::Type::kDelete;
        }
        if (deleted && !told->exchange(true)) gone->Notify();
      });
  const bool went =
      gone->WaitForNotificationWithTimeout(absl::FromChrono(wait));
  core.etcd().watch().Cancel(id);
  if (went) return absl::OkStatus();
  return absl::AlreadyExistsError(absl::StrCat(
      Taken(node), " by a live process on ", hostname,
      ": its lease was refreshed while this join waited ",
      absl::FormatDuration(absl::FromChrono(wait)), " for it to expire"));
}

absl::Status RevokeIfThere(ClientCore& core, int64_t lease) {
  absl::Status s = core.etcd().lease().Revoke(lease);
  return s.ok() || absl::IsNotFound(s) ? absl::OkStatus() : s;
}

// Whether `holder` is a write of this very membership (its token).
bool IsOwnWrite(ClientCore& core, const NodeKey& node,
                const KeyValue& holder) {
  auto record =
      MemberFromKeyValue(core.keys().NodesPrefix(node.cluster), holder);
  return record.ok() && !node.token.empty() && record->token == node.token;
}

// Frees the key from `holder` if it is provably dead (OK), or says who
// holds it (AlreadyExists).
absl::Status FreeFromHolder(ClientCore& core, const NodeKey& node,
                            const KeyValue& holder, int64_t revision) {
  const std::string prefix = core.keys().NodesPrefix(node.cluster);
  auto record = MemberFromKeyValue(prefix, holder);
  const std::string process = record.ok() ? record->process : "";
  const std::string hostname = record.ok() && !record->member.hostname.empty()
                                   ? record->member.hostname
                                   : "another machine";
  switch (JudgeProcess(process)) {
    case ProcessState::kRunning:
      return absl::AlreadyExistsError(
          absl::StrCat(Taken(node), " by a running process (PID ",
                       ProcessIdPid(process), ") on this machine"));
    case ProcessState::kGone:
      ETCDISC_LOG(kInfo,
                  absl::StrCat(Taken(node), " by PID ", ProcessIdPid(process),
                               ", which has ended: revoking its lease"));
      if (holder.lease == 0) break;
      return RevokeIfThere(core, holder.lease);
    case ProcessState::kElsewhere:
      if (holder.lease == 0) break;
      return AwaitExpiry(core, node, holder, revision, hostname);
  }
  return absl::AlreadyExistsError(absl::StrCat(
      Taken(node), " by a key without a lease, which never expires: delete ",
      node.key, " if no member holds it"));
}

}  // namespace

absl::StatusOr<int64_t> TakeNodeKey(ClientCore& core, const NodeKey& node,
                                    int64_t lease) {
  for (int round = 0; round < kMaxRounds; ++round) {
    TxnRequest txn;
    txn.compares.push_back(Compare::Missing(node.key));
    txn.success.push_back(TxnOp::Put({node.key, node.value, lease, false}));
    RangeRequest read;
    read.key = node.key;
    txn.failure.push_back(TxnOp::Range(read));
    ETCDISC_ASSIGN_OR_RETURN(TxnResponse answer, core.etcd().kv().Txn(txn));
    if (answer.succeeded) return answer.revision;
    if (answer.responses.empty() || answer.responses[0].range.kvs.empty()) {
      continue;  // Not seen: a Txn's compare and read are one step.
    }
    const KeyValue& holder = answer.responses[0].range.kvs[0];
    if (IsOwnWrite(core, node, holder)) {
      if (holder.lease == lease) return holder.create_revision;
      ETCDISC_RETURN_IF_ERROR(RevokeIfThere(core, holder.lease));
      continue;
    }
    ETCDISC_RETURN_IF_ERROR(
        FreeFromHolder(core, node, holder, answer.revision));
  }
  return absl::AlreadyExistsError(absl::StrCat(
      Taken(node), ": each time it was freed another process took it"));
}

}  // namespace etcdisc::internal
