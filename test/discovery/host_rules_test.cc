#include "discovery/host_rules.h"

#include "gtest/gtest.h"

namespace etcdisc::internal {
namespace {

TEST(ApplyRegisterDefaultsTest, PrivateHostGetsItsOwnNameAsPrivateHostname) {
  Host h;
  h.name = "10.0.0.5";
  h.ports = {{"http", "8080"}};
  ApplyRegisterDefaults("web", "machine", "uuid4", &h);
  EXPECT_EQ(h.private_hostname, "10.0.0.5");
  EXPECT_EQ(h.private_ports, h.ports);
  EXPECT_EQ(h.service_name, "web");
  EXPECT_EQ(h.uuid, "uuid4-10.0.0.5");
}

TEST(ApplyRegisterDefaultsTest, PublicHostGetsTheMachineHostname) {
  Host h;
  h.name = "public.example";
  h.is_public = true;
  h.ports = {{"https", "443"}};
  h.service_name = "overwritten";
  ApplyRegisterDefaults("api", "node-7", "u", &h);
  EXPECT_EQ(h.private_hostname, "node-7");
  EXPECT_EQ(h.private_ports, h.ports);
  EXPECT_EQ(h.service_name, "api");
  EXPECT_EQ(h.uuid, "u-node-7");
}

TEST(ApplyRegisterDefaultsTest, KeepsWhatTheHostSays) {
  Host h;
  h.name = "public.example";
  h.is_public = true;
  h.private_hostname = "node-1.internal";
  h.ports = {{"http", "80"}};
  h.private_ports = {{"http", "8080"}};
  ApplyRegisterDefaults("api", "machine", "u", &h);
  EXPECT_EQ(h.private_hostname, "node-1.internal");
  EXPECT_EQ(h.private_ports.at("http"), "8080");
  EXPECT_EQ(h.uuid, "u-node-1.internal");
}

TEST(ValidateHostTest, RefusesBadHostsNamingTheValue) {
  Host h;
  EXPECT_NE(ValidateHost(h).message().find("hostname is empty"),
            absl::string_view::npos);
  h.name = "n";
  EXPECT_TRUE(ValidateHost(h).ok());
  for (const char* bad : {"0", "65536", "http", "-1", "80 ", "+80", ""}) {
    h.ports = {{"http", bad}};
    const absl::Status status = ValidateHost(h);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(status.message().find(std::string("\"") + bad + "\""),
              absl::string_view::npos)
        << status;
  }
  h.ports = {{"", "80"}};
  EXPECT_FALSE(ValidateHost(h).ok());
  h.ports = {{"http", "65535"}};
  h.private_ports = {{"http", "99999"}};
  EXPECT_NE(ValidateHost(h).message().find("private ports"),
            absl::string_view::npos);
}

TEST(ValidateHostTest, RefusesHostnamesThatCannotEndAUuid) {
  for (const char* bad : {"a/b", "a b", "tab\there", "nul\x01", "/"}) {
    Host h;
    h.name = "ok.example";
    h.private_hostname = bad;
    const absl::Status status = ValidateHost(h);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(status.message().find(std::string("private hostname \"") + bad),
              absl::string_view::npos)
        << status;
    h.name = bad;
    h.private_hostname.clear();
    EXPECT_NE(ValidateHost(h).message().find(std::string("hostname \"") + bad),
              absl::string_view::npos);
  }
  Host fine;
  fine.name = "pub.example.com";
  fine.private_hostname = "node-1.internal:8080";
  EXPECT_TRUE(ValidateHost(fine).ok());
}

TEST(NewUuid4Test, IsVersion4AndUnique) {
  const std::string a = NewUuid4();
  EXPECT_EQ(a.size(), 36u);
  EXPECT_EQ(a[14], '4');
  EXPECT_NE(a, NewUuid4());
}

TEST(HostUrlTest, BuildsUrlsAsTheGoPackage) {
  Host h;
  h.name = "pub.example";
  h.ports = {{"http", "80"}, {"https", "443"}};
  EXPECT_EQ(*h.URL("https", "/p"), "https://pub.example:443/p");
  EXPECT_EQ(*h.URL(), "http://pub.example:80");
  h.user = "u";
  h.password = "pw";
  EXPECT_EQ(*h.URL("http", "/x?y=1"), "http://u:pw@pub.example:80/x?y=1");
  EXPECT_EQ(h.URL("ftp").status().code(), absl::StatusCode::kInvalidArgument);

  h.ports = {{"https", "443"}};
  EXPECT_EQ(*h.URL(), "https://u:pw@pub.example:443");  // No http: https.

  EXPECT_EQ(*h.PrivateURL("https"), "https://u:pw@pub.example:443");
  h.private_hostname = "10.0.0.1";
  h.private_ports = {{"https", "8443"}};
  EXPECT_EQ(*h.PrivateURL("https", "/a"), "https://u:pw@10.0.0.1:8443/a");
}

}  // namespace
}  // namespace etcdisc::internal
