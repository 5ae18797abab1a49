// Balancer and PickedHost: the public front of a BalancerCore fed by a
// ServiceView.
#include "etcdisc/balancer.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "balancing/balancer_core.h"
#include "balancing/balanced_host.h"
#include "util/status_macros.h"

namespace etcdisc {

PickedHost::PickedHost(std::shared_ptr<internal::BalancedHost> endpoint,
                       int64_t skip_seen)
    : endpoint_(std::move(endpoint)), skip_seen_(skip_seen) {
  endpoint_->in_flight.fetch_add(1, std::memory_order_relaxed);
}

PickedHost::~PickedHost() {
  if (endpoint_) endpoint_->in_flight.fetch_sub(1, std::memory_order_relaxed);
}

PickedHost::PickedHost(PickedHost&& other) noexcept
    : endpoint_(std::move(other.endpoint_)),
      skip_seen_(other.skip_seen_) {}

PickedHost& PickedHost::operator=(PickedHost&& other) noexcept {
  if (this != &other) {
    if (endpoint_) endpoint_->in_flight.fetch_sub(1, std::memory_order_relaxed);
    endpoint_ = std::move(other.endpoint_);
    skip_seen_ = other.skip_seen_;
  }
  return *this;
}

const Host& PickedHost::host() const { return endpoint_->host; }
void PickedHost::Failed() { endpoint_->Failed(); }
void PickedHost::Succeeded() { endpoint_->Succeeded(skip_seen_); }

absl::StatusOr<std::unique_ptr<Balancer>> Balancer::Open(
    Client& client, absl::string_view service, BalancerOptions options) {
  ETCDISC_RETURN_IF_ERROR(internal::ValidateBalancerOptions(options));
  ETCDISC_ASSIGN_OR_RETURN(
      std::unique_ptr<ServiceView> view,
      ServiceView::Open(client, service, ViewOptions{options.shard}));
  auto core = std::make_shared<internal::BalancerCore>(std::string(service),
                                                       std::move(options));
  view->OnChange([core](const HostSnapshot& hosts) { core->Update(hosts); });
  return std::unique_ptr<Balancer>(
      new Balancer(std::move(core), std::move(view)));
}

Balancer::Balancer(std::shared_ptr<internal::BalancerCore> core,
                   std::unique_ptr<ServiceView> view)
    : core_(std::move(core)), view_(std::move(view)) {}

Balancer::~Balancer() = default;

absl::Status Balancer::WaitReady(std::chrono::milliseconds timeout) const {
  return internal::WaitFirstUpdate(*view_, *core_, timeout, "the balancer of");
}

absl::StatusOr<PickedHost> Balancer::Pick() const { return core_->Pick(""); }
absl::StatusOr<PickedHost> Balancer::Pick(absl::string_view key) const {
  return core_->Pick(key);
}
void Balancer::ReportError(absl::string_view uuid) const {
  core_->Report(uuid, false);
}
void Balancer::ReportSuccess(absl::string_view uuid) const {
  core_->Report(uuid, true);
}
HostSnapshot Balancer::hosts() const { return core_->hosts(); }
absl::Status Balancer::status() const { return view_->status(); }
const std::string& Balancer::service() const { return core_->service(); }

}  // namespace etcdisc
