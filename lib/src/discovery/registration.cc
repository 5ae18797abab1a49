// The public Registration: a handle on the shared RegistrationImpl, which
// the client also holds so that it can stop every registration at shutdown.
#include <utility>

#include "discovery/registration_impl.h"
#include "etcdisc/client.h"

namespace etcdisc {

Registration::Registration(std::shared_ptr<internal::RegistrationImpl> impl)
    : impl_(std::move(impl)) {}

Registration::~Registration() { impl_->Stop().IgnoreError(); }

bool Registration::Ready() const { return impl_->Ready(); }

absl::Status Registration::WaitRegistration(
    std::chrono::milliseconds timeout) {
  return impl_->WaitRegistration(timeout);
}

absl::StatusOr<Credentials> Registration::credentials() const {
  return impl_->credentials();
}

std::string Registration::UUID() const { return impl_->UUID(); }

Host Registration::host() const { return impl_->host(); }

absl::Status Registration::LastError() const { return impl_->LastError(); }

absl::Status Registration::Stop() { return impl_->Stop(); }

}  // namespace etcdisc
