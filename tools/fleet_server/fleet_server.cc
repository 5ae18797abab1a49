#include "tools/fleet_server/fleet_server.h"

#include <algorithm>
#include <thread>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "discovery/keys.h"
#include "etcdisc/metrics.h"
#include "httplib.h"
#include "tools/cli.h"

namespace etcdisc::cli {
namespace {

using Clock = std::chrono::steady_clock;

// What a query may ask: one service, only the online hosts.
struct Query {
  std::string service;  // Empty: every service.
  bool online_only = false;
};

bool Shows(const Query& q, const FleetHost& h) {
  return (q.service.empty() || h.service == q.service) &&
         (!q.online_only || h.online);
}

void Reply(httplib::Response& res, int status, const std::string& body,
           const char* type) {
  res.status = status;
  res.set_content(body, type);
}

void ReplyError(httplib::Response& res, int status,
                absl::string_view message) {
  Reply(res, status, absl::StrCat("{\"error\":", JsonString(message), "}\n"),
        "application/json");
}

// The query of `req`: `names` are the parameters the path takes.
absl::StatusOr<Query> ParseQuery(const httplib::Request& req,
                                 const std::vector<std::string>& names) {
  Query q;
  for (const auto& [name, value] : req.params) {
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown query parameter \"", name, "\" for ", req.path));
    }
    if (req.params.count(name) > 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("query parameter \"", name, "\" given twice"));
    }
    if (name == "service") {
      absl::Status valid = internal::ValidateServiceName(value);
      if (!valid.ok()) return valid;
      q.service = value;
    } else if (name == "online") {
      if (value != "1" && value != "true" && value != "0" && value != "false") {
        return absl::InvalidArgumentError(absl::StrCat(
            "online=\"", value, "\" is not one of 1, true, 0, false"));
      }
      q.online_only = value == "1" || value == "true";
    }
  }
  return q;
}

std::vector<FleetHost> Shown(const FleetSnapshot& now, const Query& q) {
  std::vector<FleetHost> out;
  for (const FleetHost& h : *now.hosts) {
    if (Shows(q, h)) out.push_back(h);
  }
  return out;
}

struct Address {
  std::string host;
  int port = 0;
};

// "HOST:PORT" or "[V6]:PORT".
absl::StatusOr<Address> ParseListen(absl::string_view text) {
  const size_t colon = text.rfind(':');
  Address a;
  if (colon == absl::string_view::npos || colon == 0 ||
      !absl::SimpleAtoi(text.substr(colon + 1), &a.port) || a.port < 0 ||
      a.port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--listen=\"", text, "\" is not HOST:PORT (e.g. 127.0.0.1:8080)"));
  }
  absl::string_view host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  a.host = std::string(host);
  return a;
}

absl::StatusOr<std::unique_ptr<httplib::Server>> NewServer(
    const FleetServerOptions& o) {
  if (o.tls_cert.empty() != o.tls_key.empty()) {
    return absl::InvalidArgumentError(
        "--tls-cert and --tls-key go together: give both or neither");
  }
  if (o.tls_cert.empty()) {
    if (!o.client_ca.empty()) {
      return absl::InvalidArgumentError(
          "--client-ca needs HTTPS: give --tls-cert and --tls-key too");
    }
    return std::make_unique<httplib::Server>();
  }
  auto server = std::make_unique<httplib::SSLServer>(
      o.tls_cert.c_str(), o.tls_key.c_str(),
      o.client_ca.empty() ? nullptr : o.client_ca.c_str());
  if (!server->is_valid()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot load the TLS certificate \"", o.tls_cert, "\" with key \"",
        o.tls_key, "\"",
        o.client_ca.empty() ? "" : absl::StrCat(" and CA \"", o.client_ca, "\""),
        ": is each a readable PEM file, and the key the certificate's?"));
  }
  return std::unique_ptr<httplib::Server>(std::move(server));
}

// One server-sent event.
std::string Event(absl::string_view name, absl::string_view data,
                  uint64_t id = 0) {
  return absl::StrCat("event: ", name, "\n",
                      id ? absl::StrCat("id: ", id, "\n") : "", "data: ", data,
                      "\n\n");
}

}  // namespace

