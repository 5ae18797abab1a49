// etcdisc fleet: every host with its health, online and recently offline.
#include <csignal>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "gflags/gflags.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "tools/fleet_server/fleet_server.h"
#include "tools/table.h"

DECLARE_bool(json);
DEFINE_bool(online, false, "fleet: only the hosts online now");
DEFINE_string(listen, "127.0.0.1:8080",
              "fleet serve: HOST:PORT to serve on (port 0: any free port)");
DEFINE_string(tls_cert, "", "fleet serve: serve HTTPS with this certificate (PEM)");
DEFINE_string(tls_key, "", "fleet serve: the certificate's private key (PEM)");
DEFINE_string(client_ca, "",
              "fleet serve: accept only clients with a certificate from this CA");

namespace etcdisc::cli {
namespace {

using TimePoint = std::chrono::system_clock::time_point;

std::string Local(TimePoint t) {
  if (t == TimePoint{}) return "-";
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", absl::FromChrono(t),
                          absl::LocalTimeZone());
}

std::string Mebibytes(int64_t bytes) {
  return absl::StrFormat("%.1fMiB", static_cast<double>(bytes) / (1 << 20));
}

std::vector<std::string> Row(const FleetHost& f) {
  std::vector<std::string> row = {f.service, f.hostname, f.uuid,
                                  f.online ? "online" : "offline",
                                  Local(f.since)};
  if (!f.health) {
    row.insert(row.end(), {"-", "-", "-", "-"});
    return row;
  }
  const HostHealth& h = *f.health;
  const double used =
      h.mem_total_bytes > 0
          ? 100.0 * static_cast<double>(h.mem_total_bytes -
                                        h.mem_available_bytes) /
                static_cast<double>(h.mem_total_bytes)
          : 0;
  row.insert(row.end(),
             {absl::StrFormat("%.2f", h.load1), absl::StrFormat("%.0f%%", used),
              Mebibytes(h.rss_bytes), absl::StrFormat("%.2fs", h.cpu_seconds)});
  return row;
}

}  // namespace

// etcdisc fleet serve: until SIGINT or SIGTERM.
int RunFleetServe(const std::vector<std::string>& args) {
  if (args.size() > 2) return UsageError("fleet serve takes no argument");
  BlockTerminationSignals();  // Before any thread starts.
  // A client gone while its answer is written (a closed tab, a TLS peer)
  // is an error of that write, never the end of the server.
  std::signal(SIGPIPE, SIG_IGN);
  auto client = ClientFromFlags();
  if (!client.ok()) return Fail(client.status());
  auto view = FleetView::Open(**client);
  if (!view.ok()) return Fail(view.status());
  FleetServerOptions options;
  options.listen = FLAGS_listen;
  options.tls_cert = FLAGS_tls_cert;
  options.tls_key = FLAGS_tls_key;
  options.client_ca = FLAGS_client_ca;
  auto server = FleetServer::Start(**client, **view, options);
  if (!server.ok()) {
    return absl::IsInvalidArgument(server.status())
               ? UsageError(server.status().message())
               : Fail(server.status());
  }
  std::printf("serving the fleet at %s\n", (*server)->url().c_str());
  std::fflush(stdout);
  while (TakeTerminationSignal(std::chrono::seconds(1)) == 0) {
    if (!(*view)->status().ok()) return Fail((*view)->status());
  }
  return kOk;
}

int RunFleet(const std::vector<std::string>& args) {
  if (args.size() >= 2 && args[1] == "serve") return RunFleetServe(args);
  if (args.size() > 2) return UsageError("fleet takes at most one SERVICE");
  const std::string service = args.size() == 2 ? args[1] : "";
  auto client = ClientFromFlags();
  if (!client.ok()) return Fail(client.status());
  auto fleet = (*client)->Fleet(service);
  if (!fleet.ok()) return Fail(fleet.status());
  std::vector<FleetHost> shown;
  for (FleetHost& f : *fleet) {
    if (f.online || !FLAGS_online) shown.push_back(std::move(f));
  }
  if (shown.empty()) {
    std::fprintf(stderr, "etcdisc: no %shost%s\n", FLAGS_online ? "online " : "",
                 service.empty() ? "" : (" of " + service).c_str());
    return kNotFound;
  }
  if (FLAGS_json) {
    std::printf("%s\n", FleetJson(shown).c_str());
    return kOk;
  }
  Table table({"SERVICE", "HOST", "UUID", "STATUS", "SINCE", "LOAD1",
               "MEM USED", "RSS", "CPU"});
  for (const FleetHost& f : shown) table.AddRow(Row(f));
  table.Print(stdout);
  return kOk;
}

}  // namespace etcdisc::cli
