// Join() and Membership: the public front of a MembershipImpl, its view of
// the cluster and its cleanup callbacks.
#include "etcdisc/membership.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "discovery/client_access.h"
#include "discovery/keys.h"
#include "membership/cleanup.h"
#include "membership/member_record.h"
#include "membership/membership_impl.h"
#include "util/status_macros.h"

namespace etcdisc {

namespace {

absl::Status ValidateJoinOptions(const JoinOptions& options) {
  if (options.ttl < std::chrono::seconds(1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid membership TTL ",
        absl::FormatDuration(absl::FromChrono(options.ttl)), ": at least 1s"));
  }
  return internal::ValidateMeta(options.meta);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Membership>> Join(Client& client,
                                                 absl::string_view cluster,
                                                 absl::string_view node,
                                                 JoinOptions options) {
  ETCDISC_ASSIGN_OR_RETURN(std::string name, internal::ClusterName(cluster));
  const std::string id(node.empty() ? DefaultNodeId(client) : node);
  ETCDISC_RETURN_IF_ERROR(internal::ValidateKeySegment("node id", id));
  ETCDISC_RETURN_IF_ERROR(ValidateJoinOptions(options));
  auto core = internal::ClientAccess::SharedCore(client);
  auto impl = std::make_shared<internal::MembershipImpl>(core, name, id,
                                                         std::move(options));
  ETCDISC_RETURN_IF_ERROR(impl->Join());
  absl::Status tracked = core->Track(impl);
  auto view = tracked.ok()
                  ? ClusterView::Open(client, name)
                  : absl::StatusOr<std::unique_ptr<ClusterView>>(tracked);
  if (!view.ok()) {
    impl->Leave().IgnoreError();
    return view.status();
  }
  auto cleanup = std::make_shared<internal::CleanupRunner>(core, impl);
  (*view)->OnEvent([impl, cleanup](const MembershipEvent& event) {
    if (event.kind != MembershipEvent::Kind::kDown) return;
    impl->OnDown(event.member);
    cleanup->OnDown(event.member);
  });
  // A key gone before the callback was added is reported to it by no event:
  // it shows as missing from the view, which has every change until then.
  Member self;
  self.node = id;
  self.revision = impl->revision();
  bool present = false;
  for (const Member& m : (*view)->members()) {
    present |= m.node == self.node && m.revision == self.revision;
  }
  if (!present) impl->OnDown(self);
  return std::unique_ptr<Membership>(
      new Membership(std::move(impl), std::move(cleanup), std::move(*view)));
}

Membership::Membership(std::shared_ptr<internal::MembershipImpl> impl,
                       std::shared_ptr<internal::CleanupRunner> cleanup,
                       std::unique_ptr<ClusterView> view)
    : impl_(std::move(impl)),
      cleanup_(std::move(cleanup)),
      view_(std::move(view)) {}

Membership::~Membership() {
  Leave().IgnoreError();
  cleanup_->AwaitCallbacksDone();
  cleanup_->ReleaseCallbacks();
  // view_ goes next, waiting for its own callback under way.
}

const std::string& Membership::cluster() const { return impl_->cluster(); }
const std::string& Membership::node() const { return impl_->node(); }
int64_t Membership::revision() const { return impl_->revision(); }
absl::Status Membership::status() const { return impl_->status(); }
ClusterView& Membership::view() { return *view_; }

bool Membership::IsLeader() const { return impl_->IsLeader(view_->leader()); }

absl::StatusOr<uint64_t> Membership::OnNodeDown(NodeDownCallback callback,
                                                NodeDownOptions options) {
  ETCDISC_RETURN_IF_ERROR(
      internal::ValidateKeySegment("cleanup job name", options.job));
  if (!callback) {
    return absl::InvalidArgumentError("OnNodeDown: the callback is empty");
  }
  return cleanup_->Add(std::move(callback), std::move(options));
}

void Membership::RemoveCallback(uint64_t id) {
  cleanup_->Remove(id);
  cleanup_->AwaitCallbacksDone();
}

absl::Status Membership::Leave() {
  cleanup_->Stop();
  return impl_->Leave();
}

}  // namespace etcdisc
