#include "support/etcd_cluster.h"
#include "support/process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "discovery/options.h"
#include "etcd/etcd_client.h"

namespace etcdisc::testing {
namespace {

using Clock = std::chrono::steady_clock;
using internal::EtcdClient;
using internal::EtcdClientOptions;

// A port on 127.0.0.1 that nothing holds now. Chosen below Linux's ephemeral
// range (32768 and up): a client connecting to an ephemeral port where nothing
// listens yet can connect to itself, and then never reaches the etcd that
// starts there a moment later.
absl::StatusOr<int> FreePort() {
  static std::mt19937 rng{std::random_device{}()};
  std::uniform_int_distribution<int> pick(15000, 32000);
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int port = pick(rng);
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return absl::InternalError("socket() failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    const bool free =
        ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    ::close(fd);
    if (free) return port;
  }
  return absl::ResourceExhaustedError("no free loopback port found");
}

// Data directories are named etcdisc-etcd-<pid of the test>-XXXXXX. A test
// that aborts cannot remove its own; the next fixture removes those whose
// test process is gone.
constexpr char kDirPrefix[] = "etcdisc-etcd-";

void RemoveDirectoriesOfDeadRuns() {
  std::error_code ignored;
  for (const auto& entry : std::filesystem::directory_iterator(
           std::filesystem::temp_directory_path(), ignored)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(kDirPrefix, 0) != 0) continue;
    const pid_t pid = std::atoi(name.c_str() + sizeof(kDirPrefix) - 1);
    if (pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH) {
      std::filesystem::remove_all(entry.path(), ignored);
    }
  }
}

std::string PeerUrl(int port) { return absl::StrCat("http://127.0.0.1:", port); }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

TlsOptions EtcdCluster::ClientTls() const {
  TlsOptions tls;
  if (options_.tls == EtcdClusterOptions::Tls::kNone) return tls;
  tls.ca_file = certs_.ca_file;
  if (options_.tls == EtcdClusterOptions::Tls::kMutual) {
    tls.cert_file = certs_.client.cert_file;
    tls.key_file = certs_.client.key_file;
  }
  return tls;
}

// A client that talks to one member only, with short deadlines.
absl::StatusOr<std::unique_ptr<EtcdClient>> EtcdCluster::AdminClient(
    const std::string& endpoint) const {
  EtcdClientOptions options = internal::EtcdOptionsFrom(ClientOptions());
  options.endpoints = endpoint;
  options.call_timeout = std::chrono::milliseconds(1000);
  options.tls = EtcdTls();
  if (options_.auth) {
    options.credentials = internal::EtcdCredentials{"root", Password("root")};
  }
  return EtcdClient::Create(options);
}

internal::EtcdClientOptions::Tls EtcdCluster::EtcdTls() const {
  const TlsOptions tls = ClientTls();
  internal::EtcdClientOptions::Tls out;
  out.ca_pem = tls.ca_file.empty() ? "" : ReadFile(tls.ca_file);
  out.cert_pem = tls.cert_file.empty() ? "" : ReadFile(tls.cert_file);
  out.key_pem = tls.key_file.empty() ? "" : ReadFile(tls.key_file);
  return out;
}

absl::StatusOr<std::unique_ptr<EtcdCluster>> EtcdCluster::Start(
    EtcdClusterOptions options) {
  if (::access(options.etcd_binary.c_str(), X_OK) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        options.etcd_binary, " not found: install Debian's etcd-server"));
  }
  RemoveDirectoriesOfDeadRuns();
  // A port found free can be taken by another process before etcd binds it
  // (another test run on the machine): start again on other ports then.
  absl::StatusOr<std::unique_ptr<EtcdCluster>> cluster;
  for (int attempt = 0; attempt < 3; ++attempt) {
    cluster = StartOnFreePorts(options);
    if (cluster.ok() || cluster.status().message().find(
                            "address already in use") == absl::string_view::npos) {
      break;
    }
  }
  return cluster;
}

