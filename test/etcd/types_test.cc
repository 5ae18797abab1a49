#include "etcd/types.h"

#include "etcd/proto_convert.h"
#include "gtest/gtest.h"

namespace etcdisc::internal {
namespace {

TEST(PrefixRangeEndTest, IncrementsTheLastByte) {
  EXPECT_EQ(PrefixRangeEnd("/services/web/"), "/services/web0");
  EXPECT_EQ(PrefixRangeEnd("a"), "b");
}

TEST(PrefixRangeEndTest, DropsTrailingFfBytes) {
  EXPECT_EQ(PrefixRangeEnd(std::string("a\xff\xff", 3)), "b");
}

TEST(PrefixRangeEndTest, AllKeysForEmptyOrAllFf) {
  EXPECT_EQ(PrefixRangeEnd(""), std::string(1, '\0'));
  EXPECT_EQ(PrefixRangeEnd(std::string("\xff", 1)), std::string(1, '\0'));
}

TEST(ProtoConvertTest, TxnCarriesEveryCompareTarget) {
  TxnRequest txn;
  txn.compares.push_back(Compare::Missing("/a"));
  txn.compares.push_back(Compare::ModRevision("/b", Compare::Result::kLess, 7));
  txn.compares.push_back(Compare::Value("/c", Compare::Result::kNotEqual, "x"));
  txn.compares.push_back(Compare::Lease("/d", Compare::Result::kGreater, 9));
  txn.success.push_back(TxnOp::Put({"/a", "v", 42, true}));
  txn.failure.push_back(TxnOp::Delete({"/a", "", false}));
  const etcdserverpb::TxnRequest pb = ToProto(txn);

  ASSERT_EQ(pb.compare_size(), 4);
  EXPECT_EQ(pb.compare(0).target(), etcdserverpb::Compare::CREATE);
  EXPECT_EQ(pb.compare(0).create_revision(), 0);
  EXPECT_EQ(pb.compare(0).target_union_case(),
            etcdserverpb::Compare::kCreateRevision);
  EXPECT_EQ(pb.compare(1).target(), etcdserverpb::Compare::MOD);
  EXPECT_EQ(pb.compare(1).result(), etcdserverpb::Compare::LESS);
  EXPECT_EQ(pb.compare(1).mod_revision(), 7);
  EXPECT_EQ(pb.compare(2).value(), "x");
  EXPECT_EQ(pb.compare(2).result(), etcdserverpb::Compare::NOT_EQUAL);
  EXPECT_EQ(pb.compare(3).lease(), 9);
  ASSERT_EQ(pb.success_size(), 1);
  EXPECT_EQ(pb.success(0).request_put().lease(), 42);
  EXPECT_TRUE(pb.success(0).request_put().prev_kv());
  ASSERT_EQ(pb.failure_size(), 1);
  EXPECT_EQ(pb.failure(0).request_delete_range().key(), "/a");
}

TEST(ProtoConvertTest, EventTypesAndPrevKv) {
  mvccpb::Event pb;
  pb.set_type(mvccpb::Event::DELETE);
  pb.mutable_kv()->set_key("/k");
  pb.mutable_kv()->set_mod_revision(12);
  pb.mutable_prev_kv()->set_value("old");
  const WatchEvent event = FromProto(pb);
  EXPECT_EQ(event.type, WatchEvent::Type::kDelete);
  EXPECT_EQ(event.kv.key, "/k");
  EXPECT_EQ(event.kv.mod_revision, 12);
  ASSERT_TRUE(event.prev_kv.has_value());
  EXPECT_EQ(event.prev_kv->value, "old");

  mvccpb::Event put;
  put.mutable_kv()->set_key("/k");
  EXPECT_EQ(FromProto(put).type, WatchEvent::Type::kPut);
  EXPECT_FALSE(FromProto(put).prev_kv.has_value());
}

}  // namespace
}  // namespace etcdisc::internal
