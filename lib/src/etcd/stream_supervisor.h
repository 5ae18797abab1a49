// Keeps one long-lived bidirectional stream open to the etcd cluster: starts
// it on the member in use, and when it ends, blames that member, waits a
// jittered backoff and opens a new one on the next member. The watch and
// keep-alive streams are built on it.
#ifndef ETCDISC_ETCD_STREAM_SUPERVISOR_H_
#define ETCDISC_ETCD_STREAM_SUPERVISOR_H_

#include <chrono>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "util/mutex.h"
#include "etcd/bidi_stream.h"
#include "etcd/connection.h"
#include "util/backoff.h"
#include "util/scheduler.h"

namespace etcdisc::internal {

// A base for the owner of one reconnecting stream. Subclasses guard their own
// state with mu_, send through stream_ while it is set, and say what to do
// when a new stream opens. Thread-safe; Shutdown() must be called before the
// subclass is destroyed.
template <typename Request, typename Response>
class StreamSupervisor : public BidiStreamOwner<Request, Response> {
 public:
  using Stream = BidiStream<Request, Response>;

  // Stops reconnecting, ends the open stream and waits until it is freed.
  // Idempotent.
  void Shutdown() ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(&mu_);
    stopping_ = true;
    if (stream_ != nullptr) stream_->Cancel();
    mu_.Await(absl::Condition(
        +[](StreamSupervisor* s) ABSL_NO_THREAD_SAFETY_ANALYSIS {
          return s->streams_alive_ == 0;
        },
        this));
  }

  // How many streams this supervisor has opened so far (for tests and
  // metrics).
  int streams_opened() const ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(&mu_);
    return streams_opened_;
  }

 protected:
  // `max_backoff` caps the wait between reconnects.
  StreamSupervisor(Connection* connection, Scheduler* scheduler,
                   typename Stream::StartFn (*start_for)(const MemberStubs&),
                   std::chrono::milliseconds max_backoff)
      : connection_(connection),
        scheduler_(scheduler),
        start_for_(start_for),
        backoff_(std::chrono::milliseconds(100), max_backoff) {}

  // Opens a stream now unless one is open or about to be.
  void EnsureStreamLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (stopping_ || stream_ != nullptr || reconnect_pending_) return;
    auto member = connection_->Current();
    stream_member_ = member->index;
    auto start = start_for_(*member);
    stream_ = Stream::Start(this, *connection_, std::move(member), start);
    ++streams_alive_;
    ++streams_opened_;
    OnStreamOpenedLocked();
  }

  // The open stream answered: the member is healthy.
  void MarkHealthyLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    backoff_.Reset();
  }

  // Ends the open stream because it stopped answering; the member is blamed.
  void AbandonStreamLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (stream_ != nullptr) stream_->Cancel();
  }

  // Called under mu_ right after a new stream starts: send what it needs.
  virtual void OnStreamOpenedLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) = 0;
  // Called under mu_ when the open stream is gone, before any reconnect.
  virtual void OnStreamLostLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {}

  void OnStreamClosing(Stream* stream) override ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(&mu_);
    if (stream_ == stream) {
      stream_ = nullptr;
      OnStreamLostLocked();
    }
  }

  void OnStreamDone(size_t member_index, const absl::Status& /*status*/)
      override ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(&mu_);
    --streams_alive_;
    if (stopping_) return;
    // Any end we did not ask for blames the member: it restarted, lost its
    // leader, or stopped answering. The next stream goes to another one.
    connection_->ReportFailure(member_index);
    reconnect_pending_ = true;
    scheduler_->RunAfter(backoff_.Next(), [this] {
      MutexLock relock(&mu_);
      reconnect_pending_ = false;
      EnsureStreamLocked();
    });
  }

  mutable Mutex mu_;
  Stream* stream_ ABSL_GUARDED_BY(mu_) = nullptr;
  size_t stream_member_ ABSL_GUARDED_BY(mu_) = 0;  // Where stream_ runs.
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  Connection* const connection_;
  Scheduler* const scheduler_;

 private:
  typename Stream::StartFn (*const start_for_)(const MemberStubs&);
  Backoff backoff_ ABSL_GUARDED_BY(mu_);
  bool reconnect_pending_ ABSL_GUARDED_BY(mu_) = false;
  int streams_alive_ ABSL_GUARDED_BY(mu_) = 0;
  int streams_opened_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace etcdisc::internal

#endif  // ETCDISC_ETCD_STREAM_SUPERVISOR_H_
