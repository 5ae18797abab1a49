// Collects a registration's events, for assertions.
#ifndef ETCDISC_TEST_SUPPORT_EVENT_RECORDER_H_
#define ETCDISC_TEST_SUPPORT_EVENT_RECORDER_H_

#include <memory>
#include <vector>

#include "etcdisc/client.h"
#include "util/mutex.h"

namespace etcdisc::testing {

// The callback shares the recorder's state, so a registration that outlives
// the recorder never writes to freed memory.
class EventRecorder {
 public:
  RegistrationCallback Callback() {
    return [state = state_](const RegistrationEvent& e) {
      internal::MutexLock lock(&state->mu);
      state->events.push_back(e);
    };
  }
  std::vector<RegistrationEvent> events() const {
    internal::MutexLock lock(&state_->mu);
    return state_->events;
  }
  std::vector<RegistrationEvent::Kind> kinds() const {
    std::vector<RegistrationEvent::Kind> out;
    for (const auto& e : events()) out.push_back(e.kind);
    return out;
  }
  int Count(RegistrationEvent::Kind kind) const {
    int n = 0;
    for (auto k : kinds()) n += k == kind;
    return n;
  }
  bool Saw(RegistrationEvent::Kind kind) const { return Count(kind) > 0; }
  RegistrationEvent Last() const {
    internal::MutexLock lock(&state_->mu);
    return state_->events.back();
  }

 private:
  struct State {
    mutable internal::Mutex mu;
    std::vector<RegistrationEvent> events ABSL_GUARDED_BY(mu);
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace etcdisc::testing

#endif  // ETCDISC_TEST_SUPPORT_EVENT_RECORDER_H_
