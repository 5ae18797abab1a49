// Holds the answer of one etcd call in flight until the test lets it go, so
// that a test can change etcd's state between a call and its answer.
#ifndef ETCDISC_TEST_SUPPORT_CALL_GATE_H_
#define ETCDISC_TEST_SUPPORT_CALL_GATE_H_

#include <chrono>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "etcd/connection.h"
#include "util/mutex.h"

namespace etcdisc::testing {

// Usage: client.SetAnswerHookForTesting(gate.Hook()); gate.Arm("Txn");
// ...; gate.WaitHeld(); change etcd; gate.Release(). With
// SetSendHookForTesting(gate.SendHook()) the call is held before it is sent.
// The destructor releases a held call, so a failed test never hangs.
class CallGate {
 public:
  ~CallGate() { Release(); }

  internal::Connection::AnswerHook Hook() {
    return [state = state_](absl::string_view what, absl::Status*) {
      state->MaybeHold(what);
    };
  }
  // For SetSendHookForTesting: holds the armed call before it is sent.
  internal::Connection::SendHook SendHook() {
    return [state = state_](absl::string_view what) { state->MaybeHold(what); };
  }

  // The next answer of a call named `what` ("Txn", "Put", ...) is held.
  void Arm(const std::string& what) {
    internal::MutexLock lock(&state_->mu);
    state_->armed = what;
    state_->held = false;
    state_->released = false;
  }

  // Waits until an armed call is being held; returns whether it is.
  bool WaitHeld(std::chrono::milliseconds timeout) {
    internal::MutexLock lock(&state_->mu);
    return state_->mu.AwaitWithTimeout(
        absl::Condition(
            +[](State* s) ABSL_NO_THREAD_SAFETY_ANALYSIS { return s->held; },
            state_.get()),
        absl::FromChrono(timeout));
  }

  // Lets the held call (if any) return to its caller.
  void Release() {
    internal::MutexLock lock(&state_->mu);
    state_->released = true;
  }

 private:
  struct State {
    void MaybeHold(absl::string_view what) {
      internal::MutexLock lock(&mu);
      if (armed.empty() || what != armed) return;
      armed.clear();
      held = true;
      mu.Await(absl::Condition(
          +[](State* s) ABSL_NO_THREAD_SAFETY_ANALYSIS { return s->released; },
          this));
    }
    internal::Mutex mu;
    std::string armed ABSL_GUARDED_BY(mu);
    bool held ABSL_GUARDED_BY(mu) = false;
    bool released ABSL_GUARDED_BY(mu) = false;
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace etcdisc::testing

#endif  // ETCDISC_TEST_SUPPORT_CALL_GATE_H_
