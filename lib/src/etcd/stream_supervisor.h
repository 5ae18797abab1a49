// Keeps one long-lived bidirectional stream open to the etcd cluster: starts
// it on the member in use, and when it ends, blames that member, waits a
// jittered backoff and opens a new one on the next member. A stream is opened
// only on a connected channel: when the member's channel is not ready, a
// dialer thread waits for it first, as unary calls do, because gRPC makes
// progress on a reconnect only while some thread waits on the channel. The
// watch and keep-alive streams are built on it.
#ifndef ETCDISC_ETCD_STREAM_SUPERVISOR_H_
#define ETCDISC_ETCD_STREAM_SUPERVISOR_H_

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <thread>
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
//
// The stream's life, one phase at a time:
//
//   kClosed --EnsureStreamLocked, channel ready-----------------> kOpen
//   kClosed --EnsureStreamLocked, channel not ready-------------> kDialing
//   kDialing --dialer: channel connected-------------------------> kOpen
//   kDialing --dialer: refused, not in time, or passed over as
//              failed while other members are untried (blamed)---> kWaiting
//   kOpen --no more responses (OnStreamClosing)-----------------> kClosing
//   kOpen --etcd refused its token (ReopenWithNewTokenLocked)---> kRenewing
//   kClosing --stream freed (OnStreamDone, member blamed unless
//              etcd refused the stream's token)-----------------> kWaiting
//   kRenewing --stream freed-------------------------------------> kClosed,
//                                                  then EnsureStreamLocked
//   kWaiting --backoff timer-------------------------------------> kClosed,
//                                                  then EnsureStreamLocked
//   any --Shutdown-----------------------------------------------> kStopped
//
// With an etcd user, a stream carries the client's token held when it opens;
// when none is held (first use, or refused since), the dialer gets one first.
template <typename Request, typename Response>
class StreamSupervisor : public BidiStreamOwner<Request, Response> {
 public:
  using Stream = BidiStream<Request, Response>;