absl::StatusOr<std::unique_ptr<EtcdCluster>> EtcdCluster::StartOnFreePorts(
    const EtcdClusterOptions& options) {
  std::unique_ptr<EtcdCluster> cluster(new EtcdCluster(options));
  std::string pattern =
      (std::filesystem::temp_directory_path() /
       absl::StrCat(kDirPrefix, ::getpid(), "-XXXXXX"))
          .string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    return absl::InternalError("mkdtemp failed");
  }
  cluster->dir_ = pattern;
  if (options.tls != EtcdClusterOptions::Tls::kNone) {
    auto certs = TestCerts::Make(cluster->dir_);
    if (!certs.ok()) return certs.status();
    cluster->certs_ = *std::move(certs);
  }
  if (options.jwt_ttl_s > 0) {
    auto keys = MakeSigningKeys(cluster->dir_);
    if (!keys.ok()) return keys.status();
    cluster->jwt_keys_ = *std::move(keys);
  }
  cluster->token_ = absl::StrCat("etcdisc-", std::random_device{}());
  cluster->password_salt_ = absl::StrCat(std::random_device{}());
  for (int i = 0; i < options.members; ++i) {
    MemberProcess m;
    m.name = absl::StrCat("m", i);
    m.data_dir = absl::StrCat(cluster->dir_, "/", m.name, ".etcd");
    m.log_path = absl::StrCat(cluster->dir_, "/", m.name, ".log");
    auto client_port = FreePort();
    auto peer_port = FreePort();
    if (!client_port.ok()) return client_port.status();
    if (!peer_port.ok()) return peer_port.status();
    m.client_port = *client_port;
    m.peer_port = *peer_port;
    cluster->members_.push_back(m);
  }
  for (int i = 0; i < cluster->size(); ++i) {
    absl::Status launched = cluster->Launch(i);
    if (!launched.ok()) return launched;
  }
  const auto until = Clock::now() + options.start_timeout;
  for (int i = 0; i < cluster->size(); ++i) {
    absl::Status serving = cluster->WaitServing(i, until);
    if (!serving.ok()) return serving;
  }
  if (options.auth) {
    absl::Status enabled = cluster->EnableAuth();
    if (!enabled.ok()) return enabled;
  }
  return cluster;
}

std::string EtcdCluster::Password(const std::string& user) const {
  return absl::StrCat("pw-", user, "-", password_salt_);
}

AuthOptions EtcdCluster::ClientAuth(const std::string& user) const {
  AuthOptions auth;
  auth.user = user;
  auth.password = Password(user);
  return auth;
}

absl::StatusOr<std::string> EtcdCluster::Etcdctl(
    const std::vector<std::string>& args, bool as_root) const {
  std::vector<std::string> argv = {"/usr/bin/etcdctl",
                                   "--endpoints=" + endpoint(0),
                                   "--dial-timeout=5s"};
  if (options_.tls != EtcdClusterOptions::Tls::kNone) {
    argv.push_back("--cacert=" + certs_.ca_file);
  }
  if (options_.tls == EtcdClusterOptions::Tls::kMutual) {
    argv.push_back("--cert=" + certs_.client.cert_file);
    argv.push_back("--key=" + certs_.client.key_file);
  }
  if (as_root) argv.push_back("--user=root:" + Password("root"));
  argv.insert(argv.end(), args.begin(), args.end());
  ProcessResult result = RunProcess(argv, {{"ETCDCTL_API", "3"}});
  if (result.exit_code != 0) {
    return absl::InternalError(absl::StrCat("etcdctl ", absl::StrJoin(args, " "),
                                            " failed: ", result.err));
  }
  return result.out;
}

absl::StatusOr<int> EtcdCluster::LeaseCount() const {
  auto ids = LeaseIds();
  if (!ids.ok()) return ids.status();
  return static_cast<int>(ids->size());
}

absl::StatusOr<std::set<int64_t>> EtcdCluster::LeaseIds() const {
  auto listed = Etcdctl({"lease", "list"}, /*as_root=*/options_.auth);
  if (!listed.ok()) return listed.status();
  // "found N leases", then one id per line, in hexadecimal.
  int count = 0;
  if (std::sscanf(listed->c_str(), "found %d leases", &count) != 1) {
    return absl::InternalError("etcdctl lease list printed: " + *listed);
  }
  std::set<int64_t> ids;
  std::vector<std::string> lines = absl::StrSplit(*listed, '\n', absl::SkipEmpty());
  for (size_t i = 1; i < lines.size(); ++i) {
    uint64_t id = 0;
    if (!absl::SimpleHexAtoi(lines[i], &id)) {
      return absl::InternalError("etcdctl lease list printed: " + *listed);
    }
    ids.insert(static_cast<int64_t>(id));
  }
  if (static_cast<int>(ids.size()) != count) {
    return absl::InternalError("etcdctl lease list printed: " + *listed);
  }
  return ids;
}

