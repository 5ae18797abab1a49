#include "etcd/proto_convert.h"

namespace etcdisc::internal {
namespace {

using etcdserverpb::Compare_CompareResult;
using etcdserverpb::Compare_CompareTarget;

Compare_CompareResult ResultToProto(Compare::Result result) {
  switch (result) {
    case Compare::Result::kEqual:
      return etcdserverpb::Compare::EQUAL;
    case Compare::Result::kGreater:
      return etcdserverpb::Compare::GREATER;
    case Compare::Result::kLess:
      return etcdserverpb::Compare::LESS;
    case Compare::Result::kNotEqual:
      return etcdserverpb::Compare::NOT_EQUAL;
  }
  return etcdserverpb::Compare::EQUAL;
}

etcdserverpb::Compare CompareToProto(const Compare& compare) {
  etcdserverpb::Compare out;
  out.set_key(compare.key);
  out.set_result(ResultToProto(compare.result));
  switch (compare.target) {
    case Compare::Target::kVersion:
      out.set_target(etcdserverpb::Compare::VERSION);
      out.set_version(compare.number);
      break;
    case Compare::Target::kCreateRevision:
      out.set_target(etcdserverpb::Compare::CREATE);
      out.set_create_revision(compare.number);
      break;
    case Compare::Target::kModRevision:
      out.set_target(etcdserverpb::Compare::MOD);
      out.set_mod_revision(compare.number);
      break;
    case Compare::Target::kValue:
      out.set_target(etcdserverpb::Compare::VALUE);
      out.set_value(compare.value);
      break;
    case Compare::Target::kLease:
      out.set_target(etcdserverpb::Compare::LEASE);
      out.set_lease(compare.number);
      break;
  }
  return out;
}

etcdserverpb::RequestOp OpToProto(const TxnOp& op) {
  etcdserverpb::RequestOp out;
  switch (op.kind) {
    case TxnOp::Kind::kRange:
      *out.mutable_request_range() = ToProto(op.range);
      break;
    case TxnOp::Kind::kPut:
      *out.mutable_request_put() = ToProto(op.put);
      break;
    case TxnOp::Kind::kDelete:
      *out.mutable_request_delete_range() = ToProto(op.del);
      break;
  }
  return out;
}

TxnOpResponse OpFromProto(const etcdserverpb::ResponseOp& op) {
  TxnOpResponse out;
  switch (op.response_case()) {
    case etcdserverpb::ResponseOp::kResponseRange:
      out.kind = TxnOp::Kind::kRange;
      out.range = FromProto(op.response_range());
      break;
    case etcdserverpb::ResponseOp::kResponseDeleteRange:
      out.kind = TxnOp::Kind::kDelete;
      out.del = FromProto(op.response_delete_range());
      break;
    default:
      out.kind = TxnOp::Kind::kPut;
      out.put = FromProto(op.response_put());
      break;
  }
  return out;
}

}  // namespace

KeyValue FromProto(const mvccpb::KeyValue& kv) {
  KeyValue out;
  out.key = kv.key();
  out.value = kv.value();
  out.create_revision = kv.create_revision();
  out.mod_revision = kv.mod_revision();
  out.version = kv.version();
  out.lease = kv.lease();
  return out;
}

WatchEvent FromProto(const mvccpb::Event& event) {
  WatchEvent out;
  out.type = event.type() == mvccpb::Event::DELETE ? WatchEvent::Type::kDelete
                                                   : WatchEvent::Type::kPut;
  out.kv = FromProto(event.kv());
  if (event.has_prev_kv()) out.prev_kv = FromProto(event.prev_kv());
  return out;
}

RangeResponse FromProto(const etcdserverpb::RangeResponse& response) {
  RangeResponse out;
  out.revision = response.header().revision();
  out.kvs.reserve(response.kvs_size());
  for (const auto& kv : response.kvs()) out.kvs.push_back(FromProto(kv));
  out.more = response.more();
  out.count = response.count();
  return out;
}

PutResponse FromProto(const etcdserverpb::PutResponse& response) {
  PutResponse out;
  out.revision = response.header().revision();
  if (response.has_prev_kv()) out.prev_kv = FromProto(response.prev_kv());
  return out;
}

DeleteResponse FromProto(const etcdserverpb::DeleteRangeResponse& response) {
  DeleteResponse out;
  out.revision = response.header().revision();
  out.deleted = response.deleted();
  for (const auto& kv : response.prev_kvs()) {
    out.prev_kvs.push_back(FromProto(kv));
  }
  return out;
}

TxnResponse FromProto(const etcdserverpb::TxnResponse& response) {
  TxnResponse out;
  out.revision = response.header().revision();
  out.succeeded = response.succeeded();
  for (const auto& op : response.responses()) {
    out.responses.push_back(OpFromProto(op));
  }
  return out;
}

Member FromProto(const etcdserverpb::Member& member) {
  Member out;
  out.id = member.id();
  out.name = member.name();
  out.peer_urls.assign(member.peerurls().begin(), member.peerurls().end());
  out.client_urls.assign(member.clienturls().begin(),
                         member.clienturls().end());
  out.is_learner = member.islearner();
  return out;
}

MemberStatus FromProto(const etcdserverpb::StatusResponse& response) {
  MemberStatus out;
  out.member_id = response.header().member_id();
  out.leader_id = response.leader();
  out.raft_term = response.raftterm();
  out.revision = response.header().revision();
  out.version = response.version();
  out.errors.assign(response.errors().begin(), response.errors().end());
  return out;
}

etcdserverpb::RangeRequest ToProto(const RangeRequest& request) {
  etcdserverpb::RangeRequest out;
  out.set_key(request.key);
  out.set_range_end(request.range_end);
  out.set_limit(request.limit);
  out.set_revision(request.revision);
  out.set_keys_only(request.keys_only);
  out.set_count_only(request.count_only);
  out.set_serializable(request.serializable);
  return out;
}

etcdserverpb::PutRequest ToProto(const PutRequest& request) {
  etcdserverpb::PutRequest out;
  out.set_key(request.key);
  out.set_value(request.value);
  out.set_lease(request.lease);
  out.set_prev_kv(request.prev_kv);
  return out;
}

etcdserverpb::DeleteRangeRequest ToProto(const DeleteRequest& request) {
  etcdserverpb::DeleteRangeRequest out;
  out.set_key(request.key);
  out.set_range_end(request.range_end);
  out.set_prev_kv(request.prev_kv);
  return out;
}

etcdserverpb::TxnRequest ToProto(const TxnRequest& request) {
  etcdserverpb::TxnRequest out;
  for (const auto& c : request.compares) *out.add_compare() = CompareToProto(c);
  for (const auto& op : request.success) *out.add_success() = OpToProto(op);
  for (const auto& op : request.failure) *out.add_failure() = OpToProto(op);
  return out;
}

}  // namespace etcdisc::internal
