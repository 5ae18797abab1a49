#include "tools/host_flags.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "discovery/host_rules.h"
#include "gflags/gflags.h"
#include "tools/cli.h"

DEFINE_string(hostname, "", "register, run: the host's (public) hostname or address");
DEFINE_string(ports, "", "register, run: SCHEME=PORT,... e.g. http=80,https=443");
DEFINE_string(private_hostname, "", "register, run: the host's private hostname");
DEFINE_string(private_ports, "", "register, run: private SCHEME=PORT,...");
DEFINE_bool(public, false, "register, run: the service is public");
DEFINE_bool(critical, false, "register, run: the service is critical");
DEFINE_string(shard, "",
              "register, run: the host's shard; get, wait: keep this shard");
DEFINE_string(user, "", "register, run: user of a public service");
DEFINE_string(password_file, "", "register, run: file holding the password");
DEFINE_string(ttl, "5s",
              "register, run: lease TTL (etcd raises it to its minimum); "
              "cluster join: the member's TTL, 2s unless given");
DEFINE_string(health_interval, "10s",
              "register, run: how often the host's health is published for "
              "`etcdisc fleet`; 0 turns it off");
DEFINE_string(health_retention, "24h",
              "register, run: how long `etcdisc fleet` shows the host "
              "offline after it went");
DEFINE_string(go_grpc_target, "",
              "register, run: also publish the host for Go clients dialing "
              "etcd:///TARGET (etcd's gRPC resolver), at its port "
              "--go-grpc-port");
DEFINE_string(go_grpc_port, "grpc",
              "register, run: the port (by scheme) Go clients call");

namespace etcdisc::cli {

const char* EventName(RegistrationEvent::Kind kind) {
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
  absl::Status valid = internal::ValidateHost(host);
  if (!valid.ok()) return valid;
  return host;
}

absl::StatusOr<RegisterOptions> RegisterOptionsFromFlags() {
  auto ttl = ParseDuration("ttl", FLAGS_ttl);
  if (!ttl.ok()) return ttl.status();
  RegisterOptions options;
  options.ttl = *ttl;
  if (FLAGS_health_interval == "0") {
    options.health_interval = std::chrono::milliseconds(0);
  } else {
    auto interval = ParseDuration("health-interval", FLAGS_health_interval);
    if (!interval.ok()) return interval.status();
    options.health_interval = *interval;
  }
  auto retention = ParseDuration("health-retention", FLAGS_health_retention);
  if (!retention.ok()) return retention.status();
  options.health_retention =
      std::chrono::duration_cast<std::chrono::seconds>(*retention);
  options.go_grpc_target = FLAGS_go_grpc_target;
  options.go_grpc_port = FLAGS_go_grpc_port;
  return options;
}

}  // namespace etcdisc::cli
