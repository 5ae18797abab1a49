// How a call is written through etcdisc's channels: pick a host, make a stub
// on its channel, call, and say how it went.
#ifndef ETCDISC_EXAMPLES_GRPC_GREETER_CALL_H_
#define ETCDISC_EXAMPLES_GRPC_GREETER_CALL_H_

#include <chrono>
#include <string>

#include <grpcpp/grpcpp.h>

#include "etcdisc/grpc.h"
#include "greeter.grpc.pb.h"

struct GreeterAnswer {
  grpc::Status status;     // The call's, or UNAVAILABLE when no host.
  std::string host_uuid;   // The host picked ("" when none).
  std::string server_uuid; // What the server answered with.
};

inline GreeterAnswer CallGreeter(const etcdisc::ServiceChannels& channels,
                                 std::chrono::milliseconds deadline,
                                 const std::string& name = "") {
  GreeterAnswer answer;
  auto call = channels.Pick();
  if (!call.ok()) {
    answer.status = grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                 std::string(call.status().message()));
    return answer;
  }
  answer.host_uuid = call->host().uuid;
  // A stub per call: it only names the channel and the methods.
  etcdisc::examples::Greeter::Stub stub(call->channel());
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + deadline);
  etcdisc::examples::HelloRequest request;
  request.set_name(name);
  etcdisc::examples::HelloReply reply;
  answer.status = stub.SayHello(&context, request, &reply);
  call->Done(answer.status);  // UNAVAILABLE counts against the host.
  answer.server_uuid = reply.server_uuid();
  return answer;
}

#endif  // ETCDISC_EXAMPLES_GRPC_GREETER_CALL_H_
