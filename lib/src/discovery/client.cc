#include "etcdisc/client.h"

#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "discovery/client_core.h"
#include "discovery/go_endpoint.h"
#include "discovery/host_rules.h"
#include "discovery/host_watch.h"
#include "discovery/keys.h"
#include "discovery/records.h"
#include "discovery/registration_env.h"
#include "discovery/registration_impl.h"
#include "discovery/service_reads.h"
#include "discovery/subscription_access.h"
#include "fleet/fleet_read.h"
#include "fleet/health_publisher.h"
#include "util/log.h"
#include "util/status_macros.h"

namespace etcdisc {

using internal::ClientCore;
using internal::EventQueue;
using internal::HostSink;
using internal::NewHostWatch;
using internal::KeyValue;
using internal::RangeRequest;
using internal::TxnOp;
using internal::TxnRequest;

absl::StatusOr<std::unique_ptr<Client>> Client::Create(ClientOptions options) {
  ETCDISC_ASSIGN_OR_RETURN(auto core, ClientCore::Create(options));
  return std::unique_ptr<Client>(new Client(std::move(core)));
}

absl::StatusOr<std::unique_ptr<Client>> Client::FromEnvironment() {
  ETCDISC_ASSIGN_OR_RETURN(auto options, ClientOptionsFromEnvironment());
  return Create(std::move(options));
}

Client::Client(std::shared_ptr<ClientCore> core)
    : core_(std::move(core)),
      health_leases_(std::make_shared<internal::HealthLeases>(core_)) {}

Client::~Client() { core_->Shutdown(); }

absl::StatusOr<std::unique_ptr<Registration>> Client::Register(
    absl::string_view service, HostSpec spec, RegisterOptions options,
    RegistrationCallback on_event) {
  ETCDISC_RETURN_IF_ERROR(internal::ValidateServiceName(service));
  ETCDISC_RETURN_IF_ERROR(internal::ValidateHost(spec));
  Host host;
  static_cast<HostSpec&>(host) = std::move(spec);
  if (options.ttl.count() <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid TTL ", options.ttl.count(), "ms: it must be above zero"));
  }
  internal::ApplyRegisterDefaults(service, core_->machine_hostname(),
                                  internal::NewUuid4(), &host);
  // The private hostname may have come from the machine (ClientOptions or
  // HOSTNAME).
  ETCDISC_RETURN_IF_ERROR(
      internal::ValidateHostname(host.private_hostname, "private hostname"));
  ETCDISC_RETURN_IF_ERROR(internal::ValidateRecordSize(service, host));
  ETCDISC_RETURN_IF_ERROR(internal::GoEndpointFor(host, options).status());
  if (!options.go_grpc_target.empty()) {
    const internal::KeyLayout& keys = core_->keys();
    ETCDISC_RETURN_IF_ERROR(internal::CheckGoTargetIsFree(
        options.go_grpc_target,
        {keys.AllHostsPrefix(), keys.AllServicesPrefix(),
         keys.AllClustersPrefix(), keys.AllHealthPrefix()}));
  }
  ETCDISC_ASSIGN_OR_RETURN(
      auto health, internal::NewHealthPublisher(core_, health_leases_, service,
                                                host, options, &on_event));
  auto impl = std::make_shared<internal::RegistrationImpl>(
      internal::ClientRegistrationEnv(core_), std::string(service),
      std::move(host), options, std::move(on_event));
  // The publisher stops with the registration, after its host is down.
  if (health != nullptr) impl->StopAfterward(health);
  ETCDISC_RETURN_IF_ERROR(core_->Track(impl));
  impl->Start();
  return std::unique_ptr<Registration>(
      new Registration(std::move(impl), std::move(health)));
}

absl::StatusOr<ServiceHosts> Client::Get(absl::string_view service) {
  return Get(service, GetOptions{});
}

absl::StatusOr<ServiceHosts> Client::Get(absl::string_view service,
                                         const GetOptions& options) {
  ETCDISC_ASSIGN_OR_RETURN(auto read,
                           GetMany({std::string(service)}, options));
  return std::move(read.front());
}

absl::StatusOr<std::vector<ServiceHosts>> Client::GetMany(
    const std::vector<std::string>& services, const GetOptions& options) {
  for (const std::string& service : services) {
    ETCDISC_RETURN_IF_ERROR(internal::ValidateServiceName(service));
  }
  if (options.timeout.count() < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid GetOptions::timeout = ", options.timeout.count(),
        "ms: must be 0 (the client's call timeout) or more"));
  }
  const auto timeout = options.timeout.count() > 0
                           ? options.timeout
                           : core_->options().call_timeout;
  return internal::ReadServices(*core_, services, options.serializable,
                                timeout);
}

absl::StatusOr<ServiceHosts> Client::GetForShard(absl::string_view service,
                                                 absl::string_view shard,
                                                 const GetOptions& options) {
  ETCDISC_ASSIGN_OR_RETURN(auto all, Get(service, options));
  std::vector<Host> on_shard;
  if (auto hosts = all.All(); hosts.ok()) {
    for (Host& h : *hosts) {
      if (h.shard == shard) on_shard.push_back(std::move(h));
    }
  }
  return ServiceHosts(all.name(), std::move(on_shard), all.record(),
                      std::string(shard));
}

