// EventWatch: a host watch whose events are posted, in order, to the client's
// callback thread.
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "discovery/client_access.h"
#include "discovery/host_watch.h"
#include "discovery/keys.h"
#include "etcdisc/view.h"
#include "util/mutex.h"
#include "util/status_macros.h"

namespace etcdisc {
namespace internal {

// Safe for concurrent use. The host watch calls Deliver in etcd's order under
// its lock; each event becomes one task on the serial callback thread, so
// the callbacks keep that order.
class EventWatchState : public std::enable_shared_from_this<EventWatchState> {
 public:
  EventWatchState(std::shared_ptr<ClientCore> core, std::string service,
                  EventWatch::Callback on_event)
      : core_(std::move(core)),
        service_(std::move(service)),
        on_event_(
            std::make_shared<EventWatch::Callback>(std::move(on_event))) {}

  absl::Status Start(bool existing) {
    watch_ = NewHostWatch(core_, service_, MakeSink());
    ETCDISC_RETURN_IF_ERROR(core_->Track(watch_));
    absl::Status started = watch_->Start(existing);
    if (!started.ok()) Stop();
    return started;
  }

  // Stops following and delivering (events waiting are dropped).
  void Stop() {
    {
      MutexLock lock(&mu_);
      if (closed_) return;
      closed_ = true;
      if (end_.ok()) {
        end_ = absl::CancelledError(
            absl::StrCat("the event watch of \"", service_, "\" was closed"));
      }
    }
    if (watch_ != nullptr) watch_->Stop();
  }

  // After Stop: waits until no event is being delivered (at once on the
  // callback thread), then drops the callback here.
  void Release() {
    std::shared_ptr<EventWatch::Callback> callback;
    if (!core_->callbacks().OnExecutorThread()) {
      MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](EventWatchState* s) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return s->delivering_ == 0;
          },
          this));
    }
    MutexLock lock(&mu_);
    callback.swap(on_event_);
  }

  absl::Status status() const {
    MutexLock lock(&mu_);
    return end_;
  }

 private:
  HostSink MakeSink() {
    std::weak_ptr<EventWatchState> weak = weak_from_this();
    HostSink sink;
    sink.kind = "callback";
    sink.on_new = [weak](const Host& host) {
      return Post(weak, HostEvent{HostEvent::Kind::kNew, host});
    };
    sink.on_down = [weak, service = service_](const std::string& uuid) {
      HostEvent event{HostEvent::Kind::kDown, Host{}};
      event.host.service_name = service;
      event.host.uuid = uuid;
      return Post(weak, std::move(event));
    };
    sink.on_end = [weak](const absl::Status& why) {
      if (auto self = weak.lock()) {
        MutexLock lock(&self->mu_);
        if (self->end_.ok()) self->end_ = why;
      }
    };
    sink.queue_depth = [] { return size_t{0}; };
    return sink;
  }

  // False (the watch ends) once the client's callback thread is gone.
  static bool Post(const std::weak_ptr<EventWatchState>& weak,
                   HostEvent event) {
    auto self = weak.lock();
    if (!self) return false;
    return self->core_->callbacks().Post(
        [weak, event = std::move(event)] {
          if (auto state = weak.lock()) state->Deliver(event);
        });
  }

  // Events that came before etcd ended the watch (a refusal) are still
  // delivered; none after Stop.
  void Deliver(const HostEvent& event) {
    std::shared_ptr<EventWatch::Callback> callback;
    {
      MutexLock lock(&mu_);
      if (closed_ || on_event_ == nullptr) return;
      callback = on_event_;
      ++delivering_;
    }
    (*callback)(event);
    callback.reset();
    MutexLock lock(&mu_);
    --delivering_;
  }

  const std::shared_ptr<ClientCore> core_;
  const std::string service_;
  std::shared_ptr<PrefixWatch> watch_;  // Set by Start(), then unchanged.
  mutable Mutex mu_;
  std::shared_ptr<EventWatch::Callback> on_event_ ABSL_GUARDED_BY(mu_);
  absl::Status end_ ABSL_GUARDED_BY(mu_);  // Why it stopped.
  bool closed_ ABSL_GUARDED_BY(mu_) = false;  // Stop() ran.
  int delivering_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace internal

absl::StatusOr<std::unique_ptr<EventWatch>> EventWatch::Open(
    Client& client, absl::string_view service, Callback on_event,
    SubscribeOptions options) {
  ETCDISC_RETURN_IF_ERROR(internal::ValidateServiceName(service));
  if (!on_event) {
    return absl::InvalidArgumentError("EventWatch::Open: on_event is empty");
  }
  auto state = std::make_shared<internal::EventWatchState>(
      internal::ClientAccess::SharedCore(client), std::string(service),
      std::move(on_event));
  ETCDISC_RETURN_IF_ERROR(state->Start(options.existing));
  return std::unique_ptr<EventWatch>(new EventWatch(std::move(state)));
}

EventWatch::EventWatch(std::shared_ptr<internal::EventWatchState> state)
    : state_(std::move(state)) {}

EventWatch::~EventWatch() {
  state_->Stop();
  // Only this watch's delivery under way is waited for, not the client's
  // other callbacks.
  state_->Release();
}

absl::Status EventWatch::status() const { return state_->status(); }

}  // namespace etcdisc
