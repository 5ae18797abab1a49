// ServiceChannels against a real etcd and real gRPC servers in this process.
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "etcdisc/grpc.h"
#include "greeter_call.h"
#include "gtest/gtest.h"
#include "support/discovery_test.h"
#include "support/wait.h"

namespace etcdisc {
namespace {

using ::etcdisc::testing::DiscoveryTest;
using ::etcdisc::testing::WaitFor;
using std::chrono::seconds;

// A Greeter that answers with its port.
class TestServer final : public examples::Greeter::Service {
 public:
  TestServer() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port_);
    builder.RegisterService(this);
    server_ = builder.BuildAndStart();
  }
  ~TestServer() override { Shutdown(); }
  grpc::Status SayHello(grpc::ServerContext*, const examples::HelloRequest*,
                        examples::HelloReply* reply) override {
    reply->set_server_uuid(std::to_string(port_));
    return grpc::Status::OK;
  }
  // Refuses new calls and closes its connections.
  void Shutdown() {
    if (server_) server_->Shutdown(std::chrono::system_clock::now());
  }
  std::string port() const { return std::to_string(port_); }

 private:
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

class ServiceChannelsTest : public DiscoveryTest {
 protected:
  std::unique_ptr<Registration> RegisterServer(const TestServer& server,
                                               RegisterOptions options = {}) {
    Host host;
    host.name = "127.0.0.1";
    host.ports = {{"grpc", server.port()}};
    return MustRegister("greeter", host, options);
  }
  std::unique_ptr<ServiceChannels> MustOpen(ChannelOptions options = {}) {
    auto channels = ServiceChannels::Open(discovery(), "greeter", options);
    EXPECT_TRUE(channels.ok()) << channels.status();
    if (!channels.ok()) return nullptr;
    EXPECT_TRUE((*channels)->WaitReady(seconds(10)).ok());
    return *std::move(channels);
  }
  // The port that answered a call, or "failed: ...".
  static std::string Call(const ServiceChannels& channels) {
    const GreeterAnswer answer = CallGreeter(channels, seconds(5));
    return answer.status.ok() ? answer.server_uuid
                              : "failed: " + answer.status.error_message();
  }
  static std::map<std::string, int> Calls(const ServiceChannels& channels,
                                          int n) {
    std::map<std::string, int> answers;
    for (int i = 0; i < n; ++i) ++answers[Call(channels)];
    return answers;
  }
};

TEST_F(ServiceChannelsTest, CallsReachEveryHostAndANewOne) {
  TestServer a, b;
  auto reg_a = RegisterServer(a);
  auto reg_b = RegisterServer(b);
  auto channels = MustOpen();
  ASSERT_NE(channels, nullptr);
  EXPECT_EQ(Calls(*channels, 10),
            (std::map<std::string, int>{{a.port(), 5}, {b.port(), 5}}));
  TestServer c;
  auto reg_c = RegisterServer(c);
  EXPECT_TRUE(WaitFor([&] { return Calls(*channels, 3).count(c.port()) == 1; },
                      seconds(10)));
  auto call = channels->Pick();
  ASSERT_TRUE(call.ok());
  EXPECT_EQ(call->host().service_name, "greeter");
}

TEST_F(ServiceChannelsTest, AServerThatGoesAwayGetsNoCallsBeforeItsDown) {
  TestServer a, b;
  RegisterOptions long_lived;
  long_lived.ttl = std::chrono::minutes(5);  // No Down in this test.
  auto reg_a = RegisterServer(a, long_lived);
  auto reg_b = RegisterServer(b, long_lived);
  // Failures never skip a host here: only its channel's state can.
  ChannelOptions options;
  options.balancer.ejection.failures = 0;
  auto channels = MustOpen(options);
  ASSERT_NE(channels, nullptr);
  EXPECT_EQ(Calls(*channels, 4)[a.port()], 2);
  a.Shutdown();  // As if killed: its record stays in etcd.
  // Once its channel has seen the connection go, no call goes to it.
  const std::map<std::string, int> only_b{{b.port(), 4}};
  EXPECT_TRUE(WaitFor([&] { return Calls(*channels, 4) == only_b; }, seconds(10)));
  EXPECT_EQ(Calls(*channels, 50), (std::map<std::string, int>{{b.port(), 50}}));
  EXPECT_EQ(channels->hosts().size(), 2u);  // Still registered.
}

TEST_F(ServiceChannelsTest, AHostWithoutAGrpcPortIsNeverPicked) {
  auto web = MustRegister("greeter", WebHost("127.0.0.1"));  // http only
  auto channels = MustOpen();
  ASSERT_NE(channels, nullptr);
  auto none = channels->Pick();
  EXPECT_EQ(none.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(none.status().message().find("greeter"), absl::string_view::npos);
  EXPECT_EQ(channels->hosts().size(), 0u);
  TestServer a;
  auto reg_a = RegisterServer(a);
  EXPECT_TRUE(WaitFor([&] { return channels->hosts().size() == 1; }, seconds(10)));
  EXPECT_EQ(Calls(*channels, 5), (std::map<std::string, int>{{a.port(), 5}}));
}

TEST_F(ServiceChannelsTest, AHostThatStopsIsNotPickedAndItsCallUnderWayEnds) {
  TestServer a, b;
  auto reg_a = RegisterServer(a);
  auto reg_b = RegisterServer(b);
  auto channels = MustOpen();
  ASSERT_NE(channels, nullptr);
  // A call to a, picked before a goes down, made after.
  auto held = channels->Pick();
  while (held.ok() && held->host().uuid != reg_a->UUID()) held = channels->Pick();
  ASSERT_TRUE(held.ok());
  ASSERT_TRUE(reg_a->Stop().ok());
  ASSERT_TRUE(WaitFor([&] { return channels->hosts().size() == 1; }, seconds(10)));
  EXPECT_EQ(Calls(*channels, 20), (std::map<std::string, int>{{b.port(), 20}}));
  examples::Greeter::Stub stub(held->channel());
  grpc::ClientContext context;
  examples::HelloRequest request;
  examples::HelloReply reply;
  EXPECT_TRUE(stub.SayHello(&context, request, &reply).ok());
  EXPECT_EQ(reply.server_uuid(), a.port());
}

TEST_F(ServiceChannelsTest, BadOptionsAreRefused) {
  ChannelOptions options;
  options.port_name = "";
  auto bad = ServiceChannels::Open(discovery(), "greeter", options);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  options.port_name = "grpc";
  options.balancer.ejection.failures = -1;
  bad = ServiceChannels::Open(discovery(), "greeter", options);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("-1"), absl::string_view::npos);
}

}  // namespace
}  // namespace etcdisc
