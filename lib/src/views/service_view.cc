// ServiceView: the public front of a ViewState.
#include <utility>

#include "discovery/client_access.h"
#include "discovery/keys.h"
#include "etcdisc/view.h"
#include "util/status_macros.h"
#include "views/view_state.h"

namespace etcdisc {

absl::StatusOr<std::unique_ptr<ServiceView>> ServiceView::Open(
    Client& client, absl::string_view service, ViewOptions options) {
  ETCDISC_RETURN_IF_ERROR(internal::ValidateServiceName(service));
  auto state = std::make_shared<internal::ViewState>(
      internal::ClientAccess::SharedCore(client), std::string(service),
      std::move(options));
  ETCDISC_RETURN_IF_ERROR(state->Start());
  return std::unique_ptr<ServiceView>(new ServiceView(std::move(state)));
}

ServiceView::ServiceView(std::shared_ptr<internal::ViewState> state)
    : state_(std::move(state)) {}

ServiceView::~ServiceView() {
  state_->Stop();
  // A call of this view's callbacks under way finishes first, unless this is
  // it. Only this view's: other callbacks of the client are not waited for.
  state_->AwaitCallbacksDone();
  state_->ReleaseCallbacks();
}

const std::string& ServiceView::service() const { return state_->service(); }
HostSnapshot ServiceView::hosts() const { return state_->hosts(); }
bool ServiceView::ready() const { return state_->ready(); }
absl::Status ServiceView::WaitReady(std::chrono::milliseconds timeout) const {
  return state_->WaitReady(timeout);
}
absl::Status ServiceView::status() const { return state_->status(); }

uint64_t ServiceView::OnChange(ChangeCallback callback) {
  return state_->AddCallback(std::move(callback));
}

void ServiceView::RemoveCallback(uint64_t id) {
  state_->RemoveCallback(id);
  state_->AwaitCallbacksDone();
}

}  // namespace etcdisc
