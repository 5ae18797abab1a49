// A scripted RegistrationEnv for unit tests: an in-memory key-value store
// with leases, revisions and watches, whose calls can be made to fail or to
// run a test's action while they are in flight; background work, timers and
// callbacks wait in queues until the test runs them. Single-threaded: the
// test's thread does everything, so every interleaving is chosen by the test.
#ifndef ETCDISC_TEST_DISCOVERY_FAKE_REGISTRATION_ENV_H_
#define ETCDISC_TEST_DISCOVERY_FAKE_REGISTRATION_ENV_H_

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "discovery/registration_env.h"

namespace etcdisc::testing {

class FakeRegistrationEnv final : public internal::RegistrationEnv {
 public:
  using KeyValue = internal::KeyValue;
  using WatchEvent = internal::WatchEvent;
  using WatchUpdate = internal::WatchUpdate;

  // ---- Scripting ----------------------------------------------------------

  // The next call named `call` ("Txn", "Put", "Range", "TakeLease",
  // "RevokeLease") fails with `status`, changing nothing.
  void FailNext(const std::string& call, absl::Status status) {
    failures_[call].push_back(std::move(status));
  }
  // Once: `action` runs after the next `call` is applied in the store and
  // before its caller sees the answer (a change landing while it is in
  // flight).
  void During(const std::string& call, std::function<void()> action) {
    during_[call].push_back(std::move(action));
  }
  int calls(const std::string& call) const {
    auto it = calls_.find(call);
    return it == calls_.end() ? 0 : it->second;
  }

  // ---- Running what waits ---------------------------------------------------

  // Runs queued work, watch deliveries and callbacks until none is left;
  // with `timers`, also the timers due by then (retries after a backoff),
  // round after round, at most `rounds` times. Returns false if work was
  // still left (a registration retrying for ever).
  bool RunUntilIdle(bool timers = true, int rounds = 50) {
    for (int round = 0; round < rounds; ++round) {
      RunQueued();
      if (!timers || timers_.empty()) return true;
      auto due = std::move(timers_);
      timers_.clear();
      for (auto& task : due) task();
    }
    RunQueued();
    return timers_.empty();
  }
  size_t pending_timers() const { return timers_.size(); }

  // ---- The store, as a test sees and changes it ---------------------------

  const KeyValue* Find(const std::string& key) const {
    auto it = store_.find(key);
    return it == store_.end() ? nullptr : &it->second;
  }
  bool LeaseAlive(int64_t lease) const { return leases_.count(lease) > 0; }
  // etcd lets the lease expire: its keys go, its keeper hears of it.
  void ExpireLease(int64_t lease) {
    DropLease(lease);
    auto kept = kept_.find(lease);
    if (kept == kept_.end()) return;
    auto on_lost = std::move(kept->second);
    kept_.erase(kept);
    on_lost(absl::NotFoundError(absl::StrCat("lease ", lease, " expired")));
  }
  // The lease expires, but its keeper hears of it only when the returned
  // report is called (as a keep-alive answer may come late).
  std::function<void()> ExpireLeaseReportLater(int64_t lease) {
    DropLease(lease);
    auto kept = kept_.find(lease);
    if (kept == kept_.end()) return [] {};
    auto on_lost = std::move(kept->second);
    kept_.erase(kept);
    return [on_lost, lease] {
      on_lost(absl::NotFoundError(absl::StrCat("lease ", lease, " expired")));
    };
  }
  // Another client deletes or writes a key.
  void DeleteKey(const std::string& key) { Delete(key); }
  void PutKey(const std::string& key, const std::string& value) {
    Write(key, value, /*lease=*/0);
  }
  // Every watch ends (e.g. compacted past): `status` must not be OK.
  void EndWatches(absl::Status status) {
    for (auto& [id, watch] : watches_) {
      WatchUpdate update;
      update.revision = revision_;
      update.status = status;
      Deliver(watch.handler, std::move(update));
    }
    watches_.clear();
  }
  size_t watches() const { return watches_.size(); }

  // ---- RegistrationEnv ----------------------------------------------------

  const internal::KeyLayout& keys() const override { return keys_; }
  std::chrono::milliseconds call_timeout() const override {
    return std::chrono::seconds(1);
  }
  bool shut_down() const override { return false; }

