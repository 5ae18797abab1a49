// ServiceChannels against a real etcd and real gRPC servers in this process.
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include <grpcpp/grpcpp.h>

#include "etcdisc/grpc.h"
#include "greeter_call.h"
#include "gtest/gtest.h"
#include "support/discovery_test.h"
#include "support/process.h"
#include "support/test_certs.h"
#include "support/wait.h"

namespace etcdisc {
namespace {

using ::etcdisc::testing::DiscoveryTest;
using ::etcdisc::testing::RunProcess;
using ::etcdisc::testing::WaitFor;
using std::chrono::seconds;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A Greeter that answers with its port, or its label if it has one.
class TestServer final : public examples::Greeter::Service {
 public:
  explicit TestServer(std::shared_ptr<grpc::ServerCredentials> credentials =
                          grpc::InsecureServerCredentials(),
                      int port = 0, std::string label = "")
      : label_(std::move(label)) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:" + std::to_string(port), credentials,
                             &port_);
    builder.RegisterService(this);
    server_ = builder.BuildAndStart();
  }
  ~TestServer() override { Shutdown(); }
  grpc::Status SayHello(grpc::ServerContext*, const examples::HelloRequest*,
                        examples::HelloReply* reply) override {
    reply->set_server_uuid(label_.empty() ? std::to_string(port_) : label_);
    return grpc::Status::OK;
  }
  // Refuses new calls and closes its connections.
  void Shutdown() {
    if (server_) server_->Shutdown(std::chrono::system_clock::now());
  }
  std::string port() const { return std::to_string(port_); }

 private:
  const std::string label_;
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
  EXPECT_TRUE(channels->status().ok()) << channels->status();
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

// A server killed and started again on its port, registered anew before
// its old record went: the new host shares the old one's channel, which
// tries it at once rather than after gRPC's reconnect back-off (set to a
// minute here, so that waiting it out would fail the test).
TEST_F(ServiceChannelsTest, AServerBackOnItsPortIsCalledWithoutWaitingOutTheBackoff) {
  RegisterOptions long_lived;
  long_lived.ttl = std::chrono::minutes(5);  // The old record stays.
  auto old_server = std::make_unique<TestServer>(
      grpc::InsecureServerCredentials(), 0, "old");
  const std::string port = old_server->port();
  auto old_reg = RegisterServer(*old_server, long_lived);
  ChannelOptions options;
  options.arguments.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 60000);
  options.arguments.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 60000);
  options.arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 60000);
  auto channels = MustOpen(options);
  ASSERT_NE(channels, nullptr);
  EXPECT_EQ(Call(*channels), "old");
  old_server.reset();  // Gone; its channel fails to reconnect and backs off.
  ASSERT_TRUE(WaitFor([&] { return Call(*channels) != "old"; }, seconds(10)));
  EXPECT_NE(Call(*channels), "old");

  TestServer new_server(grpc::InsecureServerCredentials(), std::stoi(port),
                        "new");
  ASSERT_EQ(new_server.port(), port);
  auto new_reg = RegisterServer(new_server, long_lived);
  EXPECT_TRUE(WaitFor([&] { return Call(*channels) == "new"; }, seconds(10)));
}

// With TLS, the name a server's certificate must hold is the hostname its
// host registered: the same server passes as "localhost" (in its
// certificate) and fails as "127.0.0.1" (not in it), and fails under
// another CA.
TEST_F(ServiceChannelsTest, TlsChecksTheRegisteredHostnameInTheCertificate) {
  char dir[] = "/tmp/etcdisc-channels-tls-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  struct RemoveAtEnd {
    std::string dir;
    ~RemoveAtEnd() { RunProcess({"/bin/rm", "-rf", dir}); }
  } remove_at_end{dir};
  auto certs = testing::TestCerts::Make(dir);
  ASSERT_TRUE(certs.ok()) << certs.status();
  auto localhost_only = certs->MakeServer("localhost-only", "DNS:localhost");
  ASSERT_TRUE(localhost_only.ok()) << localhost_only.status();
  grpc::SslServerCredentialsOptions server_tls;
  server_tls.pem_key_cert_pairs.push_back(
      {ReadFile(localhost_only->key_file), ReadFile(localhost_only->cert_file)});
  TestServer server(grpc::SslServerCredentials(server_tls));

  auto registered_as = [&](const std::string& service, const std::string& name) {
    Host host;
    host.name = name;
    host.ports = {{"grpc", server.port()}};
    return MustRegister(service, host);
  };
  auto by_name = registered_as("greeter-by-name", "localhost");
  auto by_ip = registered_as("greeter-by-ip", "127.0.0.1");
  auto open = [&](const std::string& service, const std::string& ca_file) {
    grpc::SslCredentialsOptions tls;
    tls.pem_root_certs = ReadFile(ca_file);
    ChannelOptions options;
    options.credentials = grpc::SslCredentials(tls);
    auto channels = ServiceChannels::Open(discovery(), service, options);
    EXPECT_TRUE(channels.ok()) << channels.status();
    if (!channels.ok()) return std::unique_ptr<ServiceChannels>();
    EXPECT_TRUE((*channels)->WaitReady(seconds(10)).ok());
    return *std::move(channels);
  };
  auto name_channels = open("greeter-by-name", certs->ca_file);
  auto ip_channels = open("greeter-by-ip", certs->ca_file);
  auto other_ca_channels = open("greeter-by-name", certs->other_ca_file);
  ASSERT_TRUE(name_channels && ip_channels && other_ca_channels);

  EXPECT_EQ(Call(*name_channels), server.port());
  EXPECT_EQ(Calls(*name_channels, 5),
            (std::map<std::string, int>{{server.port(), 5}}));
  const GreeterAnswer by_ip_answer = CallGreeter(*ip_channels, seconds(5));
  EXPECT_EQ(by_ip_answer.status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << by_ip_answer.status.error_message();
  EXPECT_EQ(by_ip_answer.host_uuid, by_ip->UUID());
  const GreeterAnswer other_ca = CallGreeter(*other_ca_channels, seconds(5));
  EXPECT_EQ(other_ca.status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << other_ca.status.error_message();
  EXPECT_EQ(other_ca.host_uuid, by_name->UUID());
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
