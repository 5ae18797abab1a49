#include "discovery/records.h"

#include "gtest/gtest.h"

namespace etcdisc::internal {
namespace {

Host FullHost() {
  Host h;
  h.name = "public-domain.dev";
  h.service_name = "my-service";
  h.ports = {{"http", "80"}, {"https", "443"}};
  h.user = "user";
  h.password = "secret";
  h.is_public = true;
  h.private_hostname = "node-1.internal.dev";
  h.private_ports = {{"http", "8080"}, {"https", "80443"}};
  h.critical = true;
  h.shard = "s1";
  h.uuid = "7a4c-node-1.internal.dev";
  return h;
}

TEST(RecordsTest, EncodesAHostInGoFieldOrder) {
  EXPECT_EQ(EncodeHost(FullHost()),
            R"({"name":"public-domain.dev","service_name":"my-service",)"
            R"("ports":{"http":"80","https":"443"},"user":"user",)"
            R"("password":"secret","public":true,)"
            R"("private_hostname":"node-1.internal.dev",)"
            R"("private_ports":{"http":"8080","https":"80443"},)"
            R"("critical":true,"shard":"s1","uuid":"7a4c-node-1.internal.dev"})");
}

TEST(RecordsTest, OmitsEmptyOptionalHostFieldsButNotRequiredOnes) {
  Host h;
  EXPECT_EQ(EncodeHost(h), R"({"name":"","service_name":"","ports":null})");
  h.name = "n";
  h.ports = {{"http", "1"}};
  EXPECT_EQ(EncodeHost(h),
            R"({"name":"n","service_name":"","ports":{"http":"1"}})");
}

TEST(RecordsTest, EncodesAServiceInGoFieldOrder) {
  ServiceInfo s;
  s.name = "my-service";
  EXPECT_EQ(EncodeService(s), R"({"name":"my-service","critical":false})");
  s = ServiceFromHost("my-service", FullHost());
  EXPECT_EQ(EncodeService(s),
            R"({"name":"my-service","critical":true,)"
            R"("hostname":"public-domain.dev","user":"user",)"
            R"("password":"secret","ports":{"http":"80","https":"443"},)"
            R"("public":true})");
}

TEST(RecordsTest, PrivateHostImpliesANameOnlyServiceRecord) {
  Host h = FullHost();
  h.is_public = false;
  const ServiceInfo s = ServiceFromHost("svc", h);
  EXPECT_EQ(s.name, "svc");
  EXPECT_TRUE(s.critical);
  EXPECT_TRUE(s.hostname.empty());
  EXPECT_TRUE(s.user.empty());
  EXPECT_TRUE(s.ports.empty());
}

TEST(RecordsTest, RoundTripsEveryField) {
  auto decoded = DecodeHost(EncodeHost(FullHost()));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, FullHost());
  const ServiceInfo s = ServiceFromHost("my-service", FullHost());
  auto service = DecodeService(EncodeService(s));
  ASSERT_TRUE(service.ok()) << service.status();
  EXPECT_EQ(*service, s);
}

TEST(RecordsTest, ReadsARecordAsTheGoPackageWritesIt) {
  // As in the Go package's README, with its misspelt "critcal" (unknown, so
  // ignored) and fields in another order.
  auto h = DecodeHost(R"({
     "name": "public-domain.dev", "service_name": "my-service",
     "user": "user", "password": "secret", "public": true,
     "private_hostname": "node-1.internal.dev",
     "private_ports": {"http": "8080", "https": "80443"},
     "critcal": true, "uuid": "your-service-uuid-node-1.internal.dev",
     "ports": {"http": "80", "https": "443"}, "extra": {"nested": [1, 2]}})");
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->name, "public-domain.dev");
  EXPECT_EQ(h->ports.at("https"), "443");
  EXPECT_EQ(h->private_ports.at("http"), "8080");
  EXPECT_TRUE(h->is_public);
  EXPECT_FALSE(h->critical);
  EXPECT_EQ(h->uuid, "your-service-uuid-node-1.internal.dev");
}

TEST(RecordsTest, AcceptsNumericPortsAndNulls) {
  auto h = DecodeHost(R"({"name":"n","ports":{"http":8080},"user":null})");
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->ports.at("http"), "8080");
  EXPECT_TRUE(h->user.empty());
}

TEST(RecordsTest, RejectsRecordsOfTheWrongShape) {
  for (const char* bad : {"not json", "[1]", "\"str\"", R"({"name": 5})",
                          R"({"public": "yes"})", R"({"ports": [1]})",
                          R"({"ports": {"http": true}})"}) {
    EXPECT_FALSE(DecodeHost(bad).ok()) << bad;
  }
  EXPECT_FALSE(DecodeService(R"({"critical": "no"})").ok());
}

}  // namespace
}  // namespace etcdisc::internal
