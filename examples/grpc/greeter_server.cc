// greeter_server: a gRPC server of the Greeter service that registers
// itself with etcdisc, answers with its uuid, and on SIGTERM or SIGINT goes
// down in etcd first, then finishes its calls under way and exits.
//
//   ETCD_HOSTS=http://127.0.0.1:2379 greeter_server --service=greeter --port=0
//   port=41527 uuid=6f1c...-127.0.0.1
//   first_call                          (at the first call, always second)
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "duration_flag.h"
#include "etcdisc/client.h"
#include "gflags/gflags.h"
#include "greeter.grpc.pb.h"

DEFINE_string(service, "greeter", "the service to register under");
DEFINE_int32(port, 0, "the port to serve on; 0 picks a free one");
DEFINE_string(hostname, "127.0.0.1", "the address to serve on and register");
DEFINE_string(ttl, "5s", "the registration's TTL");
DEFINE_string(grace, "1s",
              "after going down in etcd, how long to go on serving calls that "
              "clients picked before they saw it");

namespace {

class Greeter final : public etcdisc::examples::Greeter::Service {
 public:
  grpc::Status SayHello(grpc::ServerContext*,
                        const etcdisc::examples::HelloRequest* request,
                        etcdisc::examples::HelloReply* reply) override {
    calls_.fetch_add(1);
    if (!first_call_said_.load()) SayFirstCall();
    reply->set_message("hello " + request->name());
    std::lock_guard<std::mutex> lock(mu_);
    reply->set_server_uuid(uuid_);
    return grpc::Status::OK;
  }
  // Known once registered; a call may come before (from a client that
  // found the port some other way).
  void set_uuid(std::string uuid) {
    std::lock_guard<std::mutex> lock(mu_);
    uuid_ = std::move(uuid);
  }
  int calls() const { return calls_.load(); }
  // Prints the "port=... uuid=..." line. A call can come before it (a
  // client sees the host in etcd before Register returns here); then
  // "first_call" follows it at once, so that it always comes second.
  void SayRegistered(int port) {
    std::lock_guard<std::mutex> lock(mu_);
    std::printf("port=%d uuid=%s\n", port, uuid_.c_str());
    std::fflush(stdout);
    registered_said_ = true;
    SayFirstCallLocked();
  }

 private:
  void SayFirstCall() {
    std::lock_guard<std::mutex> lock(mu_);
    SayFirstCallLocked();
  }
  // "first_call" on stdout once, after the registered line, for whoever
  // waits for traffic.
  void SayFirstCallLocked() {
    if (!registered_said_ || calls_.load() == 0 || first_call_said_.load()) {
      return;
    }
    std::printf("first_call\n");
    std::fflush(stdout);
    first_call_said_.store(true);
  }

  std::mutex mu_;
  std::string uuid_;  // Guarded by mu_.
  bool registered_said_ = false;  // Guarded by mu_.
  std::atomic<bool> first_call_said_{false};  // Written under mu_.
  std::atomic<int> calls_{0};
};

int Fail(const char* what, const absl::Status& status) {
  std::fprintf(stderr, "greeter_server: %s: %s\n", what,
               std::string(status.message()).c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  const auto ttl = DurationFlag("greeter_server", "ttl", FLAGS_ttl);
  const auto grace = DurationFlag("greeter_server", "grace", FLAGS_grace);
  // SIGTERM and SIGINT are taken by sigwait below, on this thread.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  Greeter greeter;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(FLAGS_hostname + ":" + std::to_string(FLAGS_port),
                           grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&greeter);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::fprintf(stderr, "greeter_server: cannot listen on %s:%d\n",
                 FLAGS_hostname.c_str(), FLAGS_port);
    return 1;
  }

  auto options = etcdisc::ClientOptionsFromEnvironment();
  if (!options.ok()) return Fail("etcd options", options.status());
  auto client = etcdisc::Client::Create(*options);
  if (!client.ok()) return Fail("etcd", client.status());
  etcdisc::HostSpec host;
  host.name = FLAGS_hostname;
  host.ports = {{"grpc", std::to_string(port)}};
  etcdisc::RegisterOptions register_options;
  register_options.ttl = ttl;
  auto registration =
      (*client)->Register(FLAGS_service, host, register_options);
  if (!registration.ok()) return Fail("register", registration.status());
  greeter.set_uuid((*registration)->UUID());
  if (absl::Status up = (*registration)->WaitRegistration(std::chrono::seconds(10));
      !up.ok()) {
    return Fail("register", up);
  }
  greeter.SayRegistered(port);

  int signal = 0;
  sigwait(&signals, &signal);
  // Down in etcd first: clients stop picking this host as they see it.
  if (absl::Status down = (*registration)->Stop(); !down.ok()) {
    Fail("going down", down);
  }
  std::this_thread::sleep_for(grace);
  // Calls under way finish; new ones are refused.
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  std::fprintf(stderr, "greeter_server: %s down after %d calls\n",
               (*registration)->UUID().c_str(), greeter.calls());
  return 0;
}
