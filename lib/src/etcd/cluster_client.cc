#include "etcd/cluster_client.h"

#include "etcd/grpc_status.h"
#include "etcd/proto_convert.h"

namespace etcdisc::internal {

absl::StatusOr<std::vector<Member>> ClusterClient::MemberList() {
  etcdserverpb::MemberListRequest in;
  etcdserverpb::MemberListResponse out;
  absl::Status status = connection_->Call(
      "MemberList", timeout_, /*retry=*/true,
      [&](const MemberStubs& m, grpc::ClientContext* ctx) {
        return m.cluster->MemberList(ctx, in, &out);
      });
  if (!status.ok()) return status;
  std::vector<Member> members;
  for (const auto& m : out.members()) members.push_back(FromProto(m));
  return members;
}

absl::StatusOr<MemberStatus> ClusterClient::Status(size_t endpoint_index) {
  auto member = connection_->Member(endpoint_index);
  if (member == nullptr) {
    return absl::InvalidArgumentError("no such endpoint index");
  }
  const absl::Status connected = connection_->Connect(
      *member, std::chrono::steady_clock::now() + timeout_);
  if (!connected.ok()) return connected;
  grpc::ClientContext context;
  connection_->PrepareUnary(&context, timeout_);
  etcdserverpb::StatusRequest in;
  etcdserverpb::StatusResponse out;
  absl::Status status = FromGrpcStatus(
      member->maintenance->Status(&context, in, &out), "Status",
      member->endpoint);
  if (!status.ok()) return status;
  return FromProto(out);
}

}  // namespace etcdisc::internal