absl::Status EtcdCluster::EnableAuth() {
  const std::vector<std::vector<std::string>> steps = {
      {"role", "add", "registrar"},
      {"role", "grant-permission", "registrar", "--prefix=true", "readwrite",
       "/services/"},
      {"role", "grant-permission", "registrar", "--prefix=true", "readwrite",
       "/service_infos/"},
      {"role", "grant-permission", "registrar", "--prefix=true", "readwrite",
       "/clusters/"},
      {"role", "grant-permission", "registrar", "--prefix=true", "readwrite",
       "/service_health/"},
      {"role", "add", "reader"},
      {"role", "grant-permission", "reader", "--prefix=true", "read",
       "/services/"},
      {"role", "grant-permission", "reader", "--prefix=true", "read",
       "/service_infos/"},
      {"role", "grant-permission", "reader", "--prefix=true", "read",
       "/clusters/"},
      {"role", "grant-permission", "reader", "--prefix=true", "read",
       "/service_health/"},
      {"user", "add", "root:" + Password("root")},
      {"user", "grant-role", "root", "root"},
      {"user", "add", "registrar:" + Password("registrar")},
      {"user", "grant-role", "registrar", "registrar"},
      {"user", "add", "cn-registrar:" + Password("cn-registrar")},
      {"user", "grant-role", "cn-registrar", "registrar"},
      {"user", "add", "watcher:" + Password("watcher")},
      {"user", "grant-role", "watcher", "reader"},
      {"auth", "enable"}};
  for (const auto& step : steps) {
    absl::Status done = Etcdctl(step, /*as_root=*/false).status();
    if (!done.ok()) return done;
  }
  return absl::OkStatus();
}

EtcdCluster::~EtcdCluster() {
  StopProxy();
  for (int i = 0; i < size(); ++i) {
    if (IsRunning(i)) Kill(i).IgnoreError();
  }
  std::error_code ignored;
  if (!dir_.empty() && std::getenv("ETCDISC_KEEP_ETCD_DIR") == nullptr) {
    std::filesystem::remove_all(dir_, ignored);
  }
}

std::string EtcdCluster::endpoint(int i) const {
  return absl::StrCat(
      options_.tls == EtcdClusterOptions::Tls::kNone ? "http" : "https",
      "://127.0.0.1:", members_.at(i).client_port);
}

std::string EtcdCluster::endpoints() const {
  std::vector<std::string> urls;
  for (int i = 0; i < size(); ++i) urls.push_back(endpoint(i));
  return absl::StrJoin(urls, ",");
}

std::vector<std::string> EtcdCluster::Args(int i) const {
  const MemberProcess& m = members_[i];
  std::vector<std::string> initial;
  for (const auto& peer : members_) {
    initial.push_back(absl::StrCat(peer.name, "=", PeerUrl(peer.peer_port)));
  }
  std::vector<std::string> args = {options_.etcd_binary,
          "--name", m.name,
          "--data-dir", m.data_dir,
          "--listen-client-urls", endpoint(i),
          "--advertise-client-urls", endpoint(i),
          "--listen-peer-urls", PeerUrl(m.peer_port),
          "--initial-advertise-peer-urls", PeerUrl(m.peer_port),
          "--initial-cluster", absl::StrJoin(initial, ","),
          "--initial-cluster-state", "new",
          "--initial-cluster-token", token_,
          "--heartbeat-interval", absl::StrCat(options_.heartbeat_ms),
          "--election-timeout", absl::StrCat(options_.election_timeout_ms),
          "--logger", "zap",
          "--log-outputs", "stderr",
          "--enable-v2=false"};
  if (options_.tls != EtcdClusterOptions::Tls::kNone) {
    const std::vector<std::string> tls = {"--cert-file",
                                          certs_.server.cert_file, "--key-file",
                                          certs_.server.key_file};
    args.insert(args.end(), tls.begin(), tls.end());
  }
  // etcd requires client certificates as soon as it is given a trusted CA, so
  // the CA goes only with --client-cert-auth.
  if (options_.auth_token_ttl_s > 0) {
    args.push_back(absl::StrCat("--auth-token-ttl=", options_.auth_token_ttl_s));
  }
  if (options_.jwt_ttl_s > 0) {
    args.push_back(absl::StrCat(
        "--auth-token=jwt,pub-key=", jwt_keys_.public_file,
        ",priv-key=", jwt_keys_.private_file, ",sign-method=ES256,ttl=",
        options_.jwt_ttl_s, "s"));
  }
  if (options_.tls == EtcdClusterOptions::Tls::kMutual) {
    const std::vector<std::string> mutual = {"--trusted-ca-file",
                                             certs_.ca_file, "--client-cert-auth"};
    args.insert(args.end(), mutual.begin(), mutual.end());
  }
  return args;
}

