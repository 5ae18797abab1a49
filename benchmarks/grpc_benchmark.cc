#include "benchmarks/grpc_benchmark.h"

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "benchmarks/bench_util.h"
#include "benchmarks/e2e_common.h"
#include "etcdisc/grpc.h"
#include "greeter_call.h"
#include "greeter.grpc.pb.h"

namespace etcdisc::bench {
namespace {

using Clock = std::chrono::steady_clock;

std::string Fixed(double value, int digits) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.*f", digits, value);
  return text;
}

double MsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// A greeter in this process that answers with its port.
class Server final : public examples::Greeter::Service {
 public:
  Server() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port_);
    builder.RegisterService(this);
    server_ = builder.BuildAndStart();
  }
  ~Server() override { server_->Shutdown(std::chrono::system_clock::now()); }
  grpc::Status SayHello(grpc::ServerContext*, const examples::HelloRequest*,
                        examples::HelloReply* reply) override {
    reply->set_server_uuid(port());
    return grpc::Status::OK;
  }
  std::string port() const { return std::to_string(port_); }
  std::unique_ptr<Registration> Register(Client& client) const {
    HostSpec host;
    host.name = "127.0.0.1";
    host.ports = {{"grpc", port()}};
    RegisterOptions options;
    options.health_interval = std::chrono::milliseconds(0);
    auto reg = client.Register("greeter", host, options);
    if (!reg.ok()) return nullptr;
    return *std::move(reg);
  }

 private:
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

// One unary call on `channel`; the port that answered, "" on failure.
std::string Call(const std::shared_ptr<grpc::Channel>& channel) {
  examples::Greeter::Stub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + seconds(5));
  examples::HelloRequest request;
  examples::HelloReply reply;
  return stub.SayHello(&context, request, &reply).ok() ? reply.server_uuid() : "";
}

std::string CallThrough(const ServiceChannels& channels) {
  const GreeterAnswer answer = CallGreeter(channels, seconds(5));
  return answer.status.ok() ? answer.server_uuid : "";
}

// Alternating batches of 100 calls: a plain channel, then the channels.
void CallLatency(Client& client, std::string* report) {
  Server server;
  auto reg = server.Register(client);
  auto channels = ServiceChannels::Open(client, "greeter");
  if (reg == nullptr || !channels.ok() ||
      !(*channels)->WaitReady(seconds(10)).ok()) {
    absl::StrAppend(report, "(the gRPC call benchmark could not start)\n\n");
    return;
  }
  auto plain = grpc::CreateChannel("127.0.0.1:" + server.port(),
                                   grpc::InsecureChannelCredentials());
  std::vector<double> direct, through;
  for (int warm = 0; warm < 200; ++warm) {
    Call(plain);
    CallThrough(**channels);
  }
  for (int batch = 0; batch < 50; ++batch) {
    for (int i = 0; i < 100; ++i) {
      const auto start = Clock::now();
      if (!Call(plain).empty()) direct.push_back(MsSince(start));
    }
    for (int i = 0; i < 100; ++i) {
      const auto start = Clock::now();
      if (!CallThrough(**channels).empty()) through.push_back(MsSince(start));
    }
  }
  const Summary d = Summarize(direct), t = Summarize(through);
  absl::StrAppend(
      report,
      "A unary call to a greeter in this process over loopback, 5,000 each, "
      "in alternating batches of 100 after 200 to warm up: on a plain "
      "channel to the server, and through `ServiceChannels` (Pick, a stub "
      "made for the call, the call, Done).\n\n"
      "| call, ms | n | p50 | p90 | p99 | max |\n|---|---|---|---|---|---|\n",
      Row("plain channel", d), Row("through ServiceChannels", t), "\n",
      "Added by etcdisc at the median: ",
      Fixed((t.p50 - d.p50) * 1000.0, 1), " us (",
      Fixed(d.p50 > 0 ? t.p50 / d.p50 : 0, 2), "x).\n\n");
}

// A thread calling through `channels` every 1 ms; the time (ms since
// `start`) at which `port` first answered, or -1.
double FirstAnswerFrom(const ServiceChannels& channels, const std::string& port,
                       Clock::time_point start, std::chrono::milliseconds limit) {
  while (Clock::now() - start < limit) {
    if (CallThrough(channels) == port) return MsSince(start);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return -1;
}

void RegisterToFirstCall(Client& client, int samples, std::string* report) {
  Server first;
  auto keep = first.Register(client);
  auto channels = ServiceChannels::Open(client, "greeter");
  if (keep == nullptr || !channels.ok() ||
      !(*channels)->WaitReady(seconds(10)).ok()) {
    absl::StrAppend(report, "(the first-call benchmark could not start)\n\n");
    return;
  }
  std::vector<double> registered, first_call;
  for (int i = 0; i < samples; ++i) {
    Server server;
    const auto start = Clock::now();
    auto reg = server.Register(client);
    if (reg == nullptr || !reg->WaitRegistration(seconds(10)).ok()) continue;
    registered.push_back(MsSince(start));
    const double first_ms =
        FirstAnswerFrom(**channels, server.port(), start, seconds(10));
    if (first_ms >= 0) first_call.push_back(first_ms);
    reg->Stop().IgnoreError();
  }
  absl::StrAppend(
      report,
      "A new greeter registers while this process calls the service every "
      "1 ms through `ServiceChannels` (round robin over it and one other "
      "host); ", samples, " samples, each from just before Register.\n\n"
      "| ms | n | p50 | p90 | p99 | max |\n|---|---|---|---|---|---|\n",
      Row("Register -> in etcd (WaitRegistration)", Summarize(registered)),
      Row("Register -> its first call answered", Summarize(first_call)),
      "\n");
}

}  // namespace

void GrpcBenchmarks(const std::string& endpoints, int samples,
                    std::string* report) {
  absl::StrAppend(report, "## Balancing and gRPC channels\n\n");
  auto client = MakeClient(endpoints);
  CallLatency(*client, report);
  RegisterToFirstCall(*client, samples, report);
}

}  // namespace etcdisc::bench
