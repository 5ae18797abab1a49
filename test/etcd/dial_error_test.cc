// The words of a failed dial, from gRPC's reason (checked against a real etcd
// in tls_test.cc).
#include "etcd/dial_error.h"

#include "gtest/gtest.h"
#include "support/text.h"

namespace etcdisc::internal {
namespace {

using testing::Contains;

MemberStubs Member(bool tls) {
  MemberStubs member;
  member.tls = tls;
  member.endpoint = tls ? "https://10.1.1.1:2379" : "http://10.1.1.1:2379";
  return member;
}

TEST(DialErrorTest, AFailedHandshakeIsCalledTlsAndKeepsGrpcsReason) {
  const std::string message = DialErrorMessage(
      Member(true), DialFailure::kRefused,
      "Ssl handshake failed: SSL_ERROR_SSL: certificate verify failed");
  EXPECT_TRUE(Contains(message, "TLS handshake with etcd member "
                                "https://10.1.1.1:2379 failed"))
      << message;
  EXPECT_TRUE(Contains(message, "certificate verify failed")) << message;
}

TEST(DialErrorTest, ANameMismatchIsATlsFailure) {
  const std::string message =
      DialErrorMessage(Member(true), DialFailure::kTimedOut,
                       "Peer name etcd.example is not in peer certificate");
  EXPECT_TRUE(Contains(message, "TLS handshake")) << message;
  EXPECT_TRUE(Contains(message, "etcd.example")) << message;
}

TEST(DialErrorTest, AClientCertificateRefusedAfterTheHandshakeIsATlsFailure) {
  const std::string message = DialErrorMessage(
      Member(true), DialFailure::kTimedOut, "Endpoint read failed");
  EXPECT_TRUE(Contains(message, "TLS handshake")) << message;
  EXPECT_TRUE(Contains(message, "client certificate")) << message;
}

TEST(DialErrorTest, PlainHttpClosedDuringSetupSuggestsHttps) {
  const std::string message =
      DialErrorMessage(Member(false), DialFailure::kRefused, "Socket closed");
  EXPECT_TRUE(Contains(message, "http://10.1.1.1:2379")) << message;
  EXPECT_TRUE(Contains(message, "use https://")) << message;
}

TEST(DialErrorTest, RefusedAndSilentMembersAreNotCalledTls) {
  const std::string refused =
      DialErrorMessage(Member(true), DialFailure::kRefused,
                       "Failed to connect to remote host: Connection refused");
  EXPECT_FALSE(Contains(refused, "TLS")) << refused;
  EXPECT_TRUE(Contains(refused, "refused or dropped")) << refused;
  EXPECT_TRUE(Contains(refused, "Connection refused")) << refused;
  const std::string silent =
      DialErrorMessage(Member(false), DialFailure::kTimedOut, "");
  EXPECT_EQ(silent,
            "etcd member http://10.1.1.1:2379 did not accept a connection in "
            "time");
}

}  // namespace
}  // namespace etcdisc::internal
