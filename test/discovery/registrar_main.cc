// A separate process that registers one host and stays registered until it
// is killed: tests kill it -9 to see its host go down by lease expiry.
// Usage: registrar ENDPOINTS SERVICE HOSTNAME TTL_MS
// Prints the host's uuid on a line of its own once registered.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "etcdisc/client.h"

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s ENDPOINTS SERVICE HOSTNAME TTL_MS\n",
                 argv[0]);
    return 2;
  }
  etcdisc::ClientOptions options;
  options.endpoints = argv[1];
  auto client = etcdisc::Client::Create(options);
  if (!client.ok()) {
    std::fprintf(stderr, "%s\n", client.status().ToString().c_str());
    return 1;
  }
  etcdisc::Host host;
  host.name = argv[3];
  host.ports = {{"http", "80"}};
  etcdisc::RegisterOptions register_options;
  register_options.ttl = std::chrono::milliseconds(std::atoi(argv[4]));
  auto reg = (*client)->Register(argv[2], host, register_options);
  if (!reg.ok() || !(*reg)->WaitRegistration(std::chrono::seconds(20)).ok()) {
    std::fprintf(stderr, "registration failed\n");
    return 1;
  }
  std::printf("%s\n", (*reg)->UUID().c_str());
  std::fflush(stdout);
  while (true) std::this_thread::sleep_for(std::chrono::seconds(1));
}
