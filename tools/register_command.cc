// etcdisc register SERVICE: registers a host and keeps it registered until
// SIGINT or SIGTERM, which revoke its lease.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "etcdisc/metrics.h"
#include "etcdisc/subscription.h"
#include "gflags/gflags.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "util/event_queue.h"

DEFINE_string(hostname, "", "register: the host's (public) hostname or address");
DEFINE_string(ports, "", "register: SCHEME=PORT,... e.g. http=80,https=443");
DEFINE_string(private_hostname, "", "register: the host's private hostname");
DEFINE_string(private_ports, "", "register: private SCHEME=PORT,...");
DEFINE_bool(public, false, "register: the service is public");
DEFINE_bool(critical, false, "register: the service is critical");
DEFINE_string(shard, "",
              "register: the host's shard; get, wait: keep this shard");
DEFINE_string(user, "", "register: user of a public service");
DEFINE_string(password_file, "", "register: file holding the password");
DEFINE_string(ttl, "5s", "register: lease TTL (etcd raises it to its minimum)");
DEFINE_string(metrics_file, "",
              "register: write the client's metrics in Prometheus' text "
              "format to this file on every event and every 10 s, and remove "
              "it on exit (for node_exporter's textfile collector)");

DECLARE_bool(json);

namespace etcdisc::cli {
namespace {

const char* KindName(RegistrationEvent::Kind kind) {
  switch (kind) {
    case RegistrationEvent::Kind::kRegistered: return "registered";
    case RegistrationEvent::Kind::kLost: return "lost";
    case RegistrationEvent::Kind::kReregistered: return "re-registered";
    case RegistrationEvent::Kind::kCredentialsChanged:
      return "credentials-changed";
    case RegistrationEvent::Kind::kAttemptFailed: return "attempt-failed";
    case RegistrationEvent::Kind::kStopped: return "stopped";
  }
  return "?";
}

absl::StatusOr<Host> HostFromFlags() {
  Host host;
  host.name = FLAGS_hostname;
  auto ports = ParsePorts("ports", FLAGS_ports);
  if (!ports.ok()) return ports.status();
  host.ports = *ports;
  auto private_ports = ParsePorts("private-ports", FLAGS_private_ports);
  if (!private_ports.ok()) return private_ports.status();
  host.private_ports = *private_ports;
  host.private_hostname = FLAGS_private_hostname;
  host.is_public = FLAGS_public;
  host.critical = FLAGS_critical;
  host.shard = FLAGS_shard;
  host.user = FLAGS_user;
  if (!FLAGS_password_file.empty()) {
    std::ifstream in(FLAGS_password_file);
    if (!in) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid --password-file=", FLAGS_password_file,
          ": cannot read it"));
    }
    std::stringstream text;
    text << in.rdbuf();
    host.password = std::string(absl::StripTrailingAsciiWhitespace(text.str()));
  }
  return host;
}

void Print(const std::string& service, const std::string& uuid,
           const RegistrationEvent& e) {
  if (FLAGS_json) {
    std::printf("{\"event\":%s,\"service\":%s,\"uuid\":%s",
                JsonString(KindName(e.kind)).c_str(),
                JsonString(service).c_str(), JsonString(uuid).c_str());
    if (!e.detail.ok()) {
      std::printf(",\"detail\":%s",
                  JsonString(e.detail.message()).c_str());
    }
    std::printf("}\n");
  } else {
    std::printf("%-20s %s %s%s%s\n", KindName(e.kind), service.c_str(),
                uuid.c_str(), e.detail.ok() ? "" : ": ",
                std::string(e.detail.message()).c_str());
  }
  std::fflush(stdout);
}

// Replaces `path` with the client's metrics in one rename, so that a reader
// never sees half a file.
absl::Status WriteMetricsFile(const Client& client, const std::string& path) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << PrometheusText(client.Metrics());
    if (!out.flush()) {
      std::remove(temporary.c_str());
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid --metrics-file=", path, ": cannot write ", temporary));
    }
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    std::remove(temporary.c_str());
    return absl::InvalidArgumentError(
        absl::StrCat("invalid --metrics-file=", path, ": cannot rename ",
                     temporary, " to it"));
  }
  return absl::OkStatus();
}

}  // namespace

int RunRegister(const std::vector<std::string>& args) {
  if (args.size() != 2) return UsageError("register takes one SERVICE");
  const std::string service = args[1];
  auto host = HostFromFlags();
  if (!host.ok()) return Fail(host.status());
  auto ttl = ParseDuration("ttl", FLAGS_ttl);
  if (!ttl.ok()) return Fail(ttl.status());

  BlockTerminationSignals();
  auto client = ClientFromFlags();
  if (!client.ok()) return Fail(client.status());
  // A file that cannot be written is refused before anything is registered.
  const bool metrics = !FLAGS_metrics_file.empty();
  if (metrics) {
    absl::Status written = WriteMetricsFile(**client, FLAGS_metrics_file);
    if (!written.ok()) return Fail(written);
  }
  // Events are printed by this thread, in order, as the callback queues them.
  auto events = std::make_shared<internal::EventQueue<RegistrationEvent>>();
  RegisterOptions options;
  options.ttl = *ttl;
  auto registration = (*client)->Register(
      service, *host, options,
      [events](const RegistrationEvent& e) { events->Push(e); });
  if (!registration.ok()) return Fail(registration.status());
  const std::string uuid = (*registration)->UUID();

  auto next_metrics = std::chrono::steady_clock::now();
  int exit_code = kOk;
  while (TakeTerminationSignal(std::chrono::milliseconds(0)) == 0) {
    auto e = events->Pop(std::chrono::milliseconds(100));
    if (e) Print(service, uuid, *e);
    if (e && ExitCodeFor(e->detail) == kDenied) {
      // etcd refused the user or its permission: the registration gave up.
      exit_code = Fail(e->detail);
      break;
    }
    if (metrics && (e || std::chrono::steady_clock::now() >= next_metrics)) {
      absl::Status written = WriteMetricsFile(**client, FLAGS_metrics_file);
      if (!written.ok()) {
        std::fprintf(stderr, "etcdisc: %s\n", std::string(written.message()).c_str());
      }
      next_metrics = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    }
  }
  const absl::Status stopped = (*registration)->Stop();
  // A process that is gone exports nothing: the collector drops its series.
  if (metrics) std::remove(FLAGS_metrics_file.c_str());
  while (auto e = events->TryPop()) Print(service, uuid, *e);
  if (!stopped.ok()) {
    std::fprintf(stderr, "etcdisc: %s (its keys expire with the TTL)\n",
                 std::string(stopped.message()).c_str());
  }
  return exit_code;
}

}  // namespace etcdisc::cli
