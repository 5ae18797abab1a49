// A program built against an installed etcdisc: it registers one host of a
// service, finds it again with Get, and revokes it. Exit status 0 only if the
// host it registered was found. The etcd cluster comes from ETCD_HOSTS.
#include <chrono>
#include <iostream>

#include "etcdisc/client.h"
#include "etcdisc/version.h"

int main(int argc, char** argv) {
  const std::string service = argc > 1 ? argv[1] : "consumer-example";
  std::cout << "etcdisc " << etcdisc::Version() << "\n";
  auto client = etcdisc::Client::FromEnvironment();
  if (!client.ok()) {
    std::cerr << client.status() << "\n";
    return 1;
  }
  etcdisc::HostSpec spec;
  spec.name = "127.0.0.1";
  spec.ports = {{"http", "8080"}};
  auto registration = (*client)->Register(service, spec);
  if (!registration.ok()) {
    std::cerr << registration.status() << "\n";
    return 1;
  }
  absl::Status registered =
      (*registration)->WaitRegistration(std::chrono::seconds(10));
  if (!registered.ok()) {
    std::cerr << registered << "\n";
    return 1;
  }
  const std::string uuid = (*registration)->UUID();
  auto hosts = (*client)->Get(service);
  bool found = false;
  if (hosts.ok()) {
    if (auto all = hosts->All(); all.ok()) {
      for (const etcdisc::Host& host : *all) found |= host.uuid == uuid;
    }
  }
  std::cout << (found ? "found " : "missing ") << service << " " << uuid << "\n";
  absl::Status stopped = (*registration)->Stop();
  if (!stopped.ok()) std::cerr << stopped << "\n";
  return found && stopped.ok() ? 0 : 1;
}