  // Stops reconnecting, ends the open stream, waits until it is freed and
  // joins the dialer. Idempotent; a second caller returns only once the
  // first is done.
  void Shutdown() ABSL_LOCKS_EXCLUDED(mu_, shutdown_mu_) {
    MutexLock serial(&shutdown_mu_);
    std::thread dialer;
    {
      MutexLock lock(&mu_);
      phase_ = Phase::kStopped;
      if (stream_ != nullptr) stream_->Cancel();
      mu_.Await(absl::Condition(
          +[](StreamSupervisor* s) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return s->streams_alive_ == 0;
          },
          this));
      dialer = std::move(dialer_);
    }
    if (dialer.joinable()) dialer.join();
  }

  // How many streams this supervisor has opened so far (for tests and
  // metrics).
  int streams_opened() const ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(&mu_);
    return streams_opened_;
  }

  // Whether a stream is open now (false while reconnecting).
  bool stream_open() const ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(&mu_);
    return phase_ == Phase::kOpen;
  }

 protected:
  // `max_backoff` caps the wait between reconnects.
  StreamSupervisor(Connection* connection, Scheduler* scheduler,
                   StreamKind kind,
                   typename Stream::StartFn (*start_for)(const MemberStubs&),
                   std::chrono::milliseconds max_backoff)
      : connection_(connection),
        scheduler_(scheduler),
        kind_(kind),
        start_for_(start_for),
        backoff_(std::chrono::milliseconds(100), max_backoff) {}

  // Opens a stream unless one is open or on its way: at once when the
  // member's channel is connected, else through the dialer.
  void EnsureStreamLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (phase_ != Phase::kClosed) return;
    auto member = connection_->Current();
    std::optional<AuthToken> token;
    if (connection_->auth() != nullptr) token = connection_->auth()->Cached();
    if (member->channel->GetState(/*try_to_connect=*/false) ==
            GRPC_CHANNEL_READY &&
        (connection_->auth() == nullptr || token.has_value())) {
      OpenLocked(std::move(member), std::move(token));
      return;
    }
    phase_ = Phase::kDialing;
    if (!dialer_.joinable()) dialer_ = std::thread([this] { DialLoop(); });
  }

  bool StoppingLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return phase_ == Phase::kStopped;
  }

  // The open stream answered: the member is healthy.
  void MarkHealthyLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    backoff_.Reset();
  }

  // Ends the open stream because it stopped answering; the member is blamed.
  void AbandonStreamLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (stream_ != nullptr) stream_->Cancel();
  }

  // etcd refused the open stream's token: drops that token and opens a new
  // stream, with a new token, at once (the member is not blamed).
  void ReopenWithNewTokenLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (phase_ != Phase::kOpen || stream_ == nullptr) return;
    if (stream_token_.has_value()) {
      connection_->auth()->Invalidate(*stream_token_);
    }
    phase_ = Phase::kRenewing;
    stream_->Cancel();
  }

  // The generation of the open stream's token; 0 without one.
  uint64_t StreamTokenGenerationLocked() const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stream_token_.has_value() ? stream_token_->generation : 0;
  }

  // Called under mu_ right after a new stream starts: send what it needs.
  virtual void OnStreamOpenedLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) = 0;
  // Called under mu_ when the open stream is gone, before any reconnect.
  virtual void OnStreamLostLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {}

  void OnStreamClosing(Stream* stream) override ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(&mu_);
    if (stream_ != stream) return;
    stream_ = nullptr;
    if (phase_ == Phase::kOpen) phase_ = Phase::kClosing;
    OnStreamLostLocked();
  }

  // BidiStream calls OnStreamClosing before this, always: the phase is
  // kClosing here unless Shutdown came first.
  void OnStreamDone(uint64_t member_id, const absl::Status& status)
      override ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(&mu_);
    --streams_alive_;
    if (phase_ == Phase::kRenewing) {
      phase_ = Phase::kClosed;
      EnsureStreamLocked();
      return;
    }
    if (phase_ != Phase::kClosing) return;  // Stopped meanwhile.
    if (stream_token_.has_value() && IsStaleToken(status)) {
      // Not the member's fault: the next stream carries a new token.
      connection_->auth()->Invalidate(*stream_token_);
      RetryLaterLocked(/*blamed_member=*/0);
      return;
    }
    // Any other end we did not ask for blames the member: it restarted, lost
    // its leader, or stopped answering. The next stream goes to another one.
    RetryLaterLocked(member_id);
  }

  mutable Mutex mu_;
  // Set in kOpen, and in kStopped until the stream closes.
  Stream* stream_ ABSL_GUARDED_BY(mu_) = nullptr;
  uint64_t stream_member_ ABSL_GUARDED_BY(mu_) = 0;  // Where stream_ runs.
  // The token stream_ carries, if any.
  std::optional<AuthToken> stream_token_ ABSL_GUARDED_BY(mu_);
  Connection* const connection_;
  Scheduler* const scheduler_;

 private:
  const StreamKind kind_;
  enum class Phase {
    kClosed,
    kDialing,
    kOpen,
    kClosing,
    kRenewing,
    kWaiting,
    kStopped
  };

  // How long the dialer waits on a channel before it checks for Shutdown.
  static constexpr std::chrono::milliseconds kDialSlice{100};

  void OpenLocked(std::shared_ptr<const MemberStubs> member,
                  std::optional<AuthToken> token)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    phase_ = Phase::kOpen;
    failed_dials_ = 0;
    stream_member_ = member->id;
    stream_token_ = std::move(token);
    connection_->metrics().CountStreamOpen(kind_, member->endpoint);
    auto start = start_for_(*member);
    stream_ = Stream::Start(this, *connection_, std::move(member), start,
                            stream_token_ ? &*stream_token_ : nullptr);
    ++streams_alive_;
    ++streams_opened_;
    OnStreamOpenedLocked();
  }

  // Blames the member `blamed_member` (none: 0) and comes back after a
  // backoff.
  void RetryLaterLocked(uint64_t blamed_member)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (blamed_member != 0) connection_->ReportFailure(blamed_member);
    phase_ = Phase::kWaiting;
    scheduler_->RunAfter(backoff_.Next(), [this] {
      MutexLock relock(&mu_);
      if (phase_ != Phase::kWaiting) return;
      phase_ = Phase::kClosed;
      EnsureStreamLocked();
    });
  }

  // The dialer thread: waits for the member in use to connect whenever a
  // stream is wanted on a channel that was not ready, until Shutdown.
  void DialLoop() ABSL_LOCKS_EXCLUDED(mu_) {
    mu_.Lock();
    while (true) {
      mu_.Await(absl::Condition(
          +[](StreamSupervisor* s) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return s->phase_ == Phase::kDialing ||
                   s->phase_ == Phase::kStopped;
          },
          this));
      if (phase_ == Phase::kStopped) break;
      auto member = connection_->Current();
      // Until every member has failed once in a row, a member whose channel
      // has already failed is passed over at once for the next one.
      const bool first_try_this_round =
          failed_dials_ + 1 < connection_->size();
      mu_.Unlock();
      const bool connected = Dial(*member, first_try_this_round);
      absl::StatusOr<std::optional<AuthToken>> token = std::nullopt;
      if (connected) token = TokenForStream();
      mu_.Lock();
      if (phase_ != Phase::kDialing) break;  // Stopped meanwhile.
      if (connected && token.ok()) {
        OpenLocked(std::move(member), *std::move(token));
      } else if (connected) {
        RetryLaterLocked(/*blamed_member=*/0);  // etcd refused the user.
      } else {
        ++failed_dials_;
        RetryLaterLocked(member->id);
      }
    }
    mu_.Unlock();
  }

  // The token a new stream carries: none without an etcd user, else the one
  // held or a new one. Within the dial timeout, which so bounds how long a
  // Shutdown meanwhile waits for the dialer.
  absl::StatusOr<std::optional<AuthToken>> TokenForStream()
      ABSL_LOCKS_EXCLUDED(mu_) {
    AuthTokens* auth = connection_->auth();
    if (auth == nullptr) return std::nullopt;
    absl::StatusOr<AuthToken> token = auth->Get(
        std::chrono::steady_clock::now() + connection_->dial_timeout());
    if (!token.ok()) return token.status();
    return std::optional<AuthToken>(*std::move(token));
  }

  // Waits for `member` to connect, at most the connection's dial timeout:
  // true once connected. Gives up at once when an attempt is refused, or when
  // `pass_over_failed` and the channel has already failed; soon after
  // Shutdown.
  bool Dial(const MemberStubs& member, bool pass_over_failed)
      ABSL_LOCKS_EXCLUDED(mu_) {
    using Clock = std::chrono::steady_clock;
    using Dialed = Connection::Dialed;
    if (pass_over_failed && member.channel->GetState(/*try_to_connect=*/true) ==
                                GRPC_CHANNEL_TRANSIENT_FAILURE) {
      return false;
    }
    const auto deadline = Clock::now() + connection_->dial_timeout();
    while (true) {
      const auto slice_end = std::min(deadline, Clock::now() + kDialSlice);
      switch (connection_->WaitConnected(member, slice_end)) {
        case Dialed::kReady:
          return true;
        case Dialed::kRefused:
          return false;
        case Dialed::kTimedOut:
          break;
      }
      if (Clock::now() >= deadline) return false;
      MutexLock lock(&mu_);
      if (phase_ == Phase::kStopped) return false;
    }
  }

  typename Stream::StartFn (*const start_for_)(const MemberStubs&);
  Phase phase_ ABSL_GUARDED_BY(mu_) = Phase::kClosed;
  Backoff backoff_ ABSL_GUARDED_BY(mu_);
  std::thread dialer_ ABSL_GUARDED_BY(mu_);
  // Dials that failed since a stream last opened.
  size_t failed_dials_ ABSL_GUARDED_BY(mu_) = 0;
  // Held through a whole Shutdown, join included.
  Mutex shutdown_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  int streams_alive_ ABSL_GUARDED_BY(mu_) = 0;
  int streams_opened_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace etcdisc::internal

#endif  // ETCDISC_ETCD_STREAM_SUPERVISOR_H_
