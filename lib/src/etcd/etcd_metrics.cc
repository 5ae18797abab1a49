#include "etcd/etcd_metrics.h"

namespace etcdisc::internal {
namespace {

int64_t Micros(std::chrono::steady_clock::duration d) {
  return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
}

}  // namespace

EtcdMetrics::Call& EtcdMetrics::CallOf(absl::string_view method) {
  MutexLock lock(&mu_);
  auto it = calls_.find(method);
  if (it == calls_.end()) {
    it = calls_.emplace(std::string(method), std::make_unique<Call>()).first;
  }
  return *it->second;
}

void EtcdMetrics::RecordCall(absl::string_view method,
                             std::chrono::steady_clock::duration took,
                             bool ok) {
  Call& call = CallOf(method);
  call.duration.Record(Micros(took));
  if (!ok) call.errors.fetch_add(1, std::memory_order_relaxed);
}

void EtcdMetrics::CountMemberFailure(const std::string& endpoint) {
  MutexLock lock(&mu_);
  ++members_[endpoint].failures;
}

void EtcdMetrics::CountStreamOpen(StreamKind kind, const std::string& endpoint) {
  MutexLock lock(&mu_);
  MemberMetrics& m = members_[endpoint];
  ++(kind == StreamKind::kWatch ? m.watch_stream_opens
                                : m.keepalive_stream_opens);
}

void EtcdMetrics::RecordKeepAliveRoundTrip(
    std::chrono::steady_clock::duration took) {
  keepalive_rtt_.Record(Micros(took));
}

void EtcdMetrics::RecordWatchLag(int64_t revisions) {
  watch_lag_.Record(revisions);
}

void EtcdMetrics::RecordWatchDelivery(
    std::chrono::steady_clock::duration took) {
  watch_delivery_.Record(Micros(took));
}

void EtcdMetrics::Snapshot(ClientMetrics* out) const {
  {
    MutexLock lock(&mu_);
    for (const auto& [method, call] : calls_) {
      out->calls.push_back(CallMetrics{method, call->duration.Snapshot(1'000'000),
                                       call->errors.load()});
    }
    for (const auto& [endpoint, m] : members_) {
      out->members.push_back(m);
      out->members.back().endpoint = endpoint;
    }
  }
  out->keepalive_rtt_seconds = keepalive_rtt_.Snapshot(1'000'000);
  out->watch_lag_revisions = watch_lag_.Snapshot();
  out->watch_delivery_seconds = watch_delivery_.Snapshot(1'000'000);
}

}  // namespace etcdisc::internal
