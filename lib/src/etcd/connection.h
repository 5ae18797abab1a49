// The gRPC side of a client's link to an etcd cluster: one channel per member
// endpoint, one of them in use at a time, and the move to the next member when
// the one in use fails.
#ifndef ETCDISC_ETCD_CONNECTION_H_
#define ETCDISC_ETCD_CONNECTION_H_

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "util/mutex.h"
#include "etcd/auth_tokens.h"
#include "etcd/endpoints.h"
#include "etcd/etcd_metrics.h"
#include "etcd/grpc_status.h"
#include "grpcpp/grpcpp.h"
#include "rpc.grpc.pb.h"

namespace etcdisc::internal {

struct ConnectionOptions {
  // The members to talk to, in the order they are tried. Must not be empty.
  std::vector<Endpoint> endpoints;
  // Credentials of the channels to https:// endpoints (http:// ones are
  // plaintext); nullptr when there is none.
  std::shared_ptr<grpc::ChannelCredentials> tls_credentials;
  // The name checked against each https:// member's certificate; empty: the
  // endpoint's host.
  std::string tls_server_name;
  // Time between HTTP/2 pings on a connection with calls in flight; a member
  // that stops answering them (paused, cut off) is dropped after
  // ping_timeout. etcd refuses pings more often than every 5 s.
  std::chrono::milliseconds ping_time{};
  std::chrono::milliseconds ping_timeout{};
  // How long a call waits for a member that is not connected before it moves
  // on to the next one. Bounded by the call's own deadline.
  std::chrono::milliseconds dial_timeout{};
  // An etcd user: every call and stream then carries its auth token. Taken
  // out by Connection (the password is kept once, in its AuthTokens).
  std::optional<EtcdCredentials> credentials;
};

// The stubs of one member's channel. Stubs are safe for concurrent use.
struct MemberStubs {
  uint64_t id = 0;       // Unique in its Connection, never reused.
  std::string endpoint;  // Its URL, for messages.
  bool tls = false;      // Reached over TLS (an https:// endpoint).
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<etcdserverpb::KV::Stub> kv;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease;
  std::unique_ptr<etcdserverpb::Watch::Stub> watch;
  std::unique_ptr<etcdserverpb::Cluster::Stub> cluster;
  std::unique_ptr<etcdserverpb::Maintenance::Stub> maintenance;
  std::unique_ptr<etcdserverpb::Auth::Stub> auth;
};

// Safe for concurrent use without external synchronization.
class Connection {
 public:
  explicit Connection(ConnectionOptions options);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // The member in use now. Never null.
  std::shared_ptr<const MemberStubs> Current() const ABSL_LOCKS_EXCLUDED(mu_);
  // Stubs for the member at `index` in the member list, whichever is in use
  // (for tools and tests that address a member directly); nullptr past the
  // end.
  std::shared_ptr<const MemberStubs> Member(size_t index) const
      ABSL_LOCKS_EXCLUDED(mu_);
  size_t size() const ABSL_LOCKS_EXCLUDED(mu_);
  // The members' URLs, in the order they are tried.
  std::vector<std::string> endpoints() const ABSL_LOCKS_EXCLUDED(mu_);

  // Replaces the member list (what the cluster says its members are, for
  // instance). A member whose URL stays keeps its channel; the member in use,
  // if it stays, stays in use and comes first. The others are in URL order. Calls and streams already on a member that left run on to
  // their end. Returns whether anything changed; an empty list changes
  // nothing.
  bool SetEndpoints(const std::vector<Endpoint>& endpoints)
      ABSL_LOCKS_EXCLUDED(mu_);
  // How long a call waits for a member to connect before moving on.
  std::chrono::milliseconds dial_timeout() const { return dial_timeout_; }

  // Says that a call through the member `member_id` failed in a way that
  // blames the member. If it is still the member in use, the next one takes
  // its place; reports about a member already left behind change nothing.
  void ReportFailure(uint64_t member_id) ABSL_LOCKS_EXCLUDED(mu_);

