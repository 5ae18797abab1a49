// etcdisc run [--wait=SVC,...] [--register=SERVICE ...] -- COMMAND [ARGS...]:
// waits for the dependencies, starts COMMAND, keeps its host registered while
// it runs, passes SIGINT and SIGTERM on to it, and exits with its status.
#include <arpa/inet.h>
#include <signal.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "discovery/host_rules.h"
#include "discovery/keys.h"
#include "gflags/gflags.h"
#include "tools/child_process.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "tools/host_flags.h"
#include "tools/waiting.h"
#include "util/event_queue.h"

DEFINE_string(wait, "",
              "run: services, comma-separated, that must each have a live "
              "host (on any shard) before COMMAND starts; --timeout bounds "
              "the wait (default 30s)");
DEFINE_string(register, "",
              "run: register a host of this service while COMMAND runs, as "
              "`register` does with the same flags");
DEFINE_string(ready_tcp, "",
              "run: register only once this port of 127.0.0.1 (or ::1) "
              "accepts connections");

namespace etcdisc::cli {
namespace {

// How long a refused registration waits before it is tried anew.
constexpr auto kRefusedRetry = std::chrono::seconds(30);
constexpr auto kTick = std::chrono::milliseconds(50);

struct RunPlan {
  std::vector<std::string> command;
  std::vector<std::string> dependencies;
  std::chrono::milliseconds wait{0};
  std::string service;  // Empty: nothing to register.
  Host host;
  RegisterOptions options;
  int ready_port = 0;   // 0: register as soon as COMMAND started.
};

absl::StatusOr<int> PortFromFlag() {
  if (FLAGS_ready_tcp.empty()) return 0;
  const std::optional<int> port = internal::PortNumber(FLAGS_ready_tcp);
  if (!port) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid --ready-tcp=", FLAGS_ready_tcp,
                     ": expected a port from 1 to 65535"));
  }
  if (FLAGS_register.empty()) {
    return absl::InvalidArgumentError(
        "--ready-tcp says when to register: it needs --register=SERVICE");
  }
  return *port;
}

// Everything the flags say, checked before anything starts.
absl::StatusOr<RunPlan> PlanFromFlags(const std::vector<std::string>& command) {
  RunPlan plan;
  plan.command = command;
  plan.dependencies = absl::StrSplit(FLAGS_wait, ',', absl::SkipEmpty());
  for (const std::string& service : plan.dependencies) {
    absl::Status valid = internal::ValidateServiceName(service);
    if (!valid.ok()) return valid;
  }
  auto wait = WaitTimeFromFlags();
  if (!wait.ok()) return wait.status();
  plan.wait = *wait;
  auto port = PortFromFlag();
  if (!port.ok()) return port.status();
  plan.ready_port = *port;
  plan.service = FLAGS_register;
  if (plan.service.empty()) return plan;
  absl::Status valid = internal::ValidateServiceName(plan.service);
  if (!valid.ok()) return valid;
  auto host = HostFromFlags();
  if (!host.ok()) return host.status();
  plan.host = *std::move(host);
  auto options = RegisterOptionsFromFlags();
  if (!options.ok()) return options.status();
  plan.options = *options;
  return plan;
}

