// Which address a host's gRPC channel dials.
#include "etcdisc/grpc.h"
#include "gtest/gtest.h"

namespace etcdisc {
namespace {

Host TwoNetworks() {
  Host host;
  host.uuid = "u1";
  host.name = "api.example.com";
  host.ports = {{"grpc", "443"}, {"http", "80"}};
  host.private_hostname = "10.0.0.7";
  host.private_ports = {{"grpc", "50051"}, {"admin", "9000"}};
  return host;
}

TEST(GrpcTargetTest, ThePublicPortFirstThenThePrivateOne) {
  ChannelOptions options;
  EXPECT_EQ(GrpcTarget(TwoNetworks(), options), "api.example.com:443");
  options.prefer_private = true;
  EXPECT_EQ(GrpcTarget(TwoNetworks(), options), "10.0.0.7:50051");
  options.port_name = "admin";  // Only private.
  options.prefer_private = false;
  EXPECT_EQ(GrpcTarget(TwoNetworks(), options), "10.0.0.7:9000");
  options.port_name = "http";  // Only public.
  options.prefer_private = true;
  EXPECT_EQ(GrpcTarget(TwoNetworks(), options), "api.example.com:80");
  options.port_name = "gopher";
  EXPECT_EQ(GrpcTarget(TwoNetworks(), options), std::nullopt);
}

TEST(GrpcTargetTest, APrivatePortWithoutAPrivateHostnameUsesTheHostname) {
  Host host;
  host.name = "10.0.0.8";
  host.private_ports = {{"grpc", "7000"}};
  EXPECT_EQ(GrpcTarget(host, ChannelOptions{}), "10.0.0.8:7000");
}

TEST(GrpcTargetTest, AnIpv6AddressGoesInBrackets) {
  Host host;
  host.name = "fd00::7";
  host.ports = {{"grpc", "50051"}};
  EXPECT_EQ(GrpcTarget(host, ChannelOptions{}), "[fd00::7]:50051");
  host.name = "[fd00::8]";
  EXPECT_EQ(GrpcTarget(host, ChannelOptions{}), "[fd00::8]:50051");
}

}  // namespace
}  // namespace etcdisc
