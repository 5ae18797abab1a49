// The public Registration: a handle on the shared RegistrationImpl, which
// the client also holds so that it can stop it at shutdown, and on its
// HealthPublisher (which the RegistrationImpl stops).
#include <utility>

#include "discovery/registration_impl.h"
#include "fleet/health_publisher.h"
#include "etcdisc/client.h"

namespace etcdisc {

Registration::Registration(std::shared_ptr<internal::RegistrationImpl> impl,
                           std::shared_ptr<internal::HealthPublisher> health)
    : impl_(std::move(impl)), health_(std::move(health)) {}

Registration::~Registration() { Stop().IgnoreError(); }

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

absl::Status Registration::Stop() {
  // Stops the health publisher too, once the host is down.
  return impl_->Stop();
}

absl::Status Registration::SetGauge(absl::string_view name, double value) {
  if (health_ == nullptr) {
    return absl::FailedPreconditionError(
        "health publishing is off for this registration "
        "(RegisterOptions::health_interval is 0)");
  }
  return health_->SetGauge(name, value);
}

}  // namespace etcdisc
