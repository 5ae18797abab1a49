#include "etcd/connection.h"

#include <algorithm>
#include <map>
#include <set>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "etcd/dial_error.h"

namespace etcdisc::internal {
namespace {

std::shared_ptr<const MemberStubs> MakeMember(const ConnectionOptions& options,
                                              const Endpoint& endpoint,
                                              uint64_t id) {
  grpc::ChannelArguments args;
  // Watch responses can batch many events; etcd's own limit applies.
  args.SetMaxReceiveMessageSize(-1);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS,
              static_cast<int>(options.ping_time.count()));
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
              static_cast<int>(options.ping_timeout.count()));
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  // Reconnect quickly to a member that comes back.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 1000);
  // Each member gets its own channel even when two share an address.
  args.SetString("etcdisc.member_id", std::to_string(id));
  std::shared_ptr<grpc::ChannelCredentials> credentials =
      grpc::InsecureChannelCredentials();
  if (endpoint.tls) {
    credentials = options.tls_credentials;
    if (!options.tls_server_name.empty()) {
      args.SetSslTargetNameOverride(options.tls_server_name);
    }
  }

  auto member = std::make_shared<MemberStubs>();
  member->id = id;
  member->endpoint = endpoint.Url();
  member->tls = endpoint.tls;
  member->channel =
      grpc::CreateCustomChannel(endpoint.Target(), credentials, args);
  member->kv = etcdserverpb::KV::NewStub(member->channel);
  member->lease = etcdserverpb::Lease::NewStub(member->channel);
  member->watch = etcdserverpb::Watch::NewStub(member->channel);
  member->cluster = etcdserverpb::Cluster::NewStub(member->channel);
  member->maintenance = etcdserverpb::Maintenance::NewStub(member->channel);
  member->auth = etcdserverpb::Auth::NewStub(member->channel);
  return member;
}

}  // namespace

std::unique_ptr<AuthTokens> Connection::TakeCredentials(
    Connection* connection, ConnectionOptions* options) {
  if (!options->credentials.has_value()) return nullptr;
  EtcdCredentials credentials = *std::move(options->credentials);
  options->credentials.reset();
  return std::make_unique<AuthTokens>(
      std::move(credentials),
      [connection](const std::string& user, const std::string& password,
                   std::chrono::steady_clock::time_point deadline) {
        return connection->Authenticate(user, password, deadline);
      });
}

Connection::Connection(ConnectionOptions options)
    : auth_(TakeCredentials(this, &options)),
      options_(std::move(options)),
      dial_timeout_(options_.dial_timeout) {
  MutexLock lock(&mu_);
  for (const Endpoint& endpoint : options_.endpoints) {
    members_.push_back(MakeMember(options_, endpoint, next_id_++));
  }
}

std::shared_ptr<const MemberStubs> Connection::Current() const {
  MutexLock lock(&mu_);
  return members_[current_];
}

std::shared_ptr<const MemberStubs> Connection::Member(size_t index) const {
  MutexLock lock(&mu_);
  return index < members_.size() ? members_[index] : nullptr;
}

size_t Connection::size() const {
  MutexLock lock(&mu_);
  return members_.size();
}

std::vector<std::string> Connection::endpoints() const {
  MutexLock lock(&mu_);
  std::vector<std::string> urls;
  for (const auto& m : members_) urls.push_back(m->endpoint);
  return urls;
}

void Connection::ReportFailure(uint64_t member_id) {
  std::string blamed;
  {
    MutexLock lock(&mu_);
    if (members_[current_]->id != member_id) return;
    blamed = members_[current_]->endpoint;
    current_ = (current_ + 1) % members_.size();
  }
  metrics_.CountMemberFailure(blamed);
}

bool Connection::SetEndpoints(const std::vector<Endpoint>& endpoints) {
  if (endpoints.empty()) return false;
  std::map<std::string, const Endpoint*> wanted;  // By URL, once each.
  for (const Endpoint& endpoint : endpoints) wanted[endpoint.Url()] = &endpoint;
  MutexLock lock(&mu_);
  std::set<std::string> now;
  for (const auto& m : members_) now.insert(m->endpoint);
  if (now.size() == wanted.size() &&
      std::all_of(now.begin(), now.end(),
                  [&](const std::string& url) { return wanted.count(url); })) {
    return false;
  }
  std::vector<std::shared_ptr<const MemberStubs>> next;
  for (const auto& entry : wanted) {
    next.push_back(TakeMemberLocked(*entry.second));
  }
  // A member that leaves the list keeps its channel alive here: a stream may
  // still run on it, and its last reference must never go on a gRPC thread.
  for (const auto& m : members_) {
    if (!wanted.count(m->endpoint)) retired_.push_back(m);
  }
  // The member in use stays in use, first in the list, if it is still a
  // member; else the new list's first is.
  const std::string in_use = members_[current_]->endpoint;
  auto kept_in_use = std::find_if(next.begin(), next.end(), [&](const auto& m) {
    return m->endpoint == in_use;
  });
  if (kept_in_use != next.end()) {
    std::rotate(next.begin(), kept_in_use, next.end());
  }
  current_ = 0;
  members_.swap(next);
  return true;
}

