// `etcdisc fleet serve`: the fleet over HTTP(S) from a FleetView -
//   GET /api/fleet[?service=S&online=1]  the fleet as JSON (FleetJson)
//   GET /api/events[?service=S]          server-sent events: "snapshot" with
//                                        the fleet, then one per change
//                                        (online, offline, health, forgotten)
//   GET /api/history                     each host's load and RSS over the
//                                        last 10 minutes (for sparklines)
//   GET /metrics                         the fleet and the serving client's
//                                        metrics in Prometheus text
//   GET /                                a page that shows it all, live
// Anything else gets 404 (405 for another method on these paths), a bad
// query 400, and an event stream beyond 48 open at once 503, each with a
// JSON body {"error": "..."}.
#ifndef ETCDISC_TOOLS_FLEET_SERVER_FLEET_SERVER_H_
#define ETCDISC_TOOLS_FLEET_SERVER_FLEET_SERVER_H_

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "etcdisc/client.h"
#include "etcdisc/fleet.h"
#include "tools/fleet_server/health_history.h"

namespace httplib {
class Server;
struct Response;
}  // namespace httplib

namespace etcdisc::cli {

struct FleetServerOptions {
  // Where to listen: "HOST:PORT", "[V6]:PORT"; port 0 picks a free one.
  std::string listen = "127.0.0.1:8080";
  // HTTPS with this certificate and key (PEM files); plain HTTP when empty.
  std::string tls_cert;
  std::string tls_key;
  // With HTTPS: accept only clients with a certificate signed by this CA.
  std::string client_ca;
  // How often an idle event stream gets a comment, so that proxies and
  // browsers keep it open.
  std::chrono::milliseconds keepalive = std::chrono::seconds(15);
};

// Serves on a thread of its own (and one per connection, up to 64), and
// keeps the history on another. Start,
// port() and url() are safe to call from any thread; Stop once.
class FleetServer {
 public:
  // Listens and starts serving. InvalidArgument naming a bad --listen or
  // unreadable TLS file; Unavailable when the address cannot be bound.
  // `client` and `view` must outlive the server.
  static absl::StatusOr<std::unique_ptr<FleetServer>> Start(
      Client& client, const FleetView& view, FleetServerOptions options);
  // Stops: ends every event stream, closes the socket, joins the threads.
  ~FleetServer();
  FleetServer(const FleetServer&) = delete;
  FleetServer& operator=(const FleetServer&) = delete;

  int port() const { return port_; }
  // "http://127.0.0.1:8080/" (https with TLS).
  const std::string& url() const { return url_; }

 private:
  FleetServer(Client& client, const FleetView& view,
              FleetServerOptions options);
  void Route();
  // Keeps history_ as the view changes, until the server stops.
  void FollowHistory();
  // The page at /, with the fleet of `service` (empty: all) and the history
  // in it as they are now.
  std::string Page(const std::string& service) const;
  // Answers /api/events: the snapshot, then each change of a host of
  // `service` (empty: any).
  void Stream(const std::string& service, httplib::Response& res);
  bool Stopping() const { return stopping_.load(); }

  Client& client_;
  const FleetView& view_;
  const FleetServerOptions options_;
  std::unique_ptr<httplib::Server> server_;
  HealthHistory history_{std::chrono::minutes(10), 300};
  std::thread thread_;          // Serving.
  std::thread history_thread_;  // FollowHistory.
  std::atomic<bool> stopping_{false};
  // Event streams open: each holds a connection thread, so at most
  // kMaxStreams, leaving threads for the other paths.
  static constexpr int kMaxStreams = 48;
  std::atomic<int> streams_{0};
  int port_ = 0;
  std::string url_;
};

// The page served at / (tools/fleet_server/page.html).
extern const char kFleetPage[];

}  // namespace etcdisc::cli

#endif  // ETCDISC_TOOLS_FLEET_SERVER_FLEET_SERVER_H_
