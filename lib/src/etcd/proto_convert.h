// Conversions between etcd's protobuf messages and the plain values of
// etcd/types.h. Only the etcd layer includes this header.
#ifndef ETCDISC_ETCD_PROTO_CONVERT_H_
#define ETCDISC_ETCD_PROTO_CONVERT_H_

#include "etcd/types.h"
#include "kv.pb.h"
#include "rpc.pb.h"

namespace etcdisc::internal {

KeyValue FromProto(const mvccpb::KeyValue& kv);
WatchEvent FromProto(const mvccpb::Event& event);
RangeResponse FromProto(const etcdserverpb::RangeResponse& response);
PutResponse FromProto(const etcdserverpb::PutResponse& response);
DeleteResponse FromProto(const etcdserverpb::DeleteRangeResponse& response);
TxnResponse FromProto(const etcdserverpb::TxnResponse& response);
Member FromProto(const etcdserverpb::Member& member);
MemberStatus FromProto(const etcdserverpb::StatusResponse& response);

etcdserverpb::RangeRequest ToProto(const RangeRequest& request);
etcdserverpb::PutRequest ToProto(const PutRequest& request);
etcdserverpb::DeleteRangeRequest ToProto(const DeleteRequest& request);
etcdserverpb::TxnRequest ToProto(const TxnRequest& request);

}  // namespace etcdisc::internal

#endif  // ETCDISC_ETCD_PROTO_CONVERT_H_
