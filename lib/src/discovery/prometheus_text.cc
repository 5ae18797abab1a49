// PrometheusText(): ClientMetrics in Prometheus' text exposition format 0.0.4.
#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "etcdisc/metrics.h"
#include "util/prometheus_writer.h"

namespace etcdisc {
namespace {

using internal::Labels;
using Writer = internal::PrometheusWriter;

void WriteRegistrations(const ClientMetrics& m, Writer* w) {
  w->Family("registration_state", "gauge",
            "1 for the state each registration is in.");
  for (const auto& r : m.registrations) {
    for (const char* state : {"unregistered", "registered", "refused", "stopped"}) {
      w->Sample("registration_state",
                {{"service", r.service}, {"uuid", r.uuid}, {"state", state}},
                r.state == state ? 1 : 0);
    }
  }
  w->Family("registration_failed_attempts_total", "counter",
            "Attempts to write a registration that failed.");
  for (const auto& r : m.registrations) {
    w->Sample("registration_failed_attempts_total",
              {{"service", r.service}, {"uuid", r.uuid}}, r.failed_attempts);
  }
  w->Family("registration_lease_losses_total", "counter",
            "Leases of a registration that etcd lost (expired, revoked).");
  for (const auto& r : m.registrations) {
    w->Sample("registration_lease_losses_total",
              {{"service", r.service}, {"uuid", r.uuid}}, r.lease_losses);
  }
}

// Subscriptions to one service of one kind make one series each: a client
// may hold several alike.
struct SubscriptionTotals {
  size_t count = 0;
  size_t queue_depth = 0;  // Summed.
  size_t hosts = 0;        // The most any of them knows.
};

void WriteSubscriptions(const ClientMetrics& m, Writer* w) {
  std::map<std::pair<std::string, std::string>, SubscriptionTotals> totals;
  for (const auto& s : m.subscriptions) {
    SubscriptionTotals& t = totals[{s.service, s.kind}];
    ++t.count;
    t.queue_depth += s.queue_depth;
    t.hosts = std::max(t.hosts, s.hosts);
  }
  w->Family("subscriptions", "gauge", "Subscriptions open.");
  for (const auto& [key, t] : totals) {
    w->Sample("subscriptions", {{"service", key.first}, {"kind", key.second}},
              static_cast<double>(t.count));
  }
  w->Family("subscription_queue_depth", "gauge",
            "Events waiting to be popped, over the subscriptions alike.");
  for (const auto& [key, t] : totals) {
    w->Sample("subscription_queue_depth",
              {{"service", key.first}, {"kind", key.second}},
              static_cast<double>(t.queue_depth));
  }
  w->Family("subscription_hosts", "gauge",
            "Hosts the subscriptions know to be live.");
  for (const auto& [key, t] : totals) {
    w->Sample("subscription_hosts",
              {{"service", key.first}, {"kind", key.second}},
              static_cast<double>(t.hosts));
  }
}

void WriteClient(const ClientMetrics& m, Writer* w) {
  w->Family("resyncs_total", "counter", "Full re-reads of a service.");
  w->Sample("resyncs_total", {}, m.resyncs);
  w->Family("corrections_total", "counter",
            "Re-reads that changed what a subscription knew.");
  w->Sample("corrections_total", {}, m.corrections);
  w->Family("watchers", "gauge", "Watches on the watch stream.");
  w->Sample("watchers", {}, static_cast<double>(m.watchers));
  w->Family("leases_kept", "gauge", "Leases the keep-alive stream refreshes.");
  w->Sample("leases_kept", {}, static_cast<double>(m.leases_kept));
  w->Family("stream_open", "gauge", "1 while the stream is open.");
  w->Sample("stream_open", {{"stream", "watch"}}, m.watch_stream_open);
  w->Sample("stream_open", {{"stream", "keepalive"}}, m.keepalive_stream_open);
}

void WriteEtcd(const ClientMetrics& m, Writer* w) {
  w->Family("etcd_call_duration_seconds", "histogram",
            "Unary calls to etcd, retries included.");
  for (const auto& c : m.calls) {
    w->Histogram("etcd_call_duration_seconds", {{"method", c.method}},
                 c.duration_seconds);
  }
  w->Family("etcd_call_errors_total", "counter",
            "Unary calls to etcd that ended with an error.");
  for (const auto& c : m.calls) {
    w->Sample("etcd_call_errors_total", {{"method", c.method}}, c.errors);
  }
  w->Family("etcd_member_failures_total", "counter",
            "Times a member was left after a failure that blamed it.");
  for (const auto& mm : m.members) {
    w->Sample("etcd_member_failures_total", {{"member", mm.endpoint}},
              mm.failures);
  }
  w->Family("etcd_stream_opens_total", "counter",
            "Streams opened on each member.");
  for (const auto& mm : m.members) {
    w->Sample("etcd_stream_opens_total",
              {{"stream", "watch"}, {"member", mm.endpoint}},
              mm.watch_stream_opens);
    w->Sample("etcd_stream_opens_total",
              {{"stream", "keepalive"}, {"member", mm.endpoint}},
              mm.keepalive_stream_opens);
  }
  w->Family("keepalive_rtt_seconds", "histogram",
            "A lease refresh sent to its answer.");
  w->Histogram("keepalive_rtt_seconds", {}, m.keepalive_rtt_seconds);
  w->Family("watch_lag_revisions", "histogram",
            "Per watch response: store revision minus its last event's.");
  w->Histogram("watch_lag_revisions", {}, m.watch_lag_revisions);
  w->Family("watch_delivery_seconds", "histogram",
            "A watch response received to handed to its watchers.");
  w->Histogram("watch_delivery_seconds", {}, m.watch_delivery_seconds);
}

}  // namespace

std::string PrometheusText(const ClientMetrics& metrics) {
  Writer w;
  WriteRegistrations(metrics, &w);
  WriteSubscriptions(metrics, &w);
  WriteClient(metrics, &w);
  WriteEtcd(metrics, &w);
  return w.Take();
}

}  // namespace etcdisc
