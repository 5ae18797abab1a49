// ClusterView, Members() and DefaultNodeId(): reading a cluster.
#include <algorithm>
#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"
#include "discovery/client_access.h"
#include "discovery/keys.h"
#include "etcdisc/membership.h"
#include "membership/cluster_state.h"
#include "membership/member_record.h"
#include "util/log.h"
#include "util/status_macros.h"

namespace etcdisc {

absl::StatusOr<std::unique_ptr<ClusterView>> ClusterView::Open(
    Client& client, absl::string_view cluster) {
  ETCDISC_ASSIGN_OR_RETURN(std::string name, internal::ClusterName(cluster));
  auto state = std::make_shared<internal::ClusterState>(
      internal::ClientAccess::SharedCore(client), std::move(name));
  ETCDISC_RETURN_IF_ERROR(state->Start());
  return std::unique_ptr<ClusterView>(new ClusterView(std::move(state)));
}

ClusterView::ClusterView(std::shared_ptr<internal::ClusterState> state)
    : state_(std::move(state)) {}

ClusterView::~ClusterView() {
  state_->Stop();
  state_->AwaitCallbacksDone();
  state_->ReleaseCallbacks();
}

const std::string& ClusterView::cluster() const { return state_->cluster(); }
std::vector<Member> ClusterView::members() const { return state_->members(); }
std::optional<Member> ClusterView::leader() const { return state_->leader(); }
int64_t ClusterView::revision() const { return state_->revision(); }
absl::Status ClusterView::status() const { return state_->status(); }

uint64_t ClusterView::OnEvent(EventCallback callback) {
  return state_->AddCallback(std::move(callback));
}

void ClusterView::RemoveCallback(uint64_t id) {
  state_->RemoveCallback(id);
  state_->AwaitCallbacksDone();
}

absl::StatusOr<std::vector<Member>> Members(Client& client,
                                            absl::string_view cluster) {
  ETCDISC_ASSIGN_OR_RETURN(std::string name, internal::ClusterName(cluster));
  internal::ClientCore& core = internal::ClientAccess::Core(client);
  const std::string prefix = core.keys().NodesPrefix(name);
  ETCDISC_ASSIGN_OR_RETURN(
      auto read,
      core.etcd().kv().Range(internal::RangeRequest::Prefix(prefix)));
  std::vector<Member> out;
  for (const internal::KeyValue& kv : read.kvs) {
    auto record = internal::MemberFromKeyValue(prefix, kv);
    if (!record.ok()) {
      ETCDISC_LOG(kWarning,
                  absl::StrCat("skipping ", record.status().message()));
      continue;
    }
    out.push_back(std::move(record->member));
  }
  std::sort(out.begin(), out.end(), [](const Member& a, const Member& b) {
    return a.revision < b.revision;
  });
  return out;
}

std::string DefaultNodeId(const Client& client) {
  const std::string& host =
      internal::ClientAccess::Core(client).machine_hostname();
  const char* port = std::getenv("PORT");
  if (port == nullptr || *port == '\0') return host;
  return absl::StrCat(host, ":", port);
}

}  // namespace etcdisc
