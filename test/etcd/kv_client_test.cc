#include "etcd/kv_client.h"

#include "gtest/gtest.h"
#include "support/etcd_test.h"

namespace etcdisc::internal {
namespace {

using ::etcdisc::testing::EtcdTest;

class KvClientTest : public EtcdTest {};

TEST_F(KvClientTest, PutThenRangeReadsTheValueBack) {
  const int64_t revision = MustPut("/a/one", "1");
  auto range = client().kv().Range(RangeRequest::Prefix("/a/"));
  ASSERT_TRUE(range.ok()) << range.status();
  ASSERT_EQ(range->kvs.size(), 1u);
  EXPECT_EQ(range->kvs[0].key, "/a/one");
  EXPECT_EQ(range->kvs[0].value, "1");
  EXPECT_EQ(range->kvs[0].create_revision, revision);
  EXPECT_EQ(range->kvs[0].mod_revision, revision);
  EXPECT_EQ(range->kvs[0].version, 1);
  EXPECT_GE(range->revision, revision);
}

TEST_F(KvClientTest, PrefixRangeExcludesNeighbours) {
  MustPut("/a/x", "in");
  MustPut("/a/y", "in");
  MustPut("/a", "out");
  MustPut("/b/x", "out");
  auto range = client().kv().Range(RangeRequest::Prefix("/a/"));
  ASSERT_TRUE(range.ok()) << range.status();
  ASSERT_EQ(range->kvs.size(), 2u);
  EXPECT_EQ(range->kvs[0].key, "/a/x");
  EXPECT_EQ(range->kvs[1].key, "/a/y");
}

TEST_F(KvClientTest, LimitAndCountReportTheWholeRange) {
  for (int i = 0; i < 5; ++i) MustPut("/c/" + std::to_string(i), "v");
  RangeRequest request = RangeRequest::Prefix("/c/");
  request.limit = 2;
  auto range = client().kv().Range(request);
  ASSERT_TRUE(range.ok()) << range.status();
  EXPECT_EQ(range->kvs.size(), 2u);
  EXPECT_TRUE(range->more);
  EXPECT_EQ(range->count, 5);

  request.limit = 0;
  request.count_only = true;
  range = client().kv().Range(request);
  ASSERT_TRUE(range.ok()) << range.status();
  EXPECT_TRUE(range->kvs.empty());
  EXPECT_EQ(range->count, 5);
}

TEST_F(KvClientTest, RangeAtAnOldRevisionSeesTheOldValue) {
  const int64_t first = MustPut("/k", "old");
  MustPut("/k", "new");
  RangeRequest request;
  request.key = "/k";
  request.revision = first;
  auto range = client().kv().Range(request);
  ASSERT_TRUE(range.ok()) << range.status();
  ASSERT_EQ(range->kvs.size(), 1u);
  EXPECT_EQ(range->kvs[0].value, "old");
}

TEST_F(KvClientTest, PutReturnsThePreviousValueWhenAsked) {
  MustPut("/k", "before");
  PutRequest put;
  put.key = "/k";
  put.value = "after";
  put.prev_kv = true;
  auto response = client().kv().Put(put);
  ASSERT_TRUE(response.ok()) << response.status();
  ASSERT_TRUE(response->prev_kv.has_value());
  EXPECT_EQ(response->prev_kv->value, "before");
}

TEST_F(KvClientTest, DeleteRemovesKeysAndReturnsThem) {
  MustPut("/d/1", "a");
  MustPut("/d/2", "b");
  DeleteRequest del;
  del.key = "/d/";
  del.range_end = PrefixRangeEnd("/d/");
  del.prev_kv = true;
  auto response = client().kv().Delete(del);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->deleted, 2);
  EXPECT_EQ(response->prev_kvs.size(), 2u);
  auto range = client().kv().Range(RangeRequest::Prefix("/d/"));
  ASSERT_TRUE(range.ok());
  EXPECT_TRUE(range->kvs.empty());
}

TEST_F(KvClientTest, TxnCreatesOnlyWhenTheKeyIsMissing) {
  TxnRequest txn;
  txn.compares.push_back(Compare::Missing("/t"));
  txn.success.push_back(TxnOp::Put({"/t", "first", 0, false}));
  txn.failure.push_back(TxnOp::Range([] {
    RangeRequest r;
    r.key = "/t";
    return r;
  }()));

  auto created = client().kv().Txn(txn);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_TRUE(created->succeeded);
  ASSERT_EQ(created->responses.size(), 1u);
  EXPECT_EQ(created->responses[0].kind, TxnOp::Kind::kPut);

  txn.success[0].put.value = "second";
  auto refused = client().kv().Txn(txn);
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_FALSE(refused->succeeded);
  ASSERT_EQ(refused->responses.size(), 1u);
  ASSERT_EQ(refused->responses[0].range.kvs.size(), 1u);
  EXPECT_EQ(refused->responses[0].range.kvs[0].value, "first");
}

TEST_F(KvClientTest, TxnComparesModRevisionValueAndLease) {
  const int64_t revision = MustPut("/m", "v1");
  TxnRequest txn;
  txn.compares.push_back(
      Compare::ModRevision("/m", Compare::Result::kEqual, revision));
  txn.compares.push_back(Compare::Value("/m", Compare::Result::kEqual, "v1"));
  txn.compares.push_back(Compare::Lease("/m", Compare::Result::kEqual, 0));
  txn.success.push_back(TxnOp::Put({"/m", "v2", 0, false}));
  auto first = client().kv().Txn(txn);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(first->succeeded);
  // The mod revision moved on: the same compares now fail.
  auto second = client().kv().Txn(txn);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_FALSE(second->succeeded);
}

TEST_F(KvClientTest, ReadingACompactedRevisionIsOutOfRange) {
  const int64_t old = MustPut("/k", "1");
  const int64_t now = MustPut("/k", "2");
  ASSERT_TRUE(client().kv().Compact(now, /*physical=*/true).ok());
  RangeRequest request;
  request.key = "/k";
  request.revision = old;
  auto range = client().kv().Range(request);
  EXPECT_EQ(range.status().code(), absl::StatusCode::kOutOfRange)
      << range.status();
}

// A grant asked again with the id an earlier try chose (its answer lost)
// counts as granted, and etcd holds the one lease.
TEST_F(KvClientTest, AGrantOfAChosenIdAskedTwiceLeavesOneLease) {
  const int64_t id = 0x1234567890abcd;
  auto first = client().lease().Grant(std::chrono::seconds(60), id,
                                      std::chrono::seconds(3));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->id, id);
  auto again = client().lease().Grant(std::chrono::seconds(60), id,
                                      std::chrono::seconds(3));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->id, id);
  auto leases = cluster().LeaseCount();
  ASSERT_TRUE(leases.ok()) << leases.status();
  EXPECT_EQ(*leases, 1);
}

}  // namespace
}  // namespace etcdisc::internal
