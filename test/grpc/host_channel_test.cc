// HostChannel's reachability against a real gRPC server in this process,
// with a clock of the test's own.
#include "channels/host_channel.h"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>

#include "gtest/gtest.h"

namespace etcdisc::internal {
namespace {

using Clock = std::chrono::steady_clock;

class HostChannelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port_);
    server_ = Serve(&builder);
    ASSERT_NE(server_, nullptr);
    target_ = "127.0.0.1:" + std::to_string(port_);
    auto channel =
        grpc::CreateChannel(target_, grpc::InsecureChannelCredentials());
    ASSERT_TRUE(channel->WaitForConnected(std::chrono::system_clock::now() +
                                          std::chrono::seconds(10)));
    host_ = std::make_unique<HostChannel>(target_, channel,
                                          [this] { return now_; });
  }

  // Builds a server that answers every method UNIMPLEMENTED (a server
  // needs a service; a generic one serves one server only).
  std::unique_ptr<grpc::Server> Serve(grpc::ServerBuilder* builder) {
    generics_.push_back(std::make_unique<grpc::CallbackGenericService>());
    builder->RegisterCallbackGenericService(generics_.back().get());
    return builder->BuildAndStart();
  }

  std::vector<std::unique_ptr<grpc::CallbackGenericService>> generics_;
  Clock::time_point now_ = Clock::time_point(std::chrono::hours(1));
  int port_ = 0;
  std::string target_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<HostChannel> host_;
};

TEST_F(HostChannelTest, AFailedCallRestsAReadyChannelUntilTheSuspicionEnds) {
  EXPECT_TRUE(host_->Reachable());
  // A call failed UNAVAILABLE while gRPC still says READY (it has not seen
  // the connection go, or the server answered so itself).
  host_->CallFailed();
  ASSERT_EQ(host_->channel()->GetState(false), GRPC_CHANNEL_READY);
  EXPECT_FALSE(host_->Reachable());
  now_ += HostChannel::kSuspectFor - std::chrono::milliseconds(1);
  EXPECT_FALSE(host_->Reachable());
  now_ += std::chrono::milliseconds(1);
  EXPECT_TRUE(host_->Reachable());
}

TEST_F(HostChannelTest, ASuspicionEndsOnceGrpcSeesTheConnectionGo) {
  host_->CallFailed();
  EXPECT_FALSE(host_->Reachable());
  server_->Shutdown(std::chrono::system_clock::now());
  server_.reset();
  // Not READY any more: the suspicion is over, and a channel that was
  // connected stays unreachable until it is READY again.
  auto channel = host_->channel();
  const auto deadline = std::chrono::system_clock::now() + std::chrono::seconds(10);
  while (channel->GetState(false) == GRPC_CHANNEL_READY &&
         channel->WaitForStateChange(GRPC_CHANNEL_READY, deadline)) {
  }
  ASSERT_NE(channel->GetState(false), GRPC_CHANNEL_READY);
  EXPECT_FALSE(host_->Reachable());

  // A server back on the port: READY again, and reachable at once, with
  // no suspicion left from before (the test clock never moved).
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(target_, grpc::InsecureServerCredentials(), &port);
  server_ = Serve(&builder);
  ASSERT_EQ(port, port_);
  grpc::experimental::ChannelResetConnectionBackoff(channel.get());
  ASSERT_TRUE(channel->WaitForConnected(std::chrono::system_clock::now() +
                                        std::chrono::seconds(10)));
  EXPECT_TRUE(host_->Reachable());
}

// The client's first call reaches a server that is killed before any pick
// saw its channel READY: the call fails UNAVAILABLE, and the channel, IDLE
// after losing its connection, must not look like one not connected yet.
TEST_F(HostChannelTest, AConnectionLostBeforeAnyPickSawItIsNotTakenForANewOne) {
  auto channel = host_->channel();
  server_->Shutdown(std::chrono::system_clock::now());
  server_.reset();
  const auto deadline = std::chrono::system_clock::now() + std::chrono::seconds(10);
  while (channel->GetState(false) == GRPC_CHANNEL_READY &&
         channel->WaitForStateChange(GRPC_CHANNEL_READY, deadline)) {
  }
  // A state in which a channel never connected is picked.
  const grpc_connectivity_state state = channel->GetState(false);
  ASSERT_TRUE(state == GRPC_CHANNEL_IDLE || state == GRPC_CHANNEL_CONNECTING)
      << state;
  host_->CallFailed();
  EXPECT_FALSE(host_->Reachable());
}

TEST_F(HostChannelTest, AReleasedChannelIsNeverReachable) {
  host_->Release();
  EXPECT_EQ(host_->channel(), nullptr);
  EXPECT_FALSE(host_->Reachable());
}

}  // namespace
}  // namespace etcdisc::internal
