#include "etcd/endpoints.h"

#include "gtest/gtest.h"

namespace etcdisc::internal {
namespace {

TEST(EndpointsTest, ParsesACommaSeparatedList) {
  auto endpoints =
      ParseEndpoints("http://10.0.0.1:2379, https://etcd-2.local:2380/,h3:1");
  ASSERT_TRUE(endpoints.ok()) << endpoints.status();
  ASSERT_EQ(endpoints->size(), 3u);
  EXPECT_EQ((*endpoints)[0].Target(), "10.0.0.1:2379");
  EXPECT_FALSE((*endpoints)[0].tls);
  EXPECT_EQ((*endpoints)[1].host, "etcd-2.local");
  EXPECT_EQ((*endpoints)[1].port, 2380);
  EXPECT_TRUE((*endpoints)[1].tls);
  EXPECT_EQ((*endpoints)[2].Url(), "http://h3:1");
}

TEST(EndpointsTest, ParsesBracketedIpv6) {
  auto endpoints = ParseEndpoints("http://[::1]:2379");
  ASSERT_TRUE(endpoints.ok()) << endpoints.status();
  EXPECT_EQ((*endpoints)[0].host, "::1");
  EXPECT_EQ((*endpoints)[0].Target(), "[::1]:2379");
}

TEST(EndpointsTest, RejectsBadItemsNamingThem) {
  for (const char* bad :
       {"ftp://h:1", "http://h", "http://h:0", "http://h:65536", "http://h:x",
        "http://:2379", "http://h:2379/v3", "http://[::1:2379", "h o:1",
        "http://[h]:1", "http://[::g]:1"}) {
    auto endpoints = ParseEndpoints(std::string("http://ok:1,") + bad);
    ASSERT_FALSE(endpoints.ok()) << bad;
    EXPECT_EQ(endpoints.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(endpoints.status().message().find(bad), absl::string_view::npos)
        << endpoints.status();
  }
}

TEST(EndpointsTest, RejectsAnEmptyList) {
  EXPECT_EQ(ParseEndpoints(" , ").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseEndpoints("").status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace etcdisc::internal