namespace {

// Starts `args` with stdout and stderr appended to `log_path`; it dies with
// this process.
absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& args,
                            const std::string& log_path) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const int log_fd =
      ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return absl::InternalError("cannot open " + log_path);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log_fd);
    return absl::InternalError("fork failed");
  }
  if (pid == 0) {
    // Only async-signal-safe calls from here to exec.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(log_fd);
  return pid;
}

}  // namespace

absl::Status EtcdCluster::Launch(int i) {
  MemberProcess& m = members_[i];
  auto pid = Spawn(Args(i), m.log_path);
  if (!pid.ok()) return pid.status();
  m.pid = *pid;
  m.paused = false;
  return absl::OkStatus();
}

absl::StatusOr<std::string> EtcdCluster::StartProxy() {
  if (!proxies_.empty()) return proxies_[0].endpoint;
  return AddProxy();
}

absl::StatusOr<std::string> EtcdCluster::AddProxy() {
  if (options_.tls != EtcdClusterOptions::Tls::kNone) {
    return absl::UnimplementedError("the test proxy is plaintext only");
  }
  auto port = FreePort();
  if (!port.ok()) return port.status();
  std::vector<std::string> members;
  for (int i = 0; i < size(); ++i) {
    members.push_back(absl::StrCat("127.0.0.1:", members_[i].client_port));
  }
  const std::string listen = absl::StrCat("127.0.0.1:", *port);
  auto pid = Spawn({options_.etcd_binary, "grpc-proxy", "start",
                    "--endpoints", absl::StrJoin(members, ","),
                    "--listen-addr", listen,
                    "--advertise-client-url", listen},
                   absl::StrCat(dir_, "/proxy", proxies_.size(), ".log"));
  if (!pid.ok()) return pid.status();
  proxies_.push_back({*pid, absl::StrCat("http://", listen)});
  const std::string endpoint = proxies_.back().endpoint;
  // Serving once a read through it is answered.
  auto client = AdminClient(endpoint);
  if (!client.ok()) return client.status();
  const auto until = Clock::now() + options_.start_timeout;
  absl::Status last;
  while (Clock::now() < until) {
    internal::RangeRequest read;
    read.key = "/";
    read.count_only = true;
    auto answer = (*client)->kv().Range(read);
    if (answer.ok()) return endpoint;
    last = answer.status();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("etcd grpc-proxy did not serve in time: ", last.ToString()));
}

void EtcdCluster::StopProxy() {
  for (const ProxyProcess& proxy : proxies_) {
    ::kill(proxy.pid, SIGKILL);
    ::waitpid(proxy.pid, nullptr, 0);
  }
  proxies_.clear();
}