  absl::StatusOr<internal::LeaseGrant> TakeLease(
      std::chrono::milliseconds ttl) override {
    if (auto failed = Failure("TakeLease")) return *failed;
    const int64_t id = next_lease_++;
    leases_.insert(id);
    After("TakeLease");
    return internal::LeaseGrant{
        id, std::chrono::duration_cast<std::chrono::seconds>(ttl).count()};
  }
  void RefillLeases(std::chrono::milliseconds) override {}
  void KeepLease(int64_t lease, int64_t,
                 internal::LeaseLostHandler on_lost) override {
    kept_[lease] = std::move(on_lost);
  }
  void ForgetLease(int64_t lease) override { kept_.erase(lease); }
  // Shared leases are exercised against etcd (share_lease_test.cc).
  absl::StatusOr<int64_t> JoinSharedLease(const std::string&,
                                          std::chrono::milliseconds, uint64_t,
                                          internal::SharedLeaseLost) override {
    return absl::UnimplementedError("no shared leases in the scripted env");
  }
  void LeaveSharedLease(int64_t, uint64_t, std::chrono::milliseconds) override {}
  void SharedLeaseGone(int64_t, const absl::Status&) override {}
  absl::Status RevokeLease(int64_t lease, std::chrono::milliseconds) override {
    if (auto failed = Failure("RevokeLease")) return *failed;
    if (!LeaseAlive(lease)) return absl::NotFoundError("lease not found");
    DropLease(lease);
    After("RevokeLease");
    return absl::OkStatus();
  }

  absl::StatusOr<internal::TxnResponse> Txn(
      const internal::TxnRequest& txn, std::chrono::milliseconds) override {
    return Txn(txn);
  }
  absl::StatusOr<internal::TxnResponse> Txn(
      const internal::TxnRequest& txn) override {
    if (auto failed = Failure("Txn")) return *failed;
    internal::TxnResponse response;
    response.succeeded = Holds(txn.compares);
    const auto& ops = response.succeeded ? txn.success : txn.failure;
    for (const auto& op : ops) {
      if (op.kind != internal::TxnOp::Kind::kPut) continue;
      if (op.put.lease != 0 && !LeaseAlive(op.put.lease)) {
        return absl::NotFoundError("etcdserver: requested lease not found");
      }
    }
    for (const auto& op : ops) {
      if (op.kind == internal::TxnOp::Kind::kPut) {
        Write(op.put.key, op.put.value, op.put.lease);
      }
    }
    response.revision = revision_;
    After("Txn");
    return response;
  }
  absl::StatusOr<internal::PutResponse> Put(
      const internal::PutRequest& put) override {
    if (auto failed = Failure("Put")) return *failed;
    if (put.lease != 0 && !LeaseAlive(put.lease)) {
      return absl::NotFoundError("etcdserver: requested lease not found");
    }
    Write(put.key, put.value, put.lease);
    internal::PutResponse response;
    response.revision = revision_;
    After("Put");
    return response;
  }
  absl::StatusOr<internal::RangeResponse> Range(
      const internal::RangeRequest& read) override {
    if (auto failed = Failure("Range")) return *failed;
    internal::RangeResponse response;
    response.revision = revision_;
    if (const KeyValue* kv = Find(read.key)) response.kvs.push_back(*kv);
    After("Range");
    return response;
  }
  internal::WatchId Watch(internal::WatchOptions options,
                          internal::WatchHandler handler) override {
    const internal::WatchId id = next_watch_++;
    // What happened since the start revision comes first.
    WatchUpdate past;
    for (const WatchEvent& e : history_) {
      if (e.kv.key == options.key &&
          e.kv.mod_revision >= options.start_revision) {
        past.events.push_back(e);
      }
    }
    if (!past.events.empty()) {
      past.revision = revision_;
      Deliver(handler, std::move(past));
    }
    watches_[id] = {std::move(options), std::move(handler)};
    return id;
  }
  void CancelWatch(internal::WatchId id) override { watches_.erase(id); }
  // The real sharing over this env's watches.
  int64_t JoinServiceRecord(const std::string& key, int64_t from,
                            std::optional<KeyValue> known,
                            internal::RecordListener listener) override {
    return records_.Join(key, from, std::move(known), std::move(listener));
  }
  void LeaveServiceRecord(const std::string& key, int64_t ticket) override {
    records_.Leave(key, ticket);
  }

  bool Post(std::function<void()> work) override {
    work_.push_back(std::move(work));
    return true;
  }
  void RunAfter(std::chrono::steady_clock::duration,
                std::function<void()> task) override {
    timers_.push_back(std::move(task));
  }
  void PostCallback(std::function<void()> callback) override {
    callbacks_.push_back(std::move(callback));
  }
  void FlushCallbacks() override {
    while (!callbacks_.empty()) {
      auto callback = std::move(callbacks_.front());
      callbacks_.pop_front();
      callback();
    }
  }

