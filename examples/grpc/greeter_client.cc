// greeter_client: calls the Greeter service through etcdisc's channels, one
// call every --interval, for --calls calls or --duration, whichever ends
// first (SIGTERM or SIGINT ends them early), and prints what happened:
//
//   ready
//   ok=1994 failed=1
//   server=6f1c...-127.0.0.1 calls=671
//   ...
//   failed=a83e...-127.0.0.1 calls=1
//   down=a83e...-127.0.0.1 calls_after=0
//
// "ready" comes once the service has a host, before the first call. A
// "failed" line counts the failed calls to a server; a "down" line is
// printed for each server that left the service while the client ran:
// calls_after counts the calls started to it after the client's channels
// dropped it (always 0: a host gone from the service is never picked).
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "duration_flag.h"
#include "etcdisc/client.h"
#include "etcdisc/grpc.h"
#include "etcdisc/view.h"
#include "gflags/gflags.h"
#include "greeter_call.h"

DEFINE_string(service, "greeter", "the service to call");
DEFINE_int32(calls, 0, "how many calls to make; 0: until --duration ends");
DEFINE_string(duration, "0s", "how long to call for; 0s: until --calls are made");
DEFINE_string(interval, "5ms", "the time between two calls");
DEFINE_string(deadline, "1s", "the deadline of each call");
DEFINE_string(policy, "round_robin",
              "round_robin, random or least_in_flight");

namespace {

using Clock = std::chrono::steady_clock;

// Set by SIGTERM or SIGINT: the call under way finishes, then the summary.
std::atomic<bool> stop_requested{false};
static_assert(std::atomic<bool>::is_always_lock_free);
extern "C" void RequestStop(int) { stop_requested.store(true); }

// What the calls did, per server.
struct Tally {
  int ok = 0;
  int failed = 0;
  std::map<std::string, int> calls;  // Answered, by server uuid.
  std::map<std::string, int> failed_to;  // Failed, by server uuid.
  // Servers that left, and calls started to each after it left.
  std::map<std::string, int> calls_after_down;
};

std::set<std::string> Uuids(const etcdisc::HostSnapshot& hosts) {
  std::set<std::string> uuids;
  for (const etcdisc::Host& h : hosts.hosts()) uuids.insert(h.uuid);
  return uuids;
}

etcdisc::BalancePolicy PolicyFromFlag() {
  if (FLAGS_policy == "random") return etcdisc::BalancePolicy::kRandom;
  if (FLAGS_policy == "least_in_flight") {
    return etcdisc::BalancePolicy::kLeastInFlight;
  }
  return etcdisc::BalancePolicy::kRoundRobin;
}

// One call through `channels`, counted in `tally`.
void CallOnce(const etcdisc::ServiceChannels& channels, int n,
              std::chrono::milliseconds deadline, Tally* tally) {
  const GreeterAnswer answer =
      CallGreeter(channels, deadline, "call " + std::to_string(n));
  auto gone = tally->calls_after_down.find(answer.host_uuid);
  if (gone != tally->calls_after_down.end()) ++gone->second;
  if (answer.status.ok()) {
    ++tally->ok;
    // By the host picked: a server answers with its uuid only once its
    // Register has returned, and a first call may come just before.
    ++tally->calls[answer.host_uuid];
    return;
  }
  ++tally->failed;
  if (!answer.host_uuid.empty()) ++tally->failed_to[answer.host_uuid];
  std::fprintf(stderr, "greeter_client: call %d to %s failed: %s\n", n,
               answer.host_uuid.c_str(), answer.status.error_message().c_str());
}

}  // namespace

int main(int argc, char** argv) {
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  const auto duration = DurationFlag("greeter_client", "duration", FLAGS_duration);
  const auto interval = DurationFlag("greeter_client", "interval", FLAGS_interval);
  const auto deadline = DurationFlag("greeter_client", "deadline", FLAGS_deadline);
  if (FLAGS_calls <= 0 && duration.count() == 0) {
    std::fprintf(stderr, "greeter_client: give --calls or --duration\n");
    return 2;
  }
  auto client = etcdisc::Client::FromEnvironment();
  if (!client.ok()) {
    std::fprintf(stderr, "greeter_client: %s\n",
                 std::string(client.status().message()).c_str());
    return 1;
  }
  etcdisc::ChannelOptions options;
  options.balancer.policy = PolicyFromFlag();
  auto channels = etcdisc::ServiceChannels::Open(**client, FLAGS_service, options);
  absl::Status ready = channels.ok()
                           ? etcdisc::WaitFor(**client, {FLAGS_service},
                                              std::chrono::seconds(10))
                           : channels.status();
  if (ready.ok()) ready = (*channels)->WaitReady(std::chrono::seconds(10));
  if (!ready.ok()) {
    std::fprintf(stderr, "greeter_client: %s\n",
                 std::string(ready.message()).c_str());
    return 1;
  }

  struct sigaction stop = {};
  stop.sa_handler = RequestStop;
  stop.sa_flags = SA_RESTART;
  sigaction(SIGTERM, &stop, nullptr);
  sigaction(SIGINT, &stop, nullptr);
  std::printf("ready\n");
  std::fflush(stdout);
  Tally tally;
  std::set<std::string> live = Uuids((*channels)->hosts());
  const auto end = Clock::now() + duration;
  auto next = Clock::now();
  for (int n = 0; FLAGS_calls <= 0 || n < FLAGS_calls; ++n) {
    if (duration.count() > 0 && Clock::now() >= end) break;
    if (stop_requested.load()) break;
    CallOnce(**channels, n, deadline, &tally);
    // Servers the channels dropped since the last call.
    const std::set<std::string> now = Uuids((*channels)->hosts());
    for (const std::string& uuid : live) {
      if (now.count(uuid) == 0) tally.calls_after_down.emplace(uuid, 0);
    }
    live = now;
    next += interval;
    std::this_thread::sleep_until(next);
  }

  std::printf("ok=%d failed=%d\n", tally.ok, tally.failed);
  for (const auto& [uuid, calls] : tally.calls) {
    std::printf("server=%s calls=%d\n", uuid.c_str(), calls);
  }
  for (const auto& [uuid, calls] : tally.failed_to) {
    std::printf("failed=%s calls=%d\n", uuid.c_str(), calls);
  }
  for (const auto& [uuid, calls] : tally.calls_after_down) {
    std::printf("down=%s calls_after=%d\n", uuid.c_str(), calls);
  }
  return 0;
}
