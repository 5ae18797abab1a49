#include "etcd/kv_client.h"

#include "etcd/proto_convert.h"

namespace etcdisc::internal {

absl::StatusOr<RangeResponse> KvClient::Range(const RangeRequest& request) {
  const etcdserverpb::RangeRequest in = ToProto(request);
  etcdserverpb::RangeResponse out;
  absl::Status status = connection_->Call(
      "Range", timeout_, /*retry=*/true,
      [&](const MemberStubs& m, grpc::ClientContext* ctx) {
        return m.kv->Range(ctx, in, &out);
      });
  if (!status.ok()) return status;
  return FromProto(out);
}

absl::StatusOr<PutResponse> KvClient::Put(const PutRequest& request) {
  const etcdserverpb::PutRequest in = ToProto(request);
  etcdserverpb::PutResponse out;
  absl::Status status = connection_->Call(
      "Put", timeout_, /*retry=*/false,
      [&](const MemberStubs& m, grpc::ClientContext* ctx) {
        return m.kv->Put(ctx, in, &out);
      });
  if (!status.ok()) return status;
  return FromProto(out);
}

absl::StatusOr<DeleteResponse> KvClient::Delete(const DeleteRequest& request) {
  const etcdserverpb::DeleteRangeRequest in = ToProto(request);
  etcdserverpb::DeleteRangeResponse out;
  absl::Status status = connection_->Call(
      "DeleteRange", timeout_, /*retry=*/false,
      [&](const MemberStubs& m, grpc::ClientContext* ctx) {
        return m.kv->DeleteRange(ctx, in, &out);
      });
  if (!status.ok()) return status;
  return FromProto(out);
}

absl::StatusOr<TxnResponse> KvClient::Txn(const TxnRequest& request) {
  return Txn(request, timeout_);
}

absl::StatusOr<TxnResponse> KvClient::Txn(const TxnRequest& request,
                                          std::chrono::milliseconds timeout) {
  const etcdserverpb::TxnRequest in = ToProto(request);
  etcdserverpb::TxnResponse out;
  // A transaction that only reads is as safe to repeat as a Range.
  bool read_only = true;
  for (const auto* ops : {&request.success, &request.failure}) {
    for (const TxnOp& op : *ops) read_only &= op.kind == TxnOp::Kind::kRange;
  }
  absl::Status status = connection_->Call(
      "Txn", timeout, /*retry=*/read_only,
      [&](const MemberStubs& m, grpc::ClientContext* ctx) {
        return m.kv->Txn(ctx, in, &out);
      });
  if (!status.ok()) return status;
  return FromProto(out);
}

absl::Status KvClient::Compact(int64_t revision, bool physical) {
  etcdserverpb::CompactionRequest in;
  in.set_revision(revision);
  in.set_physical(physical);
  etcdserverpb::CompactionResponse out;
  return connection_->Call(
      "Compact", timeout_, /*retry=*/true,
      [&](const MemberStubs& m, grpc::ClientContext* ctx) {
        return m.kv->Compact(ctx, in, &out);
      });
}

}  // namespace etcdisc::internal