FleetServer::FleetServer(Client& client, const FleetView& view,
                         FleetServerOptions options)
    : client_(client), view_(view), options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<FleetServer>> FleetServer::Start(
    Client& client, const FleetView& view, FleetServerOptions options) {
  auto address = ParseListen(options.listen);
  if (!address.ok()) return address.status();
  auto server = NewServer(options);
  if (!server.ok()) return server.status();
  std::unique_ptr<FleetServer> s(new FleetServer(client, view, options));
  s->server_ = *std::move(server);
  s->Route();
  if (address->port == 0) {
    s->port_ = s->server_->bind_to_any_port(address->host);
  } else if (s->server_->bind_to_port(address->host, address->port)) {
    s->port_ = address->port;
  } else {
    s->port_ = -1;
  }
  if (s->port_ < 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen,
                     ": is the address this machine's, and the port free?"));
  }
  const bool v6 = address->host.find(':') != std::string::npos;
  s->url_ = absl::StrCat(options.tls_cert.empty() ? "http" : "https", "://",
                         v6 ? "[" : "", address->host, v6 ? "]" : "", ":",
                         s->port_, "/");
  s->thread_ = std::thread([server = s->server_.get()] {
    server->listen_after_bind();
  });
  s->history_thread_ = std::thread([server = s.get()] {
    server->FollowHistory();
  });
  // stop() does nothing to a server not listening yet: return only once it
  // is, so that the destructor always ends it.
  for (int i = 0; i < 1000 && !s->server_->is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return s;
}

FleetServer::~FleetServer() {
  stopping_ = true;
  server_->stop();
  if (thread_.joinable()) thread_.join();
  if (history_thread_.joinable()) history_thread_.join();
}

void FleetServer::FollowHistory() {
  uint64_t cursor = 0;
  bool missed = true;
  while (!Stopping()) {
    if (missed) {
      FleetSnapshot now = view_.snapshot();
      for (const FleetHost& h : *now.hosts) history_.Add(h);
      cursor = now.sequence;
    }
    FleetChanges changes =
        view_.WaitChanges(cursor, std::chrono::milliseconds(500));
    missed = changes.missed;
    for (const FleetEvent& e : changes.events) {
      cursor = e.sequence;
      if (e.kind == FleetEvent::Kind::kForgotten) {
        history_.Forget(e.host);
      } else {
        history_.Add(e.host);
      }
    }
    // A stopped view returns at once: wait for the server's stop instead.
    if (changes.events.empty() && !view_.status().ok()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
}

void FleetServer::Route() {
  httplib::Server& s = *server_;
  // Every connection is a thread; an event stream keeps one.
  s.new_task_queue = [] { return new httplib::ThreadPool(64); };
  s.set_payload_max_length(64 * 1024);  // No request here has a body.
  s.set_read_timeout(std::chrono::seconds(5));
  s.set_keep_alive_timeout(2);
  s.set_default_headers({{"Cache-Control", "no-store"}});

  s.Get("/api/fleet", [this](const httplib::Request& req,
                             httplib::Response& res) {
    auto q = ParseQuery(req, {"service", "online"});
    if (!q.ok()) return ReplyError(res, 400, q.status().message());
    Reply(res, 200, FleetJson(Shown(view_.snapshot(), *q)) + "\n",
          "application/json");
  });
  s.Get("/api/history", [this](const httplib::Request& req,
                               httplib::Response& res) {
    auto q = ParseQuery(req, {});
    if (!q.ok()) return ReplyError(res, 400, q.status().message());
    Reply(res, 200, history_.Json() + "\n", "application/json");
  });
  s.Get("/metrics", [this](const httplib::Request& req,
                           httplib::Response& res) {
    auto q = ParseQuery(req, {});
    if (!q.ok()) return ReplyError(res, 400, q.status().message());
    Reply(res, 200,
          FleetPrometheusText(*view_.snapshot().hosts) +
              PrometheusText(client_.Metrics()),
          "text/plain; version=0.0.4; charset=utf-8");
  });
  s.Get("/api/events", [this](const httplib::Request& req,
                              httplib::Response& res) {
    auto q = ParseQuery(req, {"service"});
    if (!q.ok()) return ReplyError(res, 400, q.status().message());
    if (streams_.fetch_add(1) >= kMaxStreams) {
      streams_.fetch_sub(1);
      return ReplyError(res, 503,
                        absl::StrCat("too many event streams (", kMaxStreams,
                                     "): try again later"));
    }
    Stream(q->service, res);
  });
  s.Get("/", [this](const httplib::Request& req, httplib::Response& res) {
    auto q = ParseQuery(req, {"service"});
    if (!q.ok()) return ReplyError(res, 400, q.status().message());
    res.set_header("Content-Security-Policy",
                   "default-src 'none'; connect-src 'self'; "
                   "script-src 'unsafe-inline'; style-src 'unsafe-inline'");
    Reply(res, 200, Page(q->service), "text/html; charset=utf-8");
  });
  auto refuse = [](const httplib::Request& req, httplib::Response& res) {
    for (const char* path :
         {"/", "/api/fleet", "/api/events", "/api/history", "/metrics"}) {
      if (req.path == path) {
        res.set_header("Allow", "GET, HEAD");
        return ReplyError(res, 405,
                          absl::StrCat(req.method, " is not allowed on ",
                                       req.path, ": only GET"));
      }
    }
    ReplyError(res, 404, absl::StrCat("no such path: ", req.path));
  };
  s.Post(".*", refuse);
  s.Put(".*", refuse);
  s.Patch(".*", refuse);
  s.Delete(".*", refuse);
  s.Options(".*", refuse);
  // What no handler answered (an unknown path, a request httplib could not
  // read): a JSON error, unless a handler wrote one already.
  s.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 404) {
      return ReplyError(res, 404, absl::StrCat("no such path: ", req.path));
    }
    ReplyError(res, res.status,
               absl::StrCat("bad request (HTTP ", res.status, ")"));
  });
}

