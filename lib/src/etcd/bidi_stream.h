// One bidirectional gRPC stream driven by the callback API, shared by the
// watch and keep-alive streams. It owns its ClientContext and buffers, keeps
// one write in flight with the rest queued, and frees itself after OnDone.
#ifndef ETCDISC_ETCD_BIDI_STREAM_H_
#define ETCDISC_ETCD_BIDI_STREAM_H_

#include <deque>
#include <functional>
#include <memory>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "util/mutex.h"
#include "etcd/connection.h"
#include "etcd/grpc_status.h"
#include "grpcpp/grpcpp.h"

namespace etcdisc::internal {

// The owner of a BidiStream: it learns of responses and of the stream's end.
// Calls come on gRPC's callback threads, one at a time per stream, in this
// order: OnStreamResponse (any number), OnStreamClosing once, OnStreamDone
// once, after the stream is freed. None of them may block.
template <typename Request, typename Response>
class BidiStreamOwner;

// Lifetime rule: the owner may call Send() and Cancel() only until its
// OnStreamClosing() has returned (it holds a hold on the RPC till then, so the
// stream cannot end under a call). The owner must outlive OnStreamDone().
template <typename Request, typename Response>
class BidiStream : public grpc::ClientBidiReactor<Request, Response> {
 public:
  using Owner = BidiStreamOwner<Request, Response>;
  // Begins the RPC on a member's stub: `start(context, reactor)` calls e.g.
  // `stub->async()->Watch(context, reactor)`; Start() then starts the call.
  using StartFn = std::function<void(grpc::ClientContext*,
                                     grpc::ClientBidiReactor<Request, Response>*)>;

  // `token` (may be null): the etcd auth token the stream carries.
  static BidiStream* Start(Owner* owner, const Connection& connection,
                           std::shared_ptr<const MemberStubs> member,
                           const StartFn& start, const AuthToken* token) {
    auto* stream = new BidiStream(owner, std::move(member));
    connection.PrepareStream(&stream->context_, token);
    start(&stream->context_, stream);
    stream->AddHold();  // Released in OnReadDone(false): see the class rule.
    stream->StartRead(&stream->response_);
    stream->StartCall();
    return stream;
  }

  // Queues a request; writes go out one at a time in order.
  void Send(Request request) {
    MutexLock lock(&mu_);
    queue_.push_back(std::move(request));
    if (!writing_) {
      writing_ = true;
      this->StartWrite(&queue_.front());
    }
  }

  // Ends the stream; its owner hears of it through the usual calls.
  void Cancel() { context_.TryCancel(); }

  void OnReadDone(bool ok) override {
    if (ok) {
      owner_->OnStreamResponse(this, response_);
      this->StartRead(&response_);
      return;
    }
    owner_->OnStreamClosing(this);
    this->RemoveHold();
  }

  void OnWriteDone(bool ok) override {
    MutexLock lock(&mu_);
    queue_.pop_front();
    if (ok && !queue_.empty()) {
      this->StartWrite(&queue_.front());
    } else {
      // On failure the read fails too and the stream ends; drop the rest.
      if (!ok) queue_.clear();
      writing_ = false;
    }
  }

  void OnDone(const grpc::Status& status) override {
    // Free everything first, so that once the owner hears of the end it may
    // tear down the channel: nothing of this stream remains to touch it.
    Owner* const owner = owner_;
    const uint64_t member_id = member_->id;
    const absl::Status end = FromGrpcStatus(status, "stream", member_->endpoint);
    delete this;
    owner->OnStreamDone(member_id, end);
  }

 private:
  BidiStream(Owner* owner, std::shared_ptr<const MemberStubs> member)
      : owner_(owner), member_(std::move(member)) {}

  Owner* const owner_;
  const std::shared_ptr<const MemberStubs> member_;
  grpc::ClientContext context_;
  Response response_;
  Mutex mu_;
  // std::deque keeps the front element in place while others are added.
  std::deque<Request> queue_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
};

template <typename Request, typename Response>
class BidiStreamOwner {
 public:
  using Stream = BidiStream<Request, Response>;
  virtual ~BidiStreamOwner() = default;
  virtual void OnStreamResponse(Stream* stream, const Response& response) = 0;
  // No more responses will come; after this returns the owner must not touch
  // the stream.
  virtual void OnStreamClosing(Stream* stream) = 0;
  // A stream on the member `member_id` has ended with `status` and has
  // been freed.
  virtual void OnStreamDone(uint64_t member_id,
                            const absl::Status& status) = 0;
};

}  // namespace etcdisc::internal

#endif  // ETCDISC_ETCD_BIDI_STREAM_H_
