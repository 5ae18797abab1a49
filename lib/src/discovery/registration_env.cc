#include "discovery/registration_env.h"

#include <utility>

#include "discovery/client_core.h"

namespace etcdisc::internal {
namespace {

class CoreEnv final : public RegistrationEnv {
 public:
  explicit CoreEnv(std::shared_ptr<ClientCore> core) : core_(std::move(core)) {}

  const KeyLayout& keys() const override { return core_->keys(); }
  std::chrono::milliseconds call_timeout() const override {
    return core_->options().call_timeout;
  }
  bool shut_down() const override { return core_->shut_down(); }

  absl::StatusOr<LeaseGrant> TakeLease(std::chrono::milliseconds ttl) override {
    return core_->leases().Take(ttl);
  }
  void RefillLeases(std::chrono::milliseconds ttl) override {
    core_->leases().RefillLater(ttl);
  }
  void KeepLease(int64_t lease, int64_t ttl_seconds,
                 LeaseLostHandler on_lost) override {
    core_->etcd().keeper().Keep(lease, ttl_seconds, std::move(on_lost));
  }
  void ForgetLease(int64_t lease) override {
    core_->etcd().keeper().Forget(lease);
  }
  absl::Status RevokeLease(int64_t lease,
                           std::chrono::milliseconds timeout) override {
    return core_->etcd().lease().Revoke(lease, timeout);
  }

  absl::StatusOr<int64_t> JoinSharedLease(const std::string& service,
                                          std::chrono::milliseconds ttl,
                                          uint64_t holder,
                                          SharedLeaseLost on_lost) override {
    return core_->shared_leases().Join(service, ttl, holder,
                                       std::move(on_lost), call_timeout());
  }
  void LeaveSharedLease(int64_t lease, uint64_t holder,
                        std::chrono::milliseconds timeout) override {
    core_->shared_leases().Leave(lease, holder, timeout);
  }
  void SharedLeaseGone(int64_t lease, const absl::Status& why) override {
    core_->shared_leases().Gone(lease, why);
  }

  absl::StatusOr<TxnResponse> Txn(const TxnRequest& txn) override {
    return core_->etcd().kv().Txn(txn);
  }
  absl::StatusOr<TxnResponse> Txn(const TxnRequest& txn,
                                  std::chrono::milliseconds timeout) override {
    return core_->etcd().kv().Txn(txn, timeout);
  }
  absl::StatusOr<PutResponse> Put(const PutRequest& put) override {
    return core_->etcd().kv().Put(put);
  }
  absl::StatusOr<RangeResponse> Range(const RangeRequest& read) override {
    return core_->etcd().kv().Range(read);
  }
  WatchId Watch(WatchOptions options, WatchHandler handler) override {
    return core_->etcd().watch().Watch(std::move(options), std::move(handler));
  }
  void CancelWatch(WatchId id) override { core_->etcd().watch().Cancel(id); }
  int64_t JoinServiceRecord(const std::string& key, int64_t from,
                            std::optional<KeyValue> known,
                            RecordListener listener) override {
    return core_->service_records().Join(key, from, std::move(known),
                                         std::move(listener));
  }
  void LeaveServiceRecord(const std::string& key, int64_t ticket) override {
    core_->service_records().Leave(key, ticket);
  }

  bool Post(std::function<void()> work) override {
    return core_->registration_pool().Post(std::move(work));
  }
  void RunAfter(std::chrono::steady_clock::duration delay,
                std::function<void()> task) override {
    core_->RunAfter(delay, std::move(task));
  }
  void PostCallback(std::function<void()> callback) override {
    core_->callbacks().Post(std::move(callback));
  }
  void FlushCallbacks() override { core_->callbacks().Flush(); }

 private:
  const std::shared_ptr<ClientCore> core_;
};

}  // namespace

std::shared_ptr<RegistrationEnv> ClientRegistrationEnv(
    std::shared_ptr<ClientCore> core) {
  return std::make_shared<CoreEnv>(std::move(core));
}

}  // namespace etcdisc::internal