  // How a wait for a member's channel ended.
  enum class Dialed {
    kReady,     // Connected.
    kRefused,   // A connection attempt failed (refused, reset).
    kTimedOut,  // Still not connected at the deadline.
  };
  // Waits until `member`'s channel is connected, at most until `deadline`,
  // or until an attempt to connect fails. While a channel is down gRPC makes
  // progress on reconnecting only when some thread waits on it, so calls and
  // streams wait here instead of failing fast against a channel that is
  // still reconnecting.
  Dialed WaitConnected(const MemberStubs& member,
                       std::chrono::steady_clock::time_point deadline) const;
  // WaitConnected as a status: OK, or Unavailable naming the member and
  // saying why gRPC could not connect (see DialError).
  absl::Status Connect(const MemberStubs& member,
                       std::chrono::steady_clock::time_point deadline) const;

  // Sets a unary call's deadline and etcd's metadata: `token` (may be null).
  void PrepareUnary(grpc::ClientContext* context,
                    std::chrono::milliseconds timeout,
                    const AuthToken* token = nullptr) const;
  // Sets a long-lived stream's metadata: no deadline, `token` (may be null;
  // a stream carries the token it opened with for its whole life), and etcd's
  // require-leader key so that a member that loses its leader ends the stream
  // instead of holding it silently.
  void PrepareStream(grpc::ClientContext* context,
                     const AuthToken* token) const;

  // The client's etcd user's tokens; nullptr without a user.
  AuthTokens* auth() { return auth_.get(); }

  // Runs a unary call against the member in use. `call(stubs, context)`
  // performs it and returns gRPC's status. On a member failure the next member
  // takes over. The call is tried again, while its deadline allows, when
  // nothing was sent (no connection), when etcd refused it unapplied (no
  // leader), and on any member failure with `retry` (for reads and other
  // calls safe to repeat). With an etcd user, the call carries the client's
  // token; when etcd refuses the token (expired, lost in a restart), a new
  // one is got and the call sent once more (etcd applied nothing).
  template <typename CallFn>
  absl::Status Call(absl::string_view what, std::chrono::milliseconds timeout,
                    bool retry, CallFn&& call) {
    return CallWith(Token::kAttach, what, timeout, retry,
                    std::forward<CallFn>(call));
  }

  // For tests of what happens while a call is in flight: `hook(what, status)`
  // runs after each unary call has been answered and before its caller sees
  // the answer, on the caller's thread; it may block to hold the answer back,
  // or change the status the caller gets. nullptr removes it.
  using AnswerHook =
      std::function<void(absl::string_view what, absl::Status* status)>;
  void SetAnswerHookForTesting(AnswerHook hook) ABSL_LOCKS_EXCLUDED(mu_);
  // The same before each unary call is sent: `hook(what)` runs on the
  // caller's thread and may block to hold the call back. nullptr removes it.
  using SendHook = std::function<void(absl::string_view what)>;
  void SetSendHookForTesting(SendHook hook) ABSL_LOCKS_EXCLUDED(mu_);

  // What calls and streams over this connection measure.
  EtcdMetrics& metrics() { return metrics_; }

 private:
  enum class Token { kAttach, kNone };
  template <typename CallFn>
  absl::Status CallWith(Token token_use, absl::string_view what,
                        std::chrono::milliseconds timeout, bool retry,
                        CallFn&& call);
  // etcd's Authenticate, with no token attached (etcd 3.4 refuses an
  // Authenticate that carries a stale one).
  absl::StatusOr<std::string> Authenticate(
      const std::string& user, const std::string& password,
      std::chrono::steady_clock::time_point deadline);

  // The member for `endpoint`: the listed or retired one with its URL, else
  // a new one.
  std::shared_ptr<const MemberStubs> TakeMemberLocked(const Endpoint& endpoint)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Records the call's outcome, then runs the answer hook, if any.
  absl::Status Answered(absl::string_view what,
                        std::chrono::steady_clock::time_point started,
                        absl::Status status) ABSL_LOCKS_EXCLUDED(mu_);
  // Runs the send hook, if any.
  void Sending(absl::string_view what) ABSL_LOCKS_EXCLUDED(mu_);

  // The shortest time one try of a repeatable call gets.
  static constexpr std::chrono::milliseconds kMinAttemptTime{500};

