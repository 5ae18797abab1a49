// What a Client is doing, for operators: Client::Metrics() takes a snapshot,
// PrometheusText() renders it in Prometheus' text exposition format (0.0.4).
//
// Every metric, as named in the Prometheus text (all prefixed etcdisc_):
//
//   Registrations (one series per live registration, labels service, uuid)
//   registration_state{state}        1 for the state it is in: unregistered
//                                    (writing, or retrying), registered, refused
//                                    (etcd refused the user: no retry), stopped
//   registration_failed_attempts_total  background steps that failed (writes,
//                                    watch starts, put-backs)
//   registration_lease_losses_total  leases lost (expired, revoked, wiped)
//   Subscriptions (labels service, kind = new|down|events for queues,
//   view|callback for live views and event callbacks, members for cluster
//   views, whose service label is the cluster; subscriptions alike are one
//   series)
//   subscriptions                    subscriptions open
//   subscription_queue_depth         events waiting to be popped, summed
//   subscription_hosts               hosts they know are live
//   Client-wide counters
//   resyncs_total                    full re-reads of a service (compaction,
//                                    store went back, a difference found)
//   corrections_total                re-reads that changed what was known
//   watchers                         watches on the watch stream now
//   leases_kept                      leases the keep-alive stream refreshes
//   stream_open{stream}              1 while the watch / keepalive stream is open
//   etcd layer (label member = endpoint URL where it applies)
//   etcd_call_duration_seconds{method}   histogram of unary calls, retries
//                                    included (Range, Txn, Put, LeaseGrant...)
//   etcd_call_errors_total{method}   calls that ended with an error (NotFound,
//                                    the answer for a lease already gone, is
//                                    not one)
//   etcd_member_failures_total{member}   failures that blamed the member in
//                                    use: the next member takes over (with
//                                    one member, it is tried again)
//   etcd_stream_opens_total{stream,member}  streams opened on each member
//                                    (1 + reconnects)
//   keepalive_rtt_seconds            histogram: a lease refresh sent -> its
//                                    answer (the oldest unanswered one)
//   watch_lag_revisions              histogram: per watch response with
//                                    events, the store's revision minus the
//                                    last event's: writes etcd had applied
//                                    (to any key) beyond what the stream had
//                                    delivered; growing values mean the
//                                    stream falls behind
//   watch_delivery_seconds           histogram: a watch response received ->
//                                    handed to every watcher it concerns
#ifndef ETCDISC_METRICS_H_
#define ETCDISC_METRICS_H_

#include <cstdint>
#include <string>
#include <vector>

namespace etcdisc {

// A histogram as Prometheus has it: counts[i] values <= bounds[i] (not
// cumulative here), counts.back() those above the last bound.
struct HistogramSnapshot {
  std::vector<double> bounds;
  std::vector<uint64_t> counts;  // bounds.size() + 1 entries.
  uint64_t count = 0;
  double sum = 0;
};

struct RegistrationMetrics {
  std::string service;
  std::string uuid;
  std::string state;  // "unregistered", "registered", "refused", "stopped".
  std::string last_error;  // Empty when the last attempt succeeded.
  int64_t failed_attempts = 0;
  int64_t lease_losses = 0;
};

struct SubscriptionMetrics {
  std::string service;
  std::string kind;  // "new", "down", "events", "view", "callback", "members".
  size_t queue_depth = 0;
  size_t hosts = 0;
};

struct CallMetrics {
  std::string method;  // Range, Put, DeleteRange, Txn, LeaseGrant, ...
  HistogramSnapshot duration_seconds;
  int64_t errors = 0;
};

struct MemberMetrics {
  std::string endpoint;
  int64_t failures = 0;
  int64_t watch_stream_opens = 0;
  int64_t keepalive_stream_opens = 0;
};

struct ClientMetrics {
  std::vector<RegistrationMetrics> registrations;
  std::vector<SubscriptionMetrics> subscriptions;
  int64_t resyncs = 0;
  int64_t corrections = 0;
  size_t watchers = 0;
  size_t leases_kept = 0;
  bool watch_stream_open = false;
  bool keepalive_stream_open = false;
  std::vector<CallMetrics> calls;  // Methods called at least once.
  std::vector<MemberMetrics> members;
  HistogramSnapshot keepalive_rtt_seconds;
  HistogramSnapshot watch_lag_revisions;
  HistogramSnapshot watch_delivery_seconds;
};

// The metrics in Prometheus' text format, each family with # HELP and # TYPE
// (a family with no sample is left out).
std::string PrometheusText(const ClientMetrics& metrics);

}  // namespace etcdisc

#endif  // ETCDISC_METRICS_H_