absl::StatusOr<std::vector<FleetHost>> Client::Fleet(
    absl::string_view service) {
  return internal::ReadFleet(*core_, service);
}

absl::StatusOr<std::vector<ServiceSummary>> Client::ListServices() {
  TxnRequest txn;
  RangeRequest hosts = RangeRequest::Prefix(core_->keys().AllHostsPrefix());
  hosts.keys_only = true;
  txn.success.push_back(TxnOp::Range(hosts));
  txn.success.push_back(
      TxnOp::Range(RangeRequest::Prefix(core_->keys().AllServicesPrefix())));
  ETCDISC_ASSIGN_OR_RETURN(auto read, core_->etcd().kv().Txn(txn));

  std::map<std::string, ServiceSummary> by_name;
  for (const KeyValue& kv : read.responses[0].range.kvs) {
    auto parts = core_->keys().ParseHostKey(kv.key);
    if (!parts.ok()) continue;
    ServiceSummary& s = by_name[parts->service];
    s.name = parts->service;
    ++s.hosts;
  }
  const std::string services_prefix = core_->keys().AllServicesPrefix();
  for (const KeyValue& kv : read.responses[1].range.kvs) {
    const std::string name = kv.key.substr(services_prefix.size());
    if (name.empty() || name.find('/') != std::string::npos) continue;
    ServiceSummary& s = by_name[name];
    s.name = name;
    s.has_record = true;
    auto record = internal::DecodeService(kv.value);
    if (record.ok()) s.critical = record->critical;
  }
  std::vector<ServiceSummary> out;
  for (auto& [name, summary] : by_name) out.push_back(std::move(summary));
  return out;
}

namespace {

// Starts a host watch feeding `queue` through `sink`, tracked by the core;
// the subscription's close stops it.
template <typename T>
absl::StatusOr<std::unique_ptr<Subscription<T>>> StartSubscription(
    const std::shared_ptr<ClientCore>& core, absl::string_view service,
    std::shared_ptr<EventQueue<T>> queue, HostSink sink, bool existing) {
  ETCDISC_RETURN_IF_ERROR(internal::ValidateServiceName(service));
  sink.on_end = [queue](const absl::Status& why) { queue->Close(why); };
  sink.queue_depth = [queue] { return queue->size(); };
  auto watch = NewHostWatch(core, std::string(service), std::move(sink));
  ETCDISC_RETURN_IF_ERROR(core->Track(watch));
  absl::Status status = watch->Start(existing);
  if (!status.ok()) {
    watch->Stop();
    return status;
  }
  return internal::SubscriptionAccess::Make<T>(std::move(queue),
                                              [watch] { watch->Stop(); });
}

}  // namespace

absl::StatusOr<std::unique_ptr<Subscription<Host>>> Client::SubscribeNew(
    absl::string_view service, SubscribeOptions options) {
  auto queue =
      std::make_shared<EventQueue<Host>>(core_->options().subscription_capacity);
  HostSink sink;
  sink.kind = "new";
  sink.on_new = [queue](const Host& host) { return queue->Push(host); };
  sink.on_down = [](const std::string&) { return true; };
  return StartSubscription(core_, service, queue, std::move(sink),
                           options.existing);
}

absl::StatusOr<std::unique_ptr<Subscription<std::string>>>
Client::SubscribeDown(absl::string_view service) {
  auto queue = std::make_shared<EventQueue<std::string>>(
      core_->options().subscription_capacity);
  HostSink sink;
  sink.kind = "down";
  sink.on_new = [](const Host&) { return true; };
  sink.on_down = [queue](const std::string& uuid) { return queue->Push(uuid); };
  return StartSubscription(core_, service, queue, std::move(sink),
                           /*existing=*/false);
}

absl::StatusOr<std::unique_ptr<Subscription<HostEvent>>> Client::Subscribe(
    absl::string_view service, SubscribeOptions options) {
  auto queue = std::make_shared<EventQueue<HostEvent>>(
      core_->options().subscription_capacity);
  HostSink sink;
  sink.kind = "events";
  sink.on_new = [queue](const Host& host) {
    return queue->Push(HostEvent{HostEvent::Kind::kNew, host});
  };
  sink.on_down = [queue, name = std::string(service)](const std::string& uuid) {
    HostEvent event{HostEvent::Kind::kDown, Host{}};
    event.host.service_name = name;
    event.host.uuid = uuid;
    return queue->Push(std::move(event));
  };
  return StartSubscription(core_, service, queue, std::move(sink),
                           options.existing);
}

ClientMetrics Client::Metrics() const { return core_->Metrics(); }

ClientStats Client::Stats() const {
  ClientStats stats;
  internal::EtcdClient& etcd = core_->etcd();
  stats.watch_streams_opened = etcd.watch().streams_opened();
  stats.keepalive_streams_opened = etcd.keeper().streams_opened();
  stats.watch_stream_open = etcd.watch().stream_open();
  stats.keepalive_stream_open = etcd.keeper().stream_open();
  stats.watchers = etcd.watch().size();
  stats.leases_kept = etcd.keeper().size();
  stats.resyncs = core_->resyncs();
  stats.corrections = core_->corrections();
  return stats;
}

}  // namespace etcdisc