  // Sleeps 100 ms, doubling per round up to 1 s, never past `deadline`.
  void PauseBeforeRetry(size_t attempt,
                        std::chrono::steady_clock::time_point deadline) const;

  // The tokens of options.credentials, which it takes out (so that the
  // password is kept once); nullptr without credentials.
  static std::unique_ptr<AuthTokens> TakeCredentials(Connection* connection,
                                                     ConnectionOptions* options);

  // Set once, in the constructor, before options_ (it takes the credentials
  // out of them).
  const std::unique_ptr<AuthTokens> auth_;
  const ConnectionOptions options_;  // Its endpoints: the first list only.
  const std::chrono::milliseconds dial_timeout_;
  mutable Mutex mu_;
  std::vector<std::shared_ptr<const MemberStubs>> members_ ABSL_GUARDED_BY(mu_);
  size_t current_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  // Members that left the list, kept until the connection goes or they come
  // back (see SetEndpoints): at most one per URL ever seen.
  std::vector<std::shared_ptr<const MemberStubs>> retired_ ABSL_GUARDED_BY(mu_);
  AnswerHook answer_hook_ ABSL_GUARDED_BY(mu_);
  SendHook send_hook_ ABSL_GUARDED_BY(mu_);
  // Let calls skip the lock when no hook is set (the usual case).
  std::atomic<bool> has_answer_hook_{false};
  std::atomic<bool> has_send_hook_{false};
  EtcdMetrics metrics_;
};

template <typename CallFn>
absl::Status Connection::CallWith(Token token_use, absl::string_view what,
                                  std::chrono::milliseconds timeout, bool retry,
                                  CallFn&& call) {
  using Clock = std::chrono::steady_clock;
  Sending(what);  // Before the clock starts: a test's hold is not the call's.
  const auto started = Clock::now();
  const auto deadline = started + timeout;
  const bool with_token = auth_ != nullptr && token_use == Token::kAttach;
  bool token_renewed = false;
  absl::Status status;
  for (size_t attempt = 0; attempt == 0 || Clock::now() < deadline;
       ++attempt) {
    // One quick round through the members, then a pause between tries so that
    // a cluster electing a leader has the time to.
    if (attempt >= size()) PauseBeforeRetry(attempt, deadline);
    std::shared_ptr<const MemberStubs> member = Current();
    status = Connect(*member, std::min(deadline, Clock::now() + dial_timeout_));
    if (!status.ok()) {
      ReportFailure(member->id);
      continue;  // Nothing was sent: any call may try again.
    }
    std::optional<AuthToken> token;
    if (with_token) {
      absl::StatusOr<AuthToken> got = auth_->Get(deadline);
      if (!got.ok()) {
        status = got.status();
        break;
      }
      token = *std::move(got);
    }
    // A call that may be repeated gets a slice of the time, so that one
    // swallowed by a member that lost its leader leaves time for another try.
    auto attempt_deadline = deadline;
    if (retry) {
      attempt_deadline = std::min(
          deadline, Clock::now() + std::max(timeout / 3, kMinAttemptTime));
    }
    grpc::ClientContext context;
    PrepareUnary(&context,
                 std::chrono::duration_cast<std::chrono::milliseconds>(
                     attempt_deadline - Clock::now()),
                 token ? &*token : nullptr);
    status = FromGrpcStatus(call(*member, &context), what, member->endpoint);
    if (token && !token_renewed && IsStaleToken(status)) {
      // Refused before anything was applied: once more with a new token.
      auth_->Invalidate(*token);
      token_renewed = true;
      continue;
    }
    if (status.ok() || !IsMemberFailure(status)) break;
    ReportFailure(member->id);
    if (!retry && !IsRejectedUnapplied(status)) break;
  }
  if (token_renewed && IsStaleToken(status)) {
    // A new token was refused as well (a member behind on the
    // Authenticate, or an expiry in between): not a refusal of the user.
    status = absl::UnavailableError(
        absl::StrCat(status.message(), " (again, with a new token)"));
  }
  return Answered(what, started, std::move(status));
}

}  // namespace etcdisc::internal

#endif  // ETCDISC_ETCD_CONNECTION_H_