std::string FleetServer::Page(const std::string& service) const {
  const Query q{service, false};
  // In a <script>: no "<" at all, so that no value from etcd can end it.
  std::string state =
      absl::StrCat("{\"fleet\":", FleetJson(Shown(view_.snapshot(), q)),
                   ",\"history\":", history_.Json(), "}");
  absl::StrReplaceAll({{"<", "\\u003c"}}, &state);
  std::string page = kFleetPage;
  absl::StrReplaceAll({{"/*FLEET_STATE*/null", state}}, &page);
  return page;
}

void FleetServer::Stream(const std::string& service,
                         httplib::Response& res) {
  const Query q{service, false};
  struct Cursor {
    bool started = false;
    uint64_t sequence = 0;
    Clock::time_point last_write = Clock::now();
  };
  auto cursor = std::make_shared<Cursor>();
  res.set_header("X-Accel-Buffering", "no");  // Proxies: pass each event on.
  // One stream fewer once httplib is done with it (ended, or never sent).
  struct Slot {
    std::atomic<int>* count;
    ~Slot() { count->fetch_sub(1); }
  };
  std::shared_ptr<Slot> slot(new Slot{&streams_});
  res.set_chunked_content_provider(
      "text/event-stream",
      [this, q, cursor, slot](size_t, httplib::DataSink& sink) {
        if (Stopping() || !sink.is_writable()) return false;
        std::string out;
        if (!cursor->started) {
          FleetSnapshot now = view_.snapshot();
          out = Event("snapshot", FleetJson(Shown(now, q)));
          cursor->sequence = now.sequence;
          cursor->started = true;
        } else {
          FleetChanges changes = view_.WaitChanges(
              cursor->sequence,
              std::min<std::chrono::milliseconds>(options_.keepalive,
                                                  std::chrono::milliseconds(500)));
          if (changes.missed) {
            cursor->started = false;  // The snapshot again, next call.
            return true;
          }
          for (const FleetEvent& e : changes.events) {
            cursor->sequence = e.sequence;
            if (!Shows(q, e.host)) continue;
            absl::StrAppend(&out, Event(FleetEventKindName(e.kind),
                                        FleetEventJson(e), e.sequence));
          }
          // A stopped view: its last events go out, then the stream ends.
          if (!view_.status().ok()) {
            if (!out.empty()) sink.write(out.data(), out.size());
            return false;
          }
          if (out.empty() &&
              Clock::now() - cursor->last_write >= options_.keepalive) {
            out = ": still here\n\n";
          }
        }
        if (out.empty()) return true;
        cursor->last_write = Clock::now();
        return sink.write(out.data(), out.size());
      });
}

}  // namespace etcdisc::cli
