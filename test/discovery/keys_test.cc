#include "discovery/keys.h"

#include "gtest/gtest.h"

namespace etcdisc::internal {
namespace {

TEST(KeyLayoutTest, BuildsKeysUnderThePrefix) {
  const KeyLayout none("");
  EXPECT_EQ(none.HostKey("web", "u-1"), "/services/web/u-1");
  EXPECT_EQ(none.HostsPrefix("web"), "/services/web/");
  EXPECT_EQ(none.ServiceKey("web"), "/service_infos/web");
  const KeyLayout tenant("/t1");
  EXPECT_EQ(tenant.HostKey("web", "u-1"), "/t1/services/web/u-1");
  EXPECT_EQ(tenant.ServiceKey("web"), "/t1/service_infos/web");
}

TEST(KeyLayoutTest, ParsesHostKeysAndRefusesOtherShapes) {
  const KeyLayout layout("/t");
  auto parts = layout.ParseHostKey("/t/services/web/abc-host");
  ASSERT_TRUE(parts.ok()) << parts.status();
  EXPECT_EQ(parts->service, "web");
  EXPECT_EQ(parts->uuid, "abc-host");
  for (const char* bad :
       {"/services/web/x", "/t/services/web", "/t/services/web/",
        "/t/services//x", "/t/services/web/x/y", "/t/service_infos/web"}) {
    EXPECT_FALSE(layout.ParseHostKey(bad).ok()) << bad;
  }
}

TEST(ValidateServiceNameTest, AcceptsPlainNames) {
  EXPECT_TRUE(ValidateServiceName("web").ok());
  EXPECT_TRUE(ValidateServiceName("my-service.v2_x").ok());
  EXPECT_TRUE(ValidateServiceName(std::string(255, 'a')).ok());
}

TEST(ValidateServiceNameTest, RefusesBadNamesNamingThem) {
  for (const std::string& bad :
       {std::string(), std::string("a/b"), std::string("a b"),
        std::string("tab\there"), std::string("nl\n"), std::string(256, 'a'),
        std::string("nul\0x", 5)}) {
    const absl::Status status = ValidateServiceName(bad);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(status.message().find("invalid service name"),
              absl::string_view::npos);
  }
  EXPECT_NE(ValidateServiceName("a/b").message().find("\"a/b\""),
            absl::string_view::npos);
}

TEST(ValidateKeyPrefixTest, AcceptsEmptyOrRootedPrefixes) {
  EXPECT_TRUE(ValidateKeyPrefix("").ok());
  EXPECT_TRUE(ValidateKeyPrefix("/tenant").ok());
  EXPECT_TRUE(ValidateKeyPrefix("/a/b").ok());
  for (const char* bad : {"tenant", "/tenant/", "/a b", "/"}) {
    EXPECT_EQ(ValidateKeyPrefix(bad).code(), absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

}  // namespace
}  // namespace etcdisc::internal