absl::Status EtcdCluster::WaitServing(int i, Clock::time_point until) {
  auto client = AdminClient(endpoint(i));
  if (!client.ok()) return client.status();
  absl::Status last;
  while (Clock::now() < until) {
    int wstatus = 0;
    if (::waitpid(members_[i].pid, &wstatus, WNOHANG) == members_[i].pid) {
      members_[i].pid = -1;
      return absl::InternalError(absl::StrCat(
          "etcd member ", i, " exited at start:\n", LogTail(i)));
    }
    auto status = (*client)->cluster().Status(0);
    if (status.ok() && status->leader_id != 0) return absl::OkStatus();
    last = status.ok() ? absl::UnavailableError("no leader yet")
                       : status.status();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return absl::DeadlineExceededError(absl::StrCat(
      "etcd member ", i, " did not serve in time (", last.ToString(), "):\n",
      LogTail(i)));
}

absl::Status EtcdCluster::Kill(int i) {
  MemberProcess& m = members_.at(i);
  if (m.pid <= 0) return absl::FailedPreconditionError("member not running");
  ::kill(m.pid, SIGKILL);
  ::waitpid(m.pid, nullptr, 0);
  m.pid = -1;
  m.paused = false;
  return absl::OkStatus();
}

absl::Status EtcdCluster::Restart(int i) {
  if (IsRunning(i)) return absl::FailedPreconditionError("member is running");
  absl::Status launched = Launch(i);
  if (!launched.ok()) return launched;
  return WaitServing(i, Clock::now() + options_.start_timeout);
}

absl::Status EtcdCluster::RestartEmpty(int i) {
  if (IsRunning(i)) return absl::FailedPreconditionError("member is running");
  std::error_code error;
  std::filesystem::remove_all(members_.at(i).data_dir, error);
  if (error) return absl::InternalError("cannot remove the member's data");
  return Restart(i);
}

absl::Status EtcdCluster::RestartAsNewCluster() {
  if (size() != 1) return absl::FailedPreconditionError("one member only");
  token_ = absl::StrCat("etcdisc-", std::random_device{}());
  return RestartEmpty(0);
}

absl::Status EtcdCluster::RestartAll() {
  for (int i = 0; i < size(); ++i) {
    if (IsRunning(i)) continue;
    absl::Status launched = Launch(i);
    if (!launched.ok()) return launched;
  }
  const auto until = Clock::now() + options_.start_timeout;
  for (int i = 0; i < size(); ++i) {
    absl::Status serving = WaitServing(i, until);
    if (!serving.ok()) return serving;
  }
  return absl::OkStatus();
}

absl::Status EtcdCluster::Pause(int i) {
  MemberProcess& m = members_.at(i);
  if (m.pid <= 0) return absl::FailedPreconditionError("member not running");
  ::kill(m.pid, SIGSTOP);
  m.paused = true;
  // SIGSTOP takes effect a moment later; on a loaded machine the member may
  // still answer a call sent right after kill(). Return once it is stopped.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream stat(absl::StrCat("/proc/", m.pid, "/stat"));
    std::string pid, comm, state;
    if (stat >> pid >> comm >> state && (state == "T" || state == "t")) {
      return absl::OkStatus();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("member ", i, " (pid ", m.pid, ") did not stop"));
}

absl::Status EtcdCluster::Resume(int i) {
  MemberProcess& m = members_.at(i);
  if (m.pid <= 0) return absl::FailedPreconditionError("member not running");
  ::kill(m.pid, SIGCONT);
  m.paused = false;
  return absl::OkStatus();
}

bool EtcdCluster::IsRunning(int i) const { return members_.at(i).pid > 0; }

absl::StatusOr<int> EtcdCluster::AnyRunning() const {
  for (int i = 0; i < size(); ++i) {
    if (IsRunning(i) && !members_[i].paused) return i;
  }
  return absl::FailedPreconditionError("no member is running");
}

absl::StatusOr<int> EtcdCluster::Leader(std::chrono::milliseconds timeout) {
  const auto until = Clock::now() + timeout;
  while (Clock::now() < until) {
    for (int i = 0; i < size(); ++i) {
      if (!IsRunning(i) || members_[i].paused) continue;
      auto client = AdminClient(endpoint(i));
      if (!client.ok()) return client.status();
      auto status = (*client)->cluster().Status(0);
      if (status.ok() && status->leader_id != 0 &&
          status->leader_id == status->member_id) {
        return i;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return absl::DeadlineExceededError("no leader elected in time");
}

absl::Status EtcdCluster::Compact(int64_t revision) {
  auto member = AnyRunning();
  if (!member.ok()) return member.status();
  auto client = AdminClient(endpoint(*member));
  if (!client.ok()) return client.status();
  return (*client)->kv().Compact(revision, /*physical=*/true);
}

absl::StatusOr<int64_t> EtcdCluster::Revision() {
  auto member = AnyRunning();
  if (!member.ok()) return member.status();
  auto client = AdminClient(endpoint(*member));
  if (!client.ok()) return client.status();
  internal::RangeRequest request;
  request.key = "/";  // Any key: the answer carries the store's revision.
  request.count_only = true;
  auto response = (*client)->kv().Range(request);
  if (!response.ok()) return response.status();
  return response->revision;
}

std::string EtcdCluster::LogTail(int i) const {
  std::ifstream in(members_.at(i).log_path);
  std::stringstream all;
  all << in.rdbuf();
  const std::string text = all.str();
  const size_t keep = 2000;
  return text.size() <= keep ? text : text.substr(text.size() - keep);
}

std::string EtcdCluster::LogWarnings(int i, size_t max_lines) const {
  std::ifstream in(members_.at(i).log_path);
  std::deque<std::string> kept;
  for (std::string line; std::getline(in, line);) {
    if (!absl::StrContains(line, R"("level":"warn")") &&
        !absl::StrContains(line, R"("level":"error")")) {
      continue;
    }
    kept.push_back(std::move(line));
    if (kept.size() > max_lines) kept.pop_front();
  }
  return absl::StrJoin(kept, "\n");
}

}  // namespace etcdisc::testing