std::shared_ptr<const MemberStubs> Connection::TakeMemberLocked(
    const Endpoint& endpoint) {
  const std::string url = endpoint.Url();
  const auto has_url = [&](const auto& m) { return m->endpoint == url; };
  // A member in the list, or one that left and comes back, keeps its channel.
  auto listed = std::find_if(members_.begin(), members_.end(), has_url);
  if (listed != members_.end()) return *listed;
  auto retired = std::find_if(retired_.begin(), retired_.end(), has_url);
  if (retired != retired_.end()) {
    auto member = *retired;
    retired_.erase(retired);
    return member;
  }
  return MakeMember(options_, endpoint, next_id_++);
}

Connection::Dialed Connection::WaitConnected(
    const MemberStubs& member,
    std::chrono::steady_clock::time_point deadline) const {
  const auto wall_deadline =
      std::chrono::system_clock::now() +
      (deadline - std::chrono::steady_clock::now());
  grpc_connectivity_state state = member.channel->GetState(true);
  bool attempted = false;
  while (state != GRPC_CHANNEL_READY) {
    // A connection attempt that ends in failure (refused, reset) ends the
    // wait at once; one still pending, or a channel waiting out its reconnect
    // backoff, gets the time left.
    if (state == GRPC_CHANNEL_TRANSIENT_FAILURE && attempted) {
      return Dialed::kRefused;
    }
    if (state == GRPC_CHANNEL_CONNECTING) attempted = true;
    if (!member.channel->WaitForStateChange(state, wall_deadline)) {
      return Dialed::kTimedOut;
    }
    state = member.channel->GetState(true);
  }
  return Dialed::kReady;
}

absl::Status Connection::Connect(
    const MemberStubs& member,
    std::chrono::steady_clock::time_point deadline) const {
  switch (WaitConnected(member, deadline)) {
    case Dialed::kReady:
      return absl::OkStatus();
    case Dialed::kRefused:
      return DialError(member, DialFailure::kRefused);
    case Dialed::kTimedOut:
      break;
  }
  return DialError(member, DialFailure::kTimedOut);
}

void Connection::SetAnswerHookForTesting(AnswerHook hook) {
  MutexLock lock(&mu_);
  has_answer_hook_ = hook != nullptr;
  answer_hook_ = std::move(hook);
}

void Connection::SetSendHookForTesting(SendHook hook) {
  MutexLock lock(&mu_);
  has_send_hook_ = hook != nullptr;
  send_hook_ = std::move(hook);
}

void Connection::Sending(absl::string_view what) {
  if (!has_send_hook_.load(std::memory_order_acquire)) return;
  SendHook hook;
  {
    MutexLock lock(&mu_);
    hook = send_hook_;
  }
  if (hook) hook(what);
}

absl::Status Connection::Answered(
    absl::string_view what, std::chrono::steady_clock::time_point started,
    absl::Status status) {
  // NotFound is an answer (a lease already gone), not a failed call.
  metrics_.RecordCall(what, std::chrono::steady_clock::now() - started,
                      status.ok() || absl::IsNotFound(status));
  if (!has_answer_hook_.load(std::memory_order_acquire)) return status;
  AnswerHook hook;
  {
    MutexLock lock(&mu_);
    hook = answer_hook_;
  }
  if (hook) hook(what, &status);
  return status;
}

void Connection::PauseBeforeRetry(
    size_t attempt, std::chrono::steady_clock::time_point deadline) const {
  const size_t round = attempt / size();
  auto pause = std::chrono::milliseconds(100) * (1 << std::min<size_t>(round, 3));
  pause = std::min(pause, std::chrono::milliseconds(1000));
  const auto until =
      std::min(deadline, std::chrono::steady_clock::now() + pause);
  std::this_thread::sleep_until(until);
}

void Connection::PrepareUnary(grpc::ClientContext* context,
                              std::chrono::milliseconds timeout,
                              const AuthToken* token) const {
  context->set_deadline(std::chrono::system_clock::now() + timeout);
  if (token != nullptr) context->AddMetadata("token", token->value);
}

void Connection::PrepareStream(grpc::ClientContext* context,
                               const AuthToken* token) const {
  context->AddMetadata("hasleader", "true");
  if (token != nullptr) context->AddMetadata("token", token->value);
}

absl::StatusOr<std::string> Connection::Authenticate(
    const std::string& user, const std::string& password,
    std::chrono::steady_clock::time_point deadline) {
  etcdserverpb::AuthenticateRequest request;
  request.set_name(user);
  request.set_password(password);
  etcdserverpb::AuthenticateResponse response;
  const auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  absl::Status status = CallWith(
      Token::kNone, "Authenticate", std::max(timeout, kMinAttemptTime),
      /*retry=*/true, [&](const MemberStubs& member, grpc::ClientContext* c) {
        return member.auth->Authenticate(c, request, &response);
      });
  WipeSecret(request.mutable_password());
  if (!status.ok()) return status;
  return std::move(*response.mutable_token());
}

}  // namespace etcdisc::internal
