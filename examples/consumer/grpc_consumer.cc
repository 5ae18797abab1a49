// A program built against an installed etcdisc and etcdisc_grpc: it serves
// one gRPC method (/etcdisc.consumer.Echo/Echo, answering with the bytes it
// was sent) on a free port, registers that port as its host's "grpc" port,
// and calls the method through etcdisc::ServiceChannels. Exit status 0 only
// if the call reached the host it registered and came back with what it
// sent. The etcd cluster comes from ETCD_HOSTS.
#include <chrono>
#include <future>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include "etcdisc/client.h"
#include "etcdisc/grpc.h"

namespace {

const char kMethod[] = "/etcdisc.consumer.Echo/Echo";

// Answers a call to kMethod with the message it reads; any other method
// with UNIMPLEMENTED. Deletes itself when the call is done.
class EchoReactor final : public grpc::ServerGenericBidiReactor {
 public:
  explicit EchoReactor(bool known) {
    if (!known) {
      Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "no such method"));
      return;
    }
    StartRead(&message_);
  }
  void OnReadDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no message"));
      return;
    }
    StartWriteAndFinish(&message_, grpc::WriteOptions(), grpc::Status::OK);
  }
  void OnDone() override { delete this; }

 private:
  grpc::ByteBuffer message_;
};

class EchoService final : public grpc::CallbackGenericService {
  grpc::ServerGenericBidiReactor* CreateReactor(
      grpc::GenericCallbackServerContext* context) override {
    return new EchoReactor(context->method() == kMethod);
  }
};

std::string Text(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string text;
  if (!buffer.Dump(&slices).ok()) return text;
  for (const grpc::Slice& slice : slices) {
    text.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return text;
}

// Calls kMethod on `channel` with `text`; the answer, or the status's
// message when the call failed (*status says which).
std::string CallEcho(const std::shared_ptr<grpc::Channel>& channel,
                     const std::string& text, grpc::Status* status) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(5));
  grpc::Slice slice(text);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, kMethod, grpc::StubOptions(), &request, &response,
                 [&done](grpc::Status s) { done.set_value(std::move(s)); });
  *status = done.get_future().get();
  return status->ok() ? Text(response) : status->error_message();
}

}  // namespace

int main(int argc, char** argv) {
  const std::string service = argc > 1 ? argv[1] : "grpc-consumer-example";
  EchoService echo;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                           &port);
  builder.RegisterCallbackGenericService(&echo);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::cerr << "the gRPC server did not start\n";
    return 1;
  }
  auto client = etcdisc::Client::FromEnvironment();
  if (!client.ok()) {
    std::cerr << client.status() << "\n";
    return 1;
  }
  etcdisc::HostSpec spec;
  spec.name = "127.0.0.1";
  spec.ports = {{"grpc", std::to_string(port)}};
  auto registration = (*client)->Register(service, spec);
  if (!registration.ok()) {
    std::cerr << registration.status() << "\n";
    return 1;
  }
  absl::Status registered =
      (*registration)->WaitRegistration(std::chrono::seconds(10));
  auto channels = etcdisc::ServiceChannels::Open(**client, service);
  if (!registered.ok() || !channels.ok()) {
    std::cerr << registered << " " << channels.status() << "\n";
    return 1;
  }
  // The view reads etcd after the registration is there: its first read
  // holds the host.
  absl::Status ready = (*channels)->WaitReady(std::chrono::seconds(10));
  auto call = (*channels)->Pick();
  if (!ready.ok() || !call.ok()) {
    std::cerr << ready << " " << call.status() << "\n";
    return 1;
  }
  const std::string uuid = (*registration)->UUID();
  grpc::Status status;
  const std::string answer = CallEcho(call->channel(), uuid, &status);
  call->Done(status);
  const bool ok = status.ok() && answer == uuid && call->host().uuid == uuid;
  std::cout << (ok ? "found " : "missing ") << service << " " << uuid
            << " through gRPC: " << answer << "\n";
  absl::Status stopped = (*registration)->Stop();
  if (!stopped.ok()) std::cerr << stopped << "\n";
  server->Shutdown();
  return ok && stopped.ok() ? 0 : 1;
}
