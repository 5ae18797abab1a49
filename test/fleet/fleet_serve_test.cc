// `etcdisc fleet serve` against a real etcd, as a user runs it (spoken to
// with cpp-httplib's client, and curl for HTTPS): /api/fleet
// equal to `etcdisc fleet --json`, a host going down as a server-sent event,
// /metrics in the exposition format, bad requests answered with JSON errors
// and no crash, HTTPS with and without client certificates, bad flags, and
// the page rendered by a real browser (headless Chromium).
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "etcdisc/client.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "support/exposition.h"
#include "support/process.h"
#include "support/test_certs.h"
#include "support/wait.h"
#include "tools/cli_fixture.h"

namespace etcdisc {
namespace {

using ::etcdisc::testing::BackgroundProcess;
using ::etcdisc::testing::CliTest;
using ::etcdisc::testing::Contains;
using ::etcdisc::testing::DescribeProcess;
using ::etcdisc::testing::ProcessResult;
using ::etcdisc::testing::WaitFor;
using std::chrono::milliseconds;
using std::chrono::seconds;

class FleetServeTest : public CliTest {
 protected:
  void TearDown() override {
    server_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
    CliTest::TearDown();
  }

  // A registration whose health is written once (at its start) in the
  // test's time, so that what two readers show stays equal. Returns once
  // that write is in etcd.
  std::unique_ptr<Registration> Steady(const std::string& service,
                                       const std::string& name) {
    RegisterOptions options;
    options.ttl = seconds(2);
    options.health_interval = std::chrono::hours(1);
    auto reg = MustRegister(service, WebHost(name), options);
    if (reg == nullptr) return nullptr;
    const bool written = WaitFor(
        [&] {
          auto fleet = discovery().Fleet(service);
          if (!fleet.ok()) return false;
          for (const FleetHost& f : *fleet) {
            if (f.uuid == reg->UUID() && f.health) return true;
          }
          return false;
        },
        seconds(20));
    EXPECT_TRUE(written) << "no health of " << name << " in etcd";
    return written ? std::move(reg) : nullptr;
  }

  // Starts `etcdisc fleet serve` on a free port with `flags`; its URL, or
  // "" (the test failed) when it did not say it serves.
  std::string Serve(std::vector<std::string> flags = {}) {
    std::vector<std::string> args = {"fleet", "serve", "--listen=127.0.0.1:0"};
    args.insert(args.end(), flags.begin(), flags.end());
    server_ = std::make_unique<BackgroundProcess>(Cli(args), Env());
    auto line = server_->ReadLine(seconds(20));
    const std::string prefix = "serving the fleet at ";
    if (!line || line->rfind(prefix, 0) != 0) {
      ADD_FAILURE() << "fleet serve said " << line.value_or("nothing") << "; "
                    << DescribeProcess(*server_);
      return "";
    }
    url_ = line->substr(prefix.size());
    const size_t colon = url_.rfind(':');
    EXPECT_TRUE(absl::SimpleAtoi(
        url_.substr(colon + 1, url_.size() - colon - 2), &port_)) << url_;
    return url_;
  }

  // A client of the server whose every call ends within 10 s.
  httplib::Client Http() {
    httplib::Client client("127.0.0.1", port_);
    client.set_connection_timeout(seconds(10));
    client.set_read_timeout(seconds(10));
    client.set_write_timeout(seconds(10));
    return client;
  }

  // The body of GET `path`, failing the test unless it is 200.
  std::string Get(const std::string& path) {
    auto res = Http().Get(path);
    if (!res) {
      ADD_FAILURE() << "GET " << path << ": " << httplib::to_string(res.error());
      return "";
    }
    EXPECT_EQ(res->status, 200) << path << ": " << res->body;
    return res->body;
  }

  std::string TempDir() {
    if (dir_.empty()) {
      std::string pattern = ::testing::TempDir() + "etcdisc-serve-XXXXXX";
      if (::mkdtemp(pattern.data()) != nullptr) dir_ = pattern;
    }
    return dir_;
  }