bool Accepts(const sockaddr* address, socklen_t size) {
  const int fd = ::socket(address->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const bool connected = ::connect(fd, address, size) == 0;
  ::close(fd);
  return connected;
}

// Whether something listens on `port` of the loopback interface.
bool PortAccepts(int port) {
  sockaddr_in v4{};
  v4.sin_family = AF_INET;
  v4.sin_port = htons(static_cast<uint16_t>(port));
  v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (Accepts(reinterpret_cast<const sockaddr*>(&v4), sizeof(v4))) return true;
  sockaddr_in6 v6{};
  v6.sin6_family = AF_INET6;
  v6.sin6_port = htons(static_cast<uint16_t>(port));
  v6.sin6_addr = in6addr_loopback;
  return Accepts(reinterpret_cast<const sockaddr*>(&v6), sizeof(v6));
}

void Say(const std::string& line) {
  std::fprintf(stderr, "etcdisc: %s\n", line.c_str());
  std::fflush(stderr);
}

// The host registered while COMMAND runs. Lives on the command's thread:
// the registration's callback only queues its events, which Tick() prints.
class HostKeeper {
 public:
  HostKeeper(Client& client, const RunPlan& plan)
      : client_(client), plan_(plan) {}

  // Registers when it is time, prints what happened to the registration, and
  // after a refusal of etcd's, registers anew every 30 s.
  void Tick() {
    switch (phase_) {
      case Phase::kWaitingForPort:
        if (plan_.ready_port == 0 || PortAccepts(plan_.ready_port)) Start();
        return;
      case Phase::kKept:
        PrintEvents();
        return;
      case Phase::kRefused:
        if (std::chrono::steady_clock::now() >= retry_at_) Start();
        return;
      case Phase::kStopped:
        return;
    }
  }

  // Revokes the lease (the host goes down at once); nothing is registered
  // after it.
  void Stop() {
    if (phase_ == Phase::kStopped) return;
    phase_ = Phase::kStopped;
    if (registration_ == nullptr) return;
    // Its kStopped event says whether etcd could be told.
    registration_->Stop().IgnoreError();
    PrintEvents();
    registration_.reset();
  }

 private:
  enum class Phase {
    kWaitingForPort,  // COMMAND runs; --ready-tcp's port does not accept yet.
    kKept,            // registration_ keeps the host in etcd.
    kRefused,         // etcd refused it; registered anew at retry_at_.
    kStopped,         // Stop() ran.
  };

  void Start() {
    auto events = events_;
    auto registration = client_.Register(
        plan_.service, plan_.host, plan_.options,
        [events](const RegistrationEvent& e) { events->Push(e); });
    if (!registration.ok()) {
      Refused(registration.status());
      return;
    }
    registration_ = *std::move(registration);
    uuid_ = registration_->UUID();
    phase_ = Phase::kKept;
  }

  void Refused(const absl::Status& why) {
    Say(absl::StrCat("cannot register ", plan_.service, ": ", why.message(),
                     "; trying again in 30s (the command keeps running)"));
    if (registration_ != nullptr) registration_->Stop().IgnoreError();
    registration_.reset();
    phase_ = Phase::kRefused;
    retry_at_ = std::chrono::steady_clock::now() + kRefusedRetry;
  }

  void PrintEvents() {
    while (auto e = events_->TryPop()) {
      if (ExitCodeFor(e->detail) == kDenied && phase_ == Phase::kKept) {
        Refused(e->detail);  // The registration gave up; it is tried anew.
        continue;
      }
      Print(*e);
    }
  }

  void Print(const RegistrationEvent& e) {
    std::string line = absl::StrCat(EventName(e.kind), " ", plan_.service, " ", uuid_);
    if (!e.detail.ok()) absl::StrAppend(&line, ": ", e.detail.message());
    if (e.kind == RegistrationEvent::Kind::kLost ||
        e.kind == RegistrationEvent::Kind::kAttemptFailed) {
      absl::StrAppend(&line, " (trying again; the command keeps running)");
    } else if (e.kind == RegistrationEvent::Kind::kStopped && !e.detail.ok()) {
      absl::StrAppend(&line, " (its keys expire with the TTL)");
    }
    Say(line);
  }

  Client& client_;
  const RunPlan& plan_;
  const std::shared_ptr<internal::EventQueue<RegistrationEvent>> events_ =
      std::make_shared<internal::EventQueue<RegistrationEvent>>();
  Phase phase_ = Phase::kWaitingForPort;
  std::unique_ptr<Registration> registration_;
  std::string uuid_;  // Of the last registration, for its events.
  std::chrono::steady_clock::time_point retry_at_;
};

// Runs COMMAND to its end: its host is registered meanwhile. A SIGINT,
// SIGTERM, SIGQUIT or SIGHUP is passed on to it; all but SIGHUP (by custom,
// "reload") take the host down at once.
int Supervise(ChildProcess& child, HostKeeper* keeper) {
  std::optional<int> status;
  while (!(status = child.Poll())) {
    if (keeper != nullptr) keeper->Tick();
    const int taken = TakePassedOnSignal(kTick);
    if (taken == 0) continue;
    child.Signal(taken);
    if (keeper != nullptr && taken != SIGHUP) keeper->Stop();
  }
  if (keeper != nullptr) keeper->Stop();
  return *status;
}

}  // namespace

int RunRun(const std::vector<std::string>& args) {
  if (args.size() < 2) {
    return UsageError("run takes a COMMAND to run, after --");
  }
  auto plan = PlanFromFlags({args.begin() + 1, args.end()});
  if (!plan.ok()) return Fail(plan.status());
  BlockTerminationSignals();
  auto client = ClientFromFlags();
  if (!client.ok()) return Fail(client.status());
  if (!plan->dependencies.empty()) {
    const int waited =
        WaitForHosts(**client, plan->dependencies, "", plan->wait, stderr);
    if (waited != kOk) return waited;
  }
  // From here on, a SIGHUP or SIGQUIT is for COMMAND, not the end of etcdisc
  // with COMMAND left running and its host registered.
  BlockPassedOnSignals();
  auto child = ChildProcess::Start(plan->command);
  if (!child.ok()) {
    Say(std::string(child.status().message()));
    return child.status().code() == absl::StatusCode::kNotFound ? 127 : 126;
  }
  std::optional<HostKeeper> keeper;
  if (!plan->service.empty()) keeper.emplace(**client, *plan);
  return Supervise(*child, keeper ? &*keeper : nullptr);
}

}  // namespace etcdisc::cli