 private:
  struct Watched {
    internal::WatchOptions options;
    internal::WatchHandler handler;
  };

  std::optional<absl::Status> Failure(const std::string& call) {
    ++calls_[call];
    auto it = failures_.find(call);
    if (it == failures_.end() || it->second.empty()) return std::nullopt;
    absl::Status status = std::move(it->second.front());
    it->second.pop_front();
    return status;
  }
  void After(const std::string& call) {
    auto it = during_.find(call);
    if (it == during_.end() || it->second.empty()) return;
    auto action = std::move(it->second.front());
    it->second.pop_front();
    action();
  }
  bool Holds(const std::vector<internal::Compare>& compares) const {
    for (const auto& c : compares) {
      const KeyValue* kv = Find(c.key);
      if (c.target == internal::Compare::Target::kValue) {
        if (kv == nullptr || kv->value != c.value) return false;
      } else if (c.target == internal::Compare::Target::kCreateRevision) {
        // Missing(): create revision 0.
        if ((kv == nullptr ? 0 : kv->create_revision) != c.number) return false;
      }
    }
    return true;
  }
  void Write(const std::string& key, const std::string& value, int64_t lease) {
    KeyValue& kv = store_[key];
    ++revision_;
    if (kv.key.empty()) {
      kv.key = key;
      kv.create_revision = revision_;
    }
    kv.value = value;
    kv.lease = lease;
    kv.mod_revision = revision_;
    ++kv.version;
    Notify(WatchEvent{WatchEvent::Type::kPut, kv, std::nullopt});
  }
  void Delete(const std::string& key) {
    auto it = store_.find(key);
    if (it == store_.end()) return;
    store_.erase(it);
    ++revision_;
    KeyValue gone;
    gone.key = key;
    gone.mod_revision = revision_;
    Notify(WatchEvent{WatchEvent::Type::kDelete, gone, std::nullopt});
  }
  void DropLease(int64_t lease) {
    leases_.erase(lease);
    std::vector<std::string> keys;
    for (const auto& [key, kv] : store_) {
      if (kv.lease == lease) keys.push_back(key);
    }
    for (const auto& key : keys) Delete(key);
  }
  void Notify(const WatchEvent& event) {
    history_.push_back(event);
    for (auto& [id, watch] : watches_) {
      if (watch.options.key != event.kv.key) continue;
      WatchUpdate update;
      update.revision = revision_;
      update.events.push_back(event);
      Deliver(watch.handler, std::move(update));
    }
  }
  // Watch updates arrive later, on another thread in real life.
  void Deliver(internal::WatchHandler handler, WatchUpdate update) {
    deliveries_.push_back(
        [handler, update]() mutable { handler(std::move(update)); });
  }
  void RunQueued() {
    while (!work_.empty() || !deliveries_.empty() || !callbacks_.empty()) {
      if (!deliveries_.empty()) {
        auto next = std::move(deliveries_.front());
        deliveries_.pop_front();
        next();
      } else if (!work_.empty()) {
        auto next = std::move(work_.front());
        work_.pop_front();
        next();
      } else {
        FlushCallbacks();
      }
    }
  }

  const internal::KeyLayout keys_{""};
  std::map<std::string, KeyValue> store_;
  std::vector<WatchEvent> history_;
  int64_t revision_ = 1;
  std::set<int64_t> leases_;
  int64_t next_lease_ = 100;
  std::map<int64_t, internal::LeaseLostHandler> kept_;
  std::map<internal::WatchId, Watched> watches_;
  internal::WatchId next_watch_ = 1;
  std::map<std::string, std::deque<absl::Status>> failures_;
  std::map<std::string, std::deque<std::function<void()>>> during_;
  std::map<std::string, int> calls_;
  std::deque<std::function<void()>> work_, deliveries_, callbacks_;
  std::vector<std::function<void()>> timers_;
  internal::ServiceRecordWatches records_{
      [this](internal::WatchOptions options, internal::WatchHandler handler) {
        return Watch(std::move(options), std::move(handler));
      },
      [this](internal::WatchId id) { CancelWatch(id); }};
};

}  // namespace etcdisc::testing

#endif  // ETCDISC_TEST_DISCOVERY_FAKE_REGISTRATION_ENV_H_
