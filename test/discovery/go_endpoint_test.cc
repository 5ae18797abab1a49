// The record for etcd's Go gRPC resolver: its key and exact value.
#include "discovery/go_endpoint.h"

#include <string>
#include <vector>

#include "discovery/json.h"
#include "gtest/gtest.h"

namespace etcdisc::internal {
namespace {

Host GrpcHost() {
  Host host;
  host.uuid = "0b6f-10.0.0.7";
  host.name = "api.example.com";
  host.ports = {{"grpc", "50051"}, {"http", "80"}};
  host.private_hostname = "10.0.0.7";
  host.private_ports = {{"admin", "9000"}};
  return host;
}

RegisterOptions Target(const std::string& target) {
  RegisterOptions options;
  options.go_grpc_target = target;
  return options;
}

TEST(GoEndpointTest, NoTargetNoRecord) {
  auto none = GoEndpointFor(GrpcHost(), RegisterOptions{});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, std::nullopt);
}

TEST(GoEndpointTest, TheKeyIsTheTargetAndUuidAndTheValueTheGoUpdate) {
  auto record = GoEndpointFor(GrpcHost(), Target("services/api"));
  ASSERT_TRUE(record.ok()) << record.status();
  ASSERT_TRUE(record->has_value());
  EXPECT_EQ((*record)->key, "services/api/0b6f-10.0.0.7");
  EXPECT_EQ((*record)->value,
            R"({"Op":0,"Addr":"api.example.com:50051","Metadata":null})");
  // What Go's encoding/json reads into naming.Update / endpoints.Endpoint.
  auto parsed = ParseJson((*record)->value);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->Find("Op")->text, "0");
  EXPECT_EQ(parsed->Find("Addr")->text, "api.example.com:50051");
  EXPECT_EQ(parsed->Find("Metadata")->type, JsonValue::Type::kNull);
}

TEST(GoEndpointTest, ThePortMayBePrivateAndAnIpv6AddressIsBracketed) {
  RegisterOptions options = Target("admin");
  options.go_grpc_port = "admin";
  auto record = GoEndpointFor(GrpcHost(), options);
  ASSERT_TRUE(record.ok());
  EXPECT_EQ((*record)->value,
            R"({"Op":0,"Addr":"10.0.0.7:9000","Metadata":null})");
  Host v6 = GrpcHost();
  v6.name = "fd00::7";
  record = GoEndpointFor(v6, Target("api"));
  ASSERT_TRUE(record.ok());
  EXPECT_EQ((*record)->value,
            R"({"Op":0,"Addr":"[fd00::7]:50051","Metadata":null})");
}

TEST(GoEndpointTest, BadTargetsAndMissingPortsAreNamed) {
  for (const std::string bad : {"services/api/", "my service", "api\t"}) {
    auto record = GoEndpointFor(GrpcHost(), Target(bad));
    EXPECT_EQ(record.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(record.status().message().find(bad), absl::string_view::npos)
        << record.status();
  }
  RegisterOptions options = Target("api");
  options.go_grpc_port = "gopher";
  auto record = GoEndpointFor(GrpcHost(), options);
  EXPECT_EQ(record.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(record.status().message().find("gopher"), absl::string_view::npos);
}

TEST(GoEndpointTest, ATargetAmongEtcdiscsOwnKeysIsRefused) {
  const std::vector<std::string> taken = {"/t/services/", "/t/service_infos/"};
  for (const std::string bad : {"/t/services/greeter", "/t/services", "/t"}) {
    const absl::Status status = CheckGoTargetIsFree(bad, taken);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(status.message().find(bad), absl::string_view::npos) << status;
  }
  for (const std::string free : {"services/greeter", "/t/grpc/greeter", "/tx"}) {
    EXPECT_TRUE(CheckGoTargetIsFree(free, taken).ok()) << free;
  }
}

}  // namespace
}  // namespace etcdisc::internal
