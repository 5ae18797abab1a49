// End-to-end latencies of the discovery API against a real local etcd that
// this program starts (one member, on free loopback ports):
//  - register -> visible: from Register() to the New event in a subscriber on
//    another client (its own connection), over --samples registrations;
//  - Stop -> Down: from Stop() to the Down event there;
//  - kill -9 -> Down: a registrar process killed at a random point of its
//    keep-alive cycle, to the Down event (TTL 2 s), over --kills kills.
// Prints p50 / p90 / p99 / max per figure.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "etcdisc/client.h"
#include "support/etcd_cluster.h"

namespace {

using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

void Report(const char* what, std::vector<double> ms) {
  if (ms.empty()) return;
  std::sort(ms.begin(), ms.end());
  const auto at = [&](double q) {
    return ms[std::min(ms.size() - 1, static_cast<size_t>(q * ms.size()))];
  };
  std::printf("%-22s n=%-5zu p50=%8.3f ms  p90=%8.3f ms  p99=%8.3f ms  max=%8.3f ms\n",
              what, ms.size(), at(0.5), at(0.9), at(0.99), ms.back());
}

std::unique_ptr<etcdisc::Client> NewClient(const std::string& endpoints) {
  etcdisc::ClientOptions options;
  options.endpoints = endpoints;
  auto client = etcdisc::Client::Create(options);
  if (!client.ok()) {
    std::fprintf(stderr, "%s\n", client.status().ToString().c_str());
    std::exit(1);
  }
  return *std::move(client);
}

}  // namespace

int main(int argc, char** argv) {
  int samples = 200;
  int kills = 10;
  std::string registrar;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--samples=", 0) == 0) samples = std::atoi(arg.c_str() + 10);
    if (arg.rfind("--kills=", 0) == 0) kills = std::atoi(arg.c_str() + 8);
    if (arg.rfind("--registrar=", 0) == 0) registrar = arg.substr(12);
  }
  auto cluster = etcdisc::testing::EtcdCluster::Start();
  if (!cluster.ok()) {
    std::fprintf(stderr, "%s\n", cluster.status().ToString().c_str());
    return 1;
  }
  const std::string endpoints = (*cluster)->endpoints();
  auto watcher = NewClient(endpoints);
  auto registrant = NewClient(endpoints);
  auto news = watcher->SubscribeNew("bench");
  auto downs = watcher->SubscribeDown("bench");
  if (!news.ok() || !downs.ok()) return 1;

  std::vector<double> visible, stop_down;
  etcdisc::Host host;
  host.name = "10.0.0.1";
  host.ports = {{"http", "80"}};
  for (int i = 0; i < samples; ++i) {
    const auto start = Clock::now();
    auto reg = registrant->Register("bench", host);
    auto seen = (*news)->Pop(std::chrono::seconds(10));
    if (!reg.ok() || !seen) return 1;
    if (i > 0) visible.push_back(Ms(Clock::now() - start));  // 0 pays a grant.
    const auto stop = Clock::now();
    if (!(*reg)->Stop().ok()) return 1;
    if (!(*downs)->Pop(std::chrono::seconds(10))) return 1;
    stop_down.push_back(Ms(Clock::now() - stop));
  }
  Report("register -> New", visible);
  Report("Stop -> Down", stop_down);

  std::vector<double> kill_down;
  std::mt19937 rng(42);
  for (int k = 0; k < kills && !registrar.empty(); ++k) {
    int out[2];
    if (::pipe(out) != 0) return 1;
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      ::execl(registrar.c_str(), registrar.c_str(), endpoints.c_str(), "bench",
              "10.0.0.2", "2000", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(out[1]);
    char c;
    while (::read(out[0], &c, 1) == 1 && c != '\n') {
    }
    ::close(out[0]);
    (*news)->Pop(std::chrono::seconds(10));
    // Anywhere in the keep-alive cycle (a third of the 2 s TTL).
    std::this_thread::sleep_for(std::chrono::milliseconds(
        std::uniform_int_distribution<int>(0, 667)(rng)));
    const auto killed = Clock::now();
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    if (!(*downs)->Pop(std::chrono::seconds(20))) return 1;
    kill_down.push_back(Ms(Clock::now() - killed));
  }
  Report("kill -9 -> Down (2 s)", kill_down);
  return 0;
}
