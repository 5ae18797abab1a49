// etcdisc register SERVICE: registers a host and keeps it registered until
// SIGINT or SIGTERM, which revoke its lease.
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "etcdisc/metrics.h"
#include "etcdisc/subscription.h"
#include "gflags/gflags.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "tools/host_flags.h"
#include "util/event_queue.h"

DEFINE_string(metrics_file, "",
              "register: write the client's metrics in Prometheus' text "
              "format to this file on every event and every 10 s, and remove "
              "it on exit (for node_exporter's textfile collector)");

DECLARE_bool(json);

namespace etcdisc::cli {
namespace {

void Print(const std::string& service, const std::string& uuid,
           const RegistrationEvent& e) {
  if (FLAGS_json) {
    std::printf("{\"event\":%s,\"service\":%s,\"uuid\":%s",
                JsonString(EventName(e.kind)).c_str(),
                JsonString(service).c_str(), JsonString(uuid).c_str());
    if (!e.detail.ok()) {
      std::printf(",\"detail\":%s",
                  JsonString(e.detail.message()).c_str());
    }
    std::printf("}\n");
  } else {
    std::printf("%-20s %s %s%s%s\n", EventName(e.kind), service.c_str(),
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
  auto options = RegisterOptionsFromFlags();
  if (!options.ok()) return Fail(options.status());

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
  auto registration = (*client)->Register(
      service, *host, *options,
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
