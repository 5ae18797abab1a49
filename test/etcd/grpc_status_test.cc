#include "etcd/grpc_status.h"

#include "gtest/gtest.h"

namespace etcdisc::internal {
namespace {

TEST(GrpcStatusTest, KeepsTheCodeAndNamesCallAndEndpoint) {
  const absl::Status status =
      FromGrpcStatus(grpc::Status(grpc::StatusCode::OUT_OF_RANGE, "compacted"),
                     "Range", "http://h:1");
  EXPECT_EQ(status.code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(status.message(), "etcd Range at http://h:1: compacted");
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK, "Range", "x").ok());
}

TEST(GrpcStatusTest, AMembersOwnTimeoutIsADeadlineExceeded) {
  const absl::Status status = FromGrpcStatus(
      grpc::Status(grpc::StatusCode::UNKNOWN, "context deadline exceeded"),
      "Txn", "http://h:1");
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(status.message(), "etcd Txn at http://h:1: context deadline exceeded");
  EXPECT_TRUE(IsMemberFailure(status));
  EXPECT_EQ(FromGrpcStatus(grpc::Status(grpc::StatusCode::UNKNOWN, "other"),
                           "Txn", "x")
                .code(),
            absl::StatusCode::kUnknown);
}

TEST(GrpcStatusTest, MemberFailuresAreTheOnesToMoveOnFrom) {
  EXPECT_TRUE(IsMemberFailure(absl::UnavailableError("x")));
  EXPECT_TRUE(IsMemberFailure(absl::DeadlineExceededError("x")));
  EXPECT_TRUE(IsMemberFailure(absl::UnknownError("etcdserver: no leader")));
  EXPECT_FALSE(IsMemberFailure(absl::OutOfRangeError("compacted")));
  EXPECT_FALSE(IsMemberFailure(absl::NotFoundError("lease not found")));
  EXPECT_FALSE(IsMemberFailure(absl::InvalidArgumentError("bad")));
}

TEST(GrpcStatusTest, OnlyNoLeaderMeansRefusedUnapplied) {
  EXPECT_TRUE(IsRejectedUnapplied(
      absl::UnavailableError("etcd Put at x: etcdserver: no leader")));
  EXPECT_FALSE(IsRejectedUnapplied(
      absl::UnavailableError("etcdserver: leader changed")));
  EXPECT_FALSE(IsRejectedUnapplied(
      absl::DeadlineExceededError("etcdserver: request timed out")));
}

}  // namespace
}  // namespace etcdisc::internal
