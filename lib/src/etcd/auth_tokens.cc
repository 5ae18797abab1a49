#include "etcd/auth_tokens.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "util/log.h"

namespace etcdisc::internal {
namespace {

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

// etcd refused the user itself: asking again soon gives the same answer.
bool IsRefusalOfUser(const absl::Status& status) {
  return absl::IsUnauthenticated(status) ||
         absl::IsFailedPrecondition(status);
}

}  // namespace

void WipeSecret(std::string* secret) {
  // Through a volatile pointer, so that the compiler may not drop it.
  volatile char* bytes = secret->data();
  for (size_t i = 0; i < secret->size(); ++i) bytes[i] = 0;
  secret->clear();
}

EtcdCredentials::~EtcdCredentials() { WipeSecret(&password); }

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
                       AuthenticateFn authenticate,
                       std::chrono::milliseconds refusal_hold_off)
    : credentials_(std::move(credentials)),
      authenticate_(std::move(authenticate)),
      refusal_hold_off_(refusal_hold_off) {}

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
    // A refusal of the user (by the Authenticate waited for, or one not
    // long ago) is this Get's answer too; after any other failure (etcd
    // unreachable, a deadline shorter than ours) it tries for itself.
    if (IsRefusalOfUser(failure_) &&
        std::chrono::steady_clock::now() < failed_at_ + refusal_hold_off_) {
      return failure_;
    }
    authenticating_ = true;
    ++authentications_;
  }
  return Authenticate(deadline);
}

absl::StatusOr<AuthToken> AuthTokens::Authenticate(
    std::chrono::steady_clock::time_point deadline) {
  absl::StatusOr<std::string> got =
      authenticate_(credentials_.user, credentials_.password, deadline);
  MutexLock lock(&mu_);
  authenticating_ = false;
  if (!got.ok()) {
    failure_ = Refused(credentials_.user, got.status());
    failed_at_ = std::chrono::steady_clock::now();
    if (IsRefusalOfUser(failure_)) {
      ETCDISC_LOG(kInfo, std::string(failure_.message()));
    }
    return failure_;
  }
  failure_ = absl::OkStatus();
  token_ = AuthToken{*std::move(got), ++generations_};
  ETCDISC_LOG(kInfo, absl::StrCat("etcd user \"", credentials_.user,
                                  "\" authenticated (token ", generations_,
                                  ")"));
  return *token_;
}

bool AuthTokens::AwaitNoAuthenticateLocked(
    std::chrono::steady_clock::time_point deadline) {
  const auto idle = absl::Condition(
      +[](bool* busy) { return !*busy; }, &authenticating_);
  ++waiting_;
  while (authenticating_) {
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= left.zero()) break;
    mu_.AwaitWithTimeout(idle, absl::FromChrono(left));
  }
  --waiting_;
  return !authenticating_;
}

void AuthTokens::Invalidate(const AuthToken& stale) {
  MutexLock lock(&mu_);
  if (token_.has_value() && token_->generation == stale.generation) {
    WipeSecret(&token_->value);
    token_.reset();
  }
}

uint64_t AuthTokens::newest_generation() const {
  MutexLock lock(&mu_);
  return generations_;
}

int AuthTokens::waiting() const {
  MutexLock lock(&mu_);
  return waiting_;
}

int AuthTokens::authentications() const {
  MutexLock lock(&mu_);
  return authentications_;
}

}  // namespace etcdisc::internal
