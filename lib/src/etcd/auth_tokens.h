// The one etcd auth token of a client with a user name and password: got by
// Authenticate when first needed, shared by every call and stream, and got
// again only after etcd refused it (expired, lost by a restarted member, or
// made stale by a change to users and roles).
#ifndef ETCDISC_ETCD_AUTH_TOKENS_H_
#define ETCDISC_ETCD_AUTH_TOKENS_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "util/mutex.h"

namespace etcdisc::internal {

// A token and its generation: each Authenticate makes a new generation, so
// that a refusal of an old token never discards a newer one.
struct AuthToken {
  std::string value;
  uint64_t generation = 0;
};

// Overwrites `secret`'s bytes where they are (a move would leave a short
// string's bytes behind), then empties it.
void WipeSecret(std::string* secret);

// User name and password. The password is kept only here, for the next
// Authenticate, and overwritten when this goes.
struct EtcdCredentials {
  std::string user;
  std::string password;
  ~EtcdCredentials();
};

// Whether etcd refused a call for its token (so that a new one may help):
// "invalid auth token", or "revision of auth store is old".
bool IsStaleToken(const absl::Status& status);
// Whether etcd refused a watch for its stream's token or permissions (etcd
// 3.4 says "permission denied" for both).
bool IsRefusedWatch(absl::string_view cancel_reason);

// Thread-safe. Authenticate runs on the thread that needs a token, at most
// one at a time; others needing one meanwhile wait for its result. Once etcd
// refused the user itself (wrong password, unknown user, authentication off),
// Get repeats that answer without calling etcd for `refusal_hold_off`, to
// the threads that waited as well: every call costs the server a bcrypt
// check. After other failures, each Get tries for itself, one at a time.
class AuthTokens {
 public:
  static constexpr std::chrono::seconds kRefusalHoldOff{10};

  // Calls etcd's Authenticate for `user` and `password`, with no token
  // attached, within `deadline`; returns the token.
  using AuthenticateFn = std::function<absl::StatusOr<std::string>(
      const std::string& user, const std::string& password,
      std::chrono::steady_clock::time_point deadline)>;

  AuthTokens(EtcdCredentials credentials, AuthenticateFn authenticate,
             std::chrono::milliseconds refusal_hold_off = kRefusalHoldOff);

  const std::string& user() const { return credentials_.user; }

  // The token, if one is held (never blocks on etcd).
  std::optional<AuthToken> Cached() const ABSL_LOCKS_EXCLUDED(mu_);
  // The token held, else a new one. Unauthenticated naming the user (never
  // the password) when etcd refuses them.
  absl::StatusOr<AuthToken> Get(std::chrono::steady_clock::time_point deadline)
      ABSL_LOCKS_EXCLUDED(mu_);
  // etcd refused `stale`: the next Get authenticates again, unless a newer
  // token is held already.
  void Invalidate(const AuthToken& stale) ABSL_LOCKS_EXCLUDED(mu_);

  // The generation of the newest token made so far (0 before the first).
  uint64_t newest_generation() const ABSL_LOCKS_EXCLUDED(mu_);

  // How many Gets wait for another's Authenticate now (for tests).
  int waiting() const ABSL_LOCKS_EXCLUDED(mu_);
  // How many times Authenticate was called (for tests).
  int authentications() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // Waits while another thread authenticates: false at `deadline`.
  bool AwaitNoAuthenticateLocked(std::chrono::steady_clock::time_point deadline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Runs Authenticate and records its answer.
  absl::StatusOr<AuthToken> Authenticate(
      std::chrono::steady_clock::time_point deadline) ABSL_LOCKS_EXCLUDED(mu_);

  const EtcdCredentials credentials_;
  const AuthenticateFn authenticate_;
  const std::chrono::milliseconds refusal_hold_off_;
  mutable Mutex mu_;
  std::optional<AuthToken> token_ ABSL_GUARDED_BY(mu_);
  bool authenticating_ ABSL_GUARDED_BY(mu_) = false;
  // The last Authenticate's error (OK once one succeeded), and when.
  absl::Status failure_ ABSL_GUARDED_BY(mu_);
  std::chrono::steady_clock::time_point failed_at_ ABSL_GUARDED_BY(mu_);
  uint64_t generations_ ABSL_GUARDED_BY(mu_) = 0;
  int authentications_ ABSL_GUARDED_BY(mu_) = 0;
  int waiting_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace etcdisc::internal

#endif  // ETCDISC_ETCD_AUTH_TOKENS_H_