  std::unique_ptr<BackgroundProcess> server_;
  std::string url_;
  int port_ = 0;
  std::string dir_;
};

TEST_F(FleetServeTest, ApiFleetIsWhatEtcdiscFleetJsonPrints) {
  auto web1 = Steady("web", "web-1");
  auto web2 = Steady("web", "web-2");
  auto db = Steady("db", "db-1");
  ASSERT_TRUE(web1 && web2 && db);
  ASSERT_TRUE(web2->Stop().ok());  // Offline, and retained.
  ASSERT_FALSE(Serve().empty());
  const ProcessResult all = Run({"fleet", "--json"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  ASSERT_TRUE(Contains(all.out, "\"online\":false")) << all.out;
  // The server's view catches up with etcd at once, or a moment later.
  std::string body;
  EXPECT_TRUE(WaitFor([&] { return (body = Get("/api/fleet")) == all.out; },
                      seconds(10)))
      << "server: " << body << "\ncli:    " << all.out;
  const ProcessResult web = Run({"fleet", "web", "--json"});
  EXPECT_EQ(Get("/api/fleet?service=web"), web.out);
  const ProcessResult online = Run({"fleet", "--online", "--json"});
  EXPECT_EQ(Get("/api/fleet?online=1"), online.out);
  EXPECT_FALSE(Contains(online.out, web2->UUID()));
}

TEST_F(FleetServeTest, EventsCarryTheSnapshotThenAHostGoingDown) {
  auto web1 = Steady("web", "web-1");
  auto db = Steady("db", "db-1");
  ASSERT_TRUE(web1 && db);
  ASSERT_FALSE(Serve().empty());
  std::string stream;
  bool saw_snapshot = false;
  auto client = Http();
  client.set_read_timeout(seconds(30));
  // Reads the stream until web-1's offline event arrives.
  const auto deadline = std::chrono::steady_clock::now() + seconds(30);
  auto res = client.Get("/api/events?service=web",
                        [&](const char* data, size_t size) {
                          stream.append(data, size);
                          // Comments keep the stream alive: give up here.
                          if (std::chrono::steady_clock::now() > deadline) {
                            return false;
                          }
                          if (!saw_snapshot &&
                              Contains(stream, "event: snapshot\n")) {
                            saw_snapshot = true;
                            EXPECT_TRUE(Contains(stream, web1->UUID()));
                            EXPECT_TRUE(web1->Stop().ok());
                          }
                          return !Contains(stream, "event: offline\n");
                        });
  ASSERT_TRUE(saw_snapshot) << stream;
  ASSERT_TRUE(Contains(stream, "event: offline\n")) << stream;
  const size_t offline = stream.find("event: offline\n");
  const std::string rest = stream.substr(offline);
  EXPECT_TRUE(Contains(rest.substr(0, rest.find("\n\n")),
                       "\"uuid\":\"" + web1->UUID() + "\"")) << rest;
  EXPECT_TRUE(Contains(rest, "\"online\":false")) << rest;
  // Only web was asked for.
  EXPECT_FALSE(Contains(stream, db->UUID())) << stream;
}

TEST_F(FleetServeTest, MetricsAreValidExpositionWithEachHostUpOrDown) {
  auto web1 = Steady("web", "web-1");
  auto web2 = Steady("web", "web-2");
  ASSERT_TRUE(web1 && web2);
  ASSERT_TRUE(web2->SetGauge("queue_depth", 7).ok());
  ASSERT_TRUE(web2->Stop().ok());
  ASSERT_FALSE(Serve().empty());
  std::string text;
  const std::string down = "etcdisc_fleet_host_up{service=\"web\",uuid=\"" +
                           web2->UUID() + "\",hostname=\"web-2\"} 0\n";
  ASSERT_TRUE(WaitFor([&] { return Contains(text = Get("/metrics"), down); },
                      seconds(10))) << text;
  int samples = 0;
  EXPECT_TRUE(testing::IsExposition(text, &samples)) << text;
  EXPECT_TRUE(Contains(text, "etcdisc_fleet_host_up{service=\"web\",uuid=\"" +
                                 web1->UUID() + "\",hostname=\"web-1\"} 1\n"));
  EXPECT_TRUE(Contains(text, "etcdisc_fleet_gauge{service=\"web\",uuid=\"" +
                                 web2->UUID() +
                                 "\",hostname=\"web-2\",gauge=\"queue_depth\"} 7\n"))
      << text;
  // The serving client's own metrics follow: its watchers, for one.
  EXPECT_TRUE(Contains(text, "\netcdisc_watchers ")) << text;
}

// A socket connected to 127.0.0.1:`port` (reads time out after 5 s), or
// -1.
int Connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// A raw exchange on a new connection: the status line of the answer (read
// until the server closes the connection).
std::string Exchange(int port, const std::string& request, std::string* body) {
  const int fd = Connect(port);
  std::string answer;
  if (fd >= 0 &&
      ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) >= 0) {
    char buffer[4096];
    ssize_t n;
    while ((n = ::recv(fd, buffer, sizeof(buffer), 0)) > 0) {
      answer.append(buffer, static_cast<size_t>(n));
    }
  }
  if (fd >= 0) ::close(fd);
  const size_t end = answer.find("\r\n\r\n");
  if (body != nullptr) {
    *body = end == std::string::npos ? "" : answer.substr(end + 4);
  }
  return answer.substr(0, answer.find("\r\n"));
}

// Sends `request` on a new connection and closes it.
void Send(int port, const std::string& request) {
  const int fd = Connect(port);
  if (fd < 0) return;
  (void)::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  ::close(fd);
}

TEST_F(FleetServeTest, BadRequestsGetJsonErrorsAndTheServerGoesOn) {
  auto web1 = Steady("web", "web-1");
  ASSERT_TRUE(web1);
  ASSERT_FALSE(Serve().empty());
  struct Case {
    std::string request;
    std::string status;
    std::string error;  // Part of the JSON error; "" for httplib's own.
  };
  const std::string end = " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  const std::vector<Case> cases = {
      {"GET /nothing" + end, "404", "no such path: /nothing"},
      {"GET /api/fleet?service=a/b" + end, "400", "invalid service name"},
      {"GET /api/fleet?online=maybe" + end, "400", "online=\\\"maybe\\\""},
      {"GET /api/fleet?limit=3" + end, "400", "unknown query parameter"},
      {"GET /api/fleet?service=web&service=db" + end, "400", "given twice"},
      {"GET /metrics?x=1" + end, "400", "unknown query parameter"},
      {"GET /api/events?online=1" + end, "400", "unknown query parameter"},
      {"POST /api/fleet HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
       "Connection: close\r\n\r\n{}", "405", "POST is not allowed"},
      {"DELETE /metrics" + end, "405", "only GET"},
      {"GARBAGE\r\n\r\n", "400", ""},
      {std::string("GET /\0x HTTP/1.1\r\n\r\n", 20), "400", ""},
      {"GET /" + std::string(20000, 'a') + end, "414", ""},
  };
  for (const Case& c : cases) {
    std::string body;
    const std::string status = Exchange(port_, c.request, &body);
    EXPECT_TRUE(Contains(status, " " + c.status + " ")) << c.request.substr(0, 60)
                                                        << " -> " << status;
    EXPECT_EQ(body.rfind("{\"error\":", 0), 0u) << c.request.substr(0, 60)
                                                << " -> " << body;
    if (!c.error.empty()) {
      EXPECT_TRUE(Contains(body, c.error)) << c.request.substr(0, 60)
                                           << " -> " << body;
    }
  }
  // Random bytes, and random mutations of a good request, each sent on a
  // connection closed at once: never a crash.
  std::mt19937 random(20261130);
  const std::string good = "GET /api/fleet?service=web" + end;
  for (int i = 0; i < 100; ++i) {
    std::string request = good;
    if (i % 2 == 0) {
      request.assign(1 + random() % 200, '\0');
      for (char& ch : request) ch = static_cast<char>(random());
    } else {
      for (int k = 0; k < 4; ++k) {
        request[random() % request.size()] = static_cast<char>(random());
      }
    }
    Send(port_, request);
  }
  EXPECT_EQ(server_->HowItEnded(), "running");
  EXPECT_TRUE(Contains(Get("/api/fleet"), web1->UUID()));
}

TEST_F(FleetServeTest, EventStreamsBeyondTheCapGet503AndClosedOnesFreeTheirPlace) {
  ASSERT_FALSE(Serve().empty());
  const std::string request =
      "GET /api/events HTTP/1.1\r\nHost: x\r\n\r\n";
  // The status line of a stream opened on `fd`.
  auto open_stream = [&](int fd) {
    std::string answer;
    char buffer[1024];
    if (fd < 0 ||
        ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) < 0) {
      return answer;
    }
    while (answer.find("\r\n") == std::string::npos) {
      const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
      if (n <= 0) break;
      answer.append(buffer, static_cast<size_t>(n));
    }
    return answer.substr(0, answer.find("\r\n"));
  };
  std::vector<int> open;
  for (int i = 0; i < 48; ++i) {
    open.push_back(Connect(port_));
    ASSERT_TRUE(Contains(open_stream(open.back()), " 200 ")) << "stream " << i;
  }
  std::string body;
  EXPECT_TRUE(Contains(Exchange(port_, request, &body), " 503 ")) << body;
  EXPECT_TRUE(Contains(body, "too many event streams")) << body;
  // The other paths still answer.
  EXPECT_EQ(body.rfind("{\"error\":", 0), 0u) << body;
  EXPECT_EQ(Get("/api/fleet"), "[]\n");
  for (int fd : open) ::close(fd);
  // Their places come free as the server notices them closed.
  EXPECT_TRUE(WaitFor(
      [&] {
        const int fd = Connect(port_);
        const bool served = Contains(open_stream(fd), " 200 ");
        if (fd >= 0) ::close(fd);
        return served;
      },
      seconds(20)));
}

TEST_F(FleetServeTest, ServesHttpsAndChecksClientCertificatesWhenAsked) {
  auto web1 = Steady("web", "web-1");
  ASSERT_TRUE(web1);
  auto certs = testing::TestCerts::Make(TempDir());
  ASSERT_TRUE(certs.ok()) << certs.status();
  ASSERT_FALSE(Serve({"--tls-cert=" + certs->server.cert_file,
                      "--tls-key=" + certs->server.key_file,
                      "--client-ca=" + certs->ca_file})
                   .empty());
  EXPECT_EQ(url_.rfind("https://127.0.0.1:", 0), 0u) << url_;
  // curl, as a user would check it; every call ends within 10 s.
  const auto curl = [&](std::vector<std::string> flags) {
    std::vector<std::string> argv = {"/usr/bin/curl", "--silent",
                                     "--show-error", "--max-time", "10"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.push_back(url_ + "api/fleet");
    return testing::RunProcess(argv);
  };
  const ProcessResult with_cert =
      curl({"--cacert", certs->ca_file, "--cert", certs->client.cert_file,
            "--key", certs->client.key_file});
  EXPECT_EQ(with_cert.exit_code, 0) << with_cert.err;
  EXPECT_TRUE(Contains(with_cert.out, web1->UUID())) << with_cert.out;
  const ProcessResult no_cert = curl({"--cacert", certs->ca_file});
  EXPECT_NE(no_cert.exit_code, 0) << "served a client with no certificate";
  EXPECT_FALSE(Contains(no_cert.out, web1->UUID()));
  // A client that does not trust the server's CA refuses it (curl: 60).
  const ProcessResult distrustful =
      curl({"--cacert", certs->other_ca_file, "--cert",
            certs->client.cert_file, "--key", certs->client.key_file});
  EXPECT_EQ(distrustful.exit_code, 60) << distrustful.err;
  const ProcessResult plain = testing::RunProcess(
      {"/usr/bin/curl", "--silent", "--max-time", "10",
       "http://127.0.0.1:" + std::to_string(port_) + "/api/fleet"});
  EXPECT_FALSE(Contains(plain.out, web1->UUID())) << "answered plain HTTP";
  EXPECT_EQ(server_->HowItEnded(), "running");
}

TEST_F(FleetServeTest, BadFlagsExitTwoNamingTheValue) {
  ProcessResult r = Run({"fleet", "serve", "--listen=nowhere"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(Contains(r.err, "--listen=\"nowhere\"")) << r.err;
  r = Run({"fleet", "serve", "--listen=127.0.0.1:70000"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(Contains(r.err, "127.0.0.1:70000")) << r.err;
  r = Run({"fleet", "serve", "--tls-cert=/no/such.pem", "--listen=127.0.0.1:0"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(Contains(r.err, "--tls-key")) << r.err;
  r = Run({"fleet", "serve", "--tls-cert=/no/such.pem", "--tls-key=/no/k.pem",
           "--listen=127.0.0.1:0"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(Contains(r.err, "/no/such.pem")) << r.err;
  r = Run({"fleet", "serve", "--client-ca=/x.pem", "--listen=127.0.0.1:0"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(Contains(r.err, "--client-ca")) << r.err;
  r = Run({"fleet", "serve", "extra"});
  EXPECT_EQ(r.exit_code, 2);
}

// Headless Chromium, with a profile of its own under `dir`, on `url`.
std::vector<std::string> Chromium(const std::string& dir,
                                  std::vector<std::string> what,
                                  const std::string& url) {
  std::vector<std::string> argv = {
      "/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu",
      "--disable-dev-shm-usage", "--no-first-run", "--hide-scrollbars",
      "--user-data-dir=" + dir + "/chromium",
      // The page keeps its event stream open: the DOM is dumped (or the
      // screenshot taken) after this long.
      "--timeout=4000"};
  argv.insert(argv.end(), what.begin(), what.end());
  argv.push_back(url);
  return argv;
}

TEST_F(FleetServeTest, ThePageShowsEachHostOnlineOrOfflineInABrowser) {
  ASSERT_EQ(::access("/usr/bin/chromium", X_OK), 0)
      << "the browser test needs Debian's chromium: run scripts/setup.sh";
  auto web1 = Steady("web", "web-1");
  auto web2 = Steady("web", "web-2");
  auto db = Steady("db", "db-1");
  ASSERT_TRUE(web1 && web2 && db);
  // A gauge set before Stop goes out with the final record.
  ASSERT_TRUE(web2->SetGauge("connections", 12).ok());
  ASSERT_TRUE(web2->Stop().ok());
  ASSERT_FALSE(Serve().empty());
  const std::string dir = TempDir();
  const std::string online = "<tr class=\"host online\" data-uuid=\"" +
                             web1->UUID() + "\">";
  const std::string offline = "<tr class=\"host offline\" data-uuid=\"" +
                              web2->UUID() + "\">";
  std::string dom;
  // The page comes with the fleet in it and then opens its event stream:
  // try again while the browser dumps the DOM before the stream is open.
  const bool rendered = WaitFor(
      [&] {
        dom = testing::RunProcess(Chromium(dir, {"--dump-dom"}, url_), {},
                                  seconds(60)).out;
        return Contains(dom, offline) &&
               Contains(dom, "id=\"link\" class=\"live\"");
      },
      seconds(90));
  ASSERT_TRUE(rendered) << dom;
  EXPECT_TRUE(Contains(dom, online)) << dom;
  EXPECT_TRUE(Contains(dom, "<section class=\"service\" data-service=\"db\">"))
      << dom;
  EXPECT_TRUE(Contains(dom, "<td class=\"hostname\">web-2</td>")) << dom;
  EXPECT_TRUE(Contains(dom, "connections=12")) << dom;
  EXPECT_TRUE(Contains(dom, "2 online")) << dom;
  EXPECT_TRUE(Contains(dom, "1 offline")) << dom;

  // A screenshot: to $ETCDISC_SCREENSHOT when set (the README's), else to
  // the test's directory.
  const char* wanted = ::getenv("ETCDISC_SCREENSHOT");
  const std::string png = wanted != nullptr ? wanted : dir + "/fleet.png";
  std::string bytes;
  // A page not rendered yet is a small picture of the header alone.
  EXPECT_TRUE(WaitFor(
      [&] {
        testing::RunProcess(Chromium(dir, {"--window-size=1200,480",
                                           "--screenshot=" + png},
                                     url_),
                            {}, seconds(60));
        std::ifstream file(png, std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(file),
                     std::istreambuf_iterator<char>());
        return bytes.size() > 20000;
      },
      seconds(90)))
      << png << ": " << bytes.size() << " bytes";
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
}

}  // namespace
}  // namespace etcdisc
