#include "etcd/auth_tokens.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace etcdisc::internal {
namespace {

// Overwrites `secret` in place, in a way the compiler may not drop.
void Wipe(std::string* secret) {
  volatile char* bytes = secret->data();
  for (size_t i = 0; i < secret->size(); ++i) bytes[i] = 0;
  secret->clear();
}

// etcd answers a wrong user name or password with INVALID_ARGUMENT.
absl::Status Refused(const std::string& user, const absl::Status& status) {
  if (absl::StrContains(status.message(), "authentication failed")) {
    return absl::UnauthenticatedError(absl::StrCat(
        "etcd refused user \"", user, "\": wrong user name or password"));
  }
  if (absl::StrContains(status.message(), "authentication is not enabled")) {
    return absl::FailedPreconditionError(absl::StrCat(
        "etcd user \"", user,
        "\" was given, but authentication is not enabled on this etcd"));
  }
  return status;
}

}  // namespace

EtcdCredentials::~EtcdCredentials() { Wipe(&password); }

bool IsStaleToken(const absl::Status& status) {
  return absl::StrContains(status.message(), "invalid auth token") ||
         absl::StrContains(status.message(), "revision of auth store is old");
}

bool IsRefusedWatch(absl::string_view cancel_reason) {
  return absl::StrContains(cancel_reason, "permission denied") ||
         absl::StrContains(cancel_reason, "invalid auth token") ||
         absl::StrContains(cancel_reason, "revision of auth store is old");
}

AuthTokens::AuthTokens(EtcdCredentials credentials,
                       AuthenticateFn authenticate)
    : credentials_(std::move(credentials)),
      authenticate_(std::move(authenticate)) {}

std::optional<AuthToken> AuthTokens::Cached() const {
  MutexLock lock(&mu_);
  return token_;
}

absl::StatusOr<AuthToken> AuthTokens::Get(
    std::chrono::steady_clock::time_point deadline) {
  {
    MutexLock lock(&mu_);
    if (!AwaitNoAuthenticateLocked(deadline)) {
      return absl::DeadlineExceededError(absl::StrCat(
          "no etcd auth token for user \"", credentials_.user, "\" in time"));
    }
    if (token_.has_value()) return *token_;
    authenticating_ = true;
    ++authentications_;
  }
  absl::StatusOr<std::string> got =
      authenticate_(credentials_.user, credentials_.password, deadline);
  MutexLock lock(&mu_);
  authenticating_ = false;
  if (!got.ok()) return Refused(credentials_.user, got.status());
  token_ = AuthToken{*std::move(got), ++generations_};
  return *token_;
}

bool AuthTokens::AwaitNoAuthenticateLocked(
    std::chrono::steady_clock::time_point deadline) {
  const auto idle = absl::Condition(
      +[](bool* busy) { return !*busy; }, &authenticating_);
  while (authenticating_) {
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= left.zero()) return false;
    mu_.AwaitWithTimeout(idle, absl::FromChrono(left));
  }
  return true;
}

void AuthTokens::Invalidate(const AuthToken& stale) {
  MutexLock lock(&mu_);
  if (token_.has_value() && token_->generation == stale.generation) {
    Wipe(&token_->value);
    token_.reset();
  }
}

int AuthTokens::authentications() const {
  MutexLock lock(&mu_);
  return authentications_;
}

}  // namespace etcdisc::internal
