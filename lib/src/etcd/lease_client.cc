#include "etcd/lease_client.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "etcd/proto_convert.h"

namespace etcdisc::internal {

absl::StatusOr<LeaseGrant> LeaseClient::Grant(
    std::chrono::milliseconds ttl, int64_t id,
    std::chrono::milliseconds timeout) {
  if (ttl.count() <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("lease TTL must be above zero, got ", ttl.count(), "ms"));
  }
  etcdserverpb::LeaseGrantRequest in;
  in.set_ttl((ttl.count() + 999) / 1000);
  in.set_id(id);
  etcdserverpb::LeaseGrantResponse out;
  // A lease granted twice is harmless (the spare one expires; with a chosen
  // id there is none), so retry.
  absl::Status status = connection_->Call(
      "LeaseGrant", timeout, /*retry=*/true,
      [&](const MemberStubs& m, grpc::ClientContext* ctx) {
        return m.lease->LeaseGrant(ctx, in, &out);
      });
  if (id != 0 && absl::IsFailedPrecondition(status) &&
      absl::StrContains(status.message(), "lease already exists")) {
    return LeaseGrant{id, in.ttl()};  // An earlier try of ours got through.
  }
  if (!status.ok()) return status;
  if (!out.error().empty()) {
    return absl::UnavailableError(absl::StrCat("etcd LeaseGrant: ", out.error()));
  }
  return LeaseGrant{out.id(), out.ttl()};
}

absl::Status LeaseClient::Revoke(int64_t id,
                                 std::chrono::milliseconds timeout) {
  etcdserverpb::LeaseRevokeRequest in;
  in.set_id(id);
  etcdserverpb::LeaseRevokeResponse out;
  return connection_->Call(
      "LeaseRevoke", timeout, /*retry=*/true,
      [&](const MemberStubs& m, grpc::ClientContext* ctx) {
        return m.lease->LeaseRevoke(ctx, in, &out);
      });
}

absl::StatusOr<LeaseTimeToLive> LeaseClient::TimeToLive(int64_t id,
                                                        bool keys) {
  etcdserverpb::LeaseTimeToLiveRequest in;
  in.set_id(id);
  in.set_keys(keys);
  etcdserverpb::LeaseTimeToLiveResponse out;
  absl::Status status = connection_->Call(
      "LeaseTimeToLive", timeout_, /*retry=*/true,
      [&](const MemberStubs& m, grpc::ClientContext* ctx) {
        return m.lease->LeaseTimeToLive(ctx, in, &out);
      });
  if (!status.ok()) return status;
  LeaseTimeToLive result;
  result.id = out.id();
  result.ttl_seconds = out.ttl();
  result.granted_ttl_seconds = out.grantedttl();
  result.keys.assign(out.keys().begin(), out.keys().end());
  return result;
}

}  // namespace etcdisc::internal
