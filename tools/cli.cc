#include "tools/cli.h"

#include <signal.h>
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <initializer_list>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "discovery/json.h"
#include "etcdisc/log.h"
#include "gflags/gflags.h"

DEFINE_string(endpoints, "",
              "etcd members, comma-separated: http://h1:2379,http://h2:2379 "
              "(default: $ETCD_HOSTS, else $ETCD_HOST, else "
              "http://localhost:2379)");
DEFINE_string(timeout, "5s", "deadline of each call to etcd, e.g. 500ms, 2s");
DEFINE_string(prefix, "", "key prefix shared by the services, e.g. /tenant-a");
DEFINE_bool(show_secrets, false, "show passwords in output");
DEFINE_bool(json, false, "print JSON (JSON lines for watch) for scripts");
DEFINE_string(cacert, "",
              "CA bundle that signed etcd's certificates, for https:// "
              "endpoints (default: $ETCD_CACERT, else the system's)");
DEFINE_string(cert, "",
              "client certificate for mutual TLS (default: $ETCD_TLS_CERT)");
DEFINE_string(key, "", "its private key (default: $ETCD_TLS_KEY)");
DEFINE_string(etcd_user, "",
              "etcd user, for an etcd with authentication on (default: "
              "$ETCD_USER; not needed with a client certificate whose common "
              "name is the user)");
DEFINE_string(etcd_password_file, "",
              "file whose first line is the etcd user's password (default: "
              "$ETCD_PASSWORD_FILE, else $ETCD_PASSWORD)");
DEFINE_string(endpoint_sync, "0s",
              "register, watch: how often to take etcd's member list as the "
              "endpoints (0s: never), so that a long run outlives the members "
              "given");
DEFINE_string(log_level, "warning",
              "etcdisc's own log lines on stderr: debug, info, warning, error");

namespace etcdisc::cli {

int ExitCodeFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return kOk;
    case absl::StatusCode::kNotFound:
      return kNotFound;
    case absl::StatusCode::kInvalidArgument:
      return kUsage;
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
      return kDenied;
    case absl::StatusCode::kAlreadyExists:
      return kTaken;
    default:
      return kUnreachable;
  }
}

int Fail(const absl::Status& status) {
  const int code = ExitCodeFor(status);
  if (code == kUnreachable) {
    std::fprintf(stderr, "etcdisc: etcd failed or unreachable (endpoints %s): %s\n",
                 EndpointsFromFlags().c_str(),
                 std::string(status.message()).c_str());
  } else {
    std::fprintf(stderr, "etcdisc: %s\n", std::string(status.message()).c_str());
  }
  return code;
}

int UsageError(absl::string_view message) {
  std::fprintf(stderr, "etcdisc: %s\n", std::string(message).c_str());
  return kUsage;
}

absl::StatusOr<std::chrono::milliseconds> ParseDuration(
    absl::string_view flag, absl::string_view text) {
  absl::Duration d;
  if (!absl::ParseDuration(text, &d) || d <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid --", flag, "=", text,
        ": expected a positive duration like 500ms, 2s or 1m"));
  }
  return std::chrono::milliseconds(absl::ToInt64Milliseconds(d));
}

absl::StatusOr<Ports> ParsePorts(absl::string_view flag,
                                 absl::string_view text) {
  Ports ports;
  for (absl::string_view item : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(item, absl::MaxSplits('=', 1));
    if (kv.first.empty() || kv.second.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid --", flag, " item \"", item,
          "\": expected SCHEME=PORT, like http=80"));
    }
    ports[std::string(kv.first)] = std::string(kv.second);
  }
  return ports;
}

std::string EndpointsFromFlags() {
  if (!FLAGS_endpoints.empty()) return FLAGS_endpoints;
  auto options = ClientOptionsFromEnvironment();
  return options.ok() ? options->endpoints : "?";
}

absl::StatusOr<std::unique_ptr<Client>> ClientFromFlags() {
  LogLevel level;
  if (!ParseLogLevel(FLAGS_log_level, &level)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid --log-level \"", FLAGS_log_level,
        "\": it must be debug, info, warning or error"));
  }
  SetLogLevel(level);
  auto options = ClientOptionsFromEnvironment();
  if (!options.ok()) return options.status();
  if (!FLAGS_endpoints.empty()) options->endpoints = FLAGS_endpoints;
  // A flag replaces what the environment gave for the same item.
  if (!FLAGS_cacert.empty()) {
    options->tls.ca_file = FLAGS_cacert;
    options->tls.ca_pem.clear();
  }
  if (!FLAGS_cert.empty()) {
    options->tls.cert_file = FLAGS_cert;
    options->tls.cert_pem.clear();
  }
  if (!FLAGS_key.empty()) {
    options->tls.key_file = FLAGS_key;
    options->tls.key_pem.clear();
  }
  if (!FLAGS_etcd_user.empty()) options->auth.user = FLAGS_etcd_user;
  if (!FLAGS_etcd_password_file.empty()) {
    options->auth.password_file = FLAGS_etcd_password_file;
    options->auth.password.clear();
  }
  auto timeout = ParseDuration("timeout", FLAGS_timeout);
  if (!timeout.ok()) return timeout.status();
  options->call_timeout = *timeout;
  if (FLAGS_endpoint_sync != "0" && FLAGS_endpoint_sync != "0s") {
    auto sync = ParseDuration("endpoint-sync", FLAGS_endpoint_sync);
    if (!sync.ok()) return sync.status();
    options->endpoint_sync_interval = *sync;
  }
  options->key_prefix = FLAGS_prefix;
  options->worker_threads = 2;
  return Client::Create(*std::move(options));
}

namespace {

sigset_t SignalSet(std::initializer_list<int> signals) {
  sigset_t set;
  sigemptyset(&set);
  for (int signal_number : signals) sigaddset(&set, signal_number);
  return set;
}

int TakeSignal(const sigset_t& set, std::chrono::milliseconds wait) {
  timespec timeout;
  timeout.tv_sec = wait.count() / 1000;
  timeout.tv_nsec = (wait.count() % 1000) * 1000000;
  const int signal = sigtimedwait(&set, nullptr, &timeout);
  return signal > 0 ? signal : 0;
}

const sigset_t kTermination = SignalSet({SIGINT, SIGTERM});
const sigset_t kPassedOn = SignalSet({SIGINT, SIGTERM, SIGHUP, SIGQUIT});

}  // namespace

void BlockTerminationSignals() {
  pthread_sigmask(SIG_BLOCK, &kTermination, nullptr);
}

int TakeTerminationSignal(std::chrono::milliseconds wait) {
  return TakeSignal(kTermination, wait);
}

void BlockPassedOnSignals() { pthread_sigmask(SIG_BLOCK, &kPassedOn, nullptr); }

int TakePassedOnSignal(std::chrono::milliseconds wait) {
  return TakeSignal(kPassedOn, wait);
}

Host Redacted(Host host) {
  if (!FLAGS_show_secrets) host.password.clear();
  return host;
}

std::string JsonString(absl::string_view text) {
  std::string out;
  internal::AppendJsonString(&out, text);
  return out;
}

}  // namespace etcdisc::cli
