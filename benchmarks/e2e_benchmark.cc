// End-to-end benchmarks against a real local etcd that this program starts.
// Every figure crosses processes: the measuring process acts, a helper
// process (this same binary in another role) observes and timestamps.
//
//   e2e_benchmark run OUT_DIR [--samples=N] [--kills=N] [--cli=PATH]
//                 [--clientv3-peer=PATH] [--proxy-watchers=N]
//                 [--only=latencies|throughput|membership|fleet|grpc|peer|cluster|proxy]
// writes OUT_DIR/report.md and CDF data files for the plots. With the Go
// peer (benchmarks/peers/clientv3) it sets etcd's Go client beside etcdisc;
// --only=peer runs the latencies, kills and throughput it is compared with,
// then the peer. Helper roles:
//   subscribe ENDPOINTS SERVICE[,SERVICE...]   etcdisc Subscribe, one line per event
//   raw-watch ENDPOINTS PREFIX                 the etcd layer's watch, one line per event
//   register-many ENDPOINTS FIRST SERVICES HOSTS  registers HOSTS hosts of
//                                              each of SERVICES services from
//                                              svc-FIRST, "<ns> R <uuid>" each
//   register-one ENDPOINTS SERVICE TTL_MS      registers, prints its uuid, then
//                                              "<ns> K <uuid>" at each refresh of
//                                              its lease; waits to be killed
//   idle ENDPOINTS                             one registration + one subscription
//   member ENDPOINTS CLUSTER NODE TTL_MS       joins; as "observer", prints ups,
//                                              downs and cleanups
//   view ENDPOINTS SERVICE[,SERVICE...]        ServiceViews, one line per host each
//                                              OnChange adds or removes
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "benchmarks/bench_util.h"
#include "benchmarks/cluster_scale_benchmark.h"
#include "benchmarks/e2e_common.h"
#include "benchmarks/fleet_benchmark.h"
#include "benchmarks/grpc_benchmark.h"
#include "benchmarks/membership_benchmark.h"
#include "benchmarks/peer_benchmark.h"
#include "benchmarks/proxy_benchmark.h"
#include "benchmarks/view_benchmark.h"
#include "discovery/client_access.h"
#include "discovery/options.h"
#include "etcd/etcd_client.h"
#include "etcdisc/client.h"
#include "support/etcd_cluster.h"
#include "support/process.h"

namespace etcdisc::bench {
namespace {

// ---- helper roles ----------------------------------------------------------

int RoleSubscribe(const std::string& endpoints, const std::string& services) {
  auto client = MakeClient(endpoints);
  std::vector<std::unique_ptr<Subscription<HostEvent>>> subs;
  for (absl::string_view service : absl::StrSplit(services, ',')) {
    auto sub = client->Subscribe(service);
    if (!sub.ok()) return 1;
    subs.push_back(*std::move(sub));
  }
  const ClientStats stats = client->Stats();
  Emit(absl::StrCat("READY ", stats.watch_streams_opened, " ",
                    stats.keepalive_streams_opened, " ", stats.watchers));
  std::vector<std::thread> readers;
  for (auto& sub : subs) {
    readers.emplace_back([s = sub.get()] {
      while (auto e = s->Pop()) {
        const int64_t t = NowNs();
        Emit(absl::StrCat(t, e->kind == HostEvent::Kind::kNew ? " N " : " D ",
                          e->uuid()));
      }
    });
  }
  for (auto& t : readers) t.join();
  return 0;
}

int RoleRawWatch(const std::string& endpoints, const std::string& prefix) {
  auto client = RawClient(endpoints);
  auto rev = client->kv().Range(internal::RangeRequest::Prefix(prefix));
  if (!rev.ok()) return 1;
  internal::WatchOptions w;
  w.key = prefix;
  w.range_end = internal::PrefixRangeEnd(prefix);
  w.start_revision = rev->revision + 1;
  client->watch().Watch(w, [](internal::WatchUpdate u) {
    const int64_t t = NowNs();
    for (const auto& e : u.events) {
      Emit(absl::StrCat(t, e.type == internal::WatchEvent::Type::kPut ? " P " : " D ",
                        e.kv.key));
    }
  });
  Emit("READY");
  while (true) std::this_thread::sleep_for(seconds(1));
}

int RoleRegisterOne(const std::string& endpoints, const std::string& service,
                    int ttl_ms) {
  auto client = MakeClient(endpoints);
  Host host;
  host.name = "10.9.9.9";
  host.ports = {{"http", "80"}};
  RegisterOptions options;
  options.ttl = milliseconds(ttl_ms);
  auto reg = client->Register(service, host, options);
  if (!reg.ok() || !(*reg)->WaitRegistration(seconds(20)).ok()) return 1;
  const std::string uuid = (*reg)->UUID();
  Emit(uuid);
  // Its lease, from its host key; then each refresh, as the time the
  // refresh was sent (the lease keeper's valid-until less the TTL).
  internal::ClientCore& core = internal::ClientAccess::Core(*client);
  internal::EtcdClient& etcd = core.etcd();
  internal::RangeRequest read;
  read.key = core.keys().HostKey(service, uuid);
  auto got = etcd.kv().Range(read);
  if (!got.ok() || got->kvs.empty()) return 1;
  const int64_t lease = got->kvs[0].lease;
  auto last = std::chrono::steady_clock::time_point{};
  while (true) {
    const auto valid_until = etcd.keeper().ValidUntil(lease);
    if (valid_until != last) {
      last = valid_until;
      const auto sent = valid_until - std::chrono::seconds((ttl_ms + 999) / 1000);
      Emit(absl::StrCat(std::chrono::duration_cast<std::chrono::nanoseconds>(
                            sent.time_since_epoch()).count(),
                        " K ", uuid));
    }
    std::this_thread::sleep_for(milliseconds(1));
  }
}

int RoleIdle(const std::string& endpoints) {
  auto client = MakeClient(endpoints);
  Host host;
  host.name = "10.8.8.8";
  host.ports = {{"http", "80"}};
  auto reg = client->Register("idle", host);
  auto sub = client->SubscribeNew("idle-watched");
  if (!reg.ok() || !sub.ok() || !(*reg)->WaitRegistration(seconds(20)).ok()) return 1;
  Emit("READY");
  while (true) std::this_thread::sleep_for(seconds(1));
}

// ---- the measuring process ---------------------------------------------------

// The mean time of `method`'s calls in `now` (ms), counting only those made
// after `since` when given; 0 when there were none.
double MeanCallMs(const ClientMetrics& now, const std::string& method,
                  const ClientMetrics* since = nullptr) {
  const auto totals = [&](const ClientMetrics& m) {
    const CallMetrics* c = FindCall(m, method);
    return c != nullptr ? std::make_pair(c->duration_seconds.count, c->duration_seconds.sum)
                        : std::make_pair(uint64_t{0}, 0.0);
  };
  auto [count, sum] = totals(now);
  if (since != nullptr) {
    const auto [count0, sum0] = totals(*since);
    count -= count0;
    sum -= sum0;
  }
  return count > 0 ? sum * 1000 / count : 0;
}

struct Options {
  std::string out;
  int samples = 1000;
  int kills = 20;
  std::string cli;
  std::string peer;  // the clientv3 peer's binary; empty: not built
  // --only=membership, --only=fleet, ...: that section alone, in
  // OUT_DIR/report.md.
  std::string only;
  int proxy_watchers = 1000;  // The gRPC proxy section's watcher processes.
};

class Run {
 public:
  Run(Options o, std::string endpoints, pid_t etcd_pid)
      : o_(std::move(o)), endpoints_(std::move(endpoints)), etcd_pid_(etcd_pid) {}

  // The floor's samples: a put under a lease and its revoke, seen by a raw
  // watch.
  struct FloorSamples {
    std::vector<double> put_watch, revoke_delete;
    LatencySplit split;
  };
  FloorSamples Floor(internal::EtcdClient& raw, BackgroundProcess& watch,
                     const std::string& value) {
    FloorSamples f;
    for (int i = -50; i < o_.samples; ++i) {
      auto lease = raw.lease().Grant(seconds(30));
      if (!lease.ok()) std::exit(1);
      const std::string key = absl::StrCat("/bench/raw/", i + 50);
      const int64_t t0 = NowNs();
      if (!raw.kv().Put({key, value, lease->id, false}).ok()) std::exit(1);
      const int64_t written = NowNs();
      const int64_t t1 = AwaitEvent(watch, "P", key, seconds(10));
      const int64_t t2 = NowNs();
      if (!raw.lease().Revoke(lease->id).ok()) std::exit(1);
      const int64_t t3 = AwaitEvent(watch, "D", key, seconds(10));
      if (t1 < 0 || t3 < 0) std::exit(1);
      if (i < 0) continue;  // Warm-up.
      f.put_watch.push_back((t1 - t0) / 1e6);
      f.revoke_delete.push_back((t3 - t2) / 1e6);
      f.split.first.push_back((written - t0) / 1e6);
      f.split.second.push_back((t1 - written) / 1e6);
    }
    return f;
  }

  static std::string WhereTheTimeGoes(const LatencySplit& floor, const LatencySplit& reg,
                                      double put_ms, double txn_ms, double quiet_txn_ms) {
    return absl::StrFormat(
        "Where the time goes, p50 of each part (ms): the floor's put until its answer "
        "%.3f, then until the raw watch saw it %.3f; etcdisc's Register() until its "
        "Txn's answer reached the client %.3f, then until the subscriber's New %.3f (a "
        "negative part: the watcher saw the write before the writer had its answer). "
        "The calls' own round trips (mean, the clients' call metrics): the floor's Put "
        "%.3f, etcdisc's Txn %.3f (%.3f with health publishing off); the difference, "
        "roughly, is what Register() takes before its Txn is sent.\n\n",
        Summarize(floor.first).p50, Summarize(floor.second).p50, Summarize(reg.first).p50,
        Summarize(reg.second).p50, put_ms, txn_ms, quiet_txn_ms);
  }

  void Latencies(std::string* report) {
    // The floor: a put under a lease and a lease revoke, seen by a raw watch.
    auto raw_watch = Helper({"raw-watch", endpoints_, "/bench/raw/"});
    auto raw = RawClient(endpoints_);
    const std::string value(180, 'x');  // About a host record's size.
    FloorSamples f = Floor(*raw, *raw_watch, value);
    LatencySplit reg_split;
    const Summary raw_txn = RawTxnToWatch(*raw, *raw_watch, value);
    const Summary busy_put = PutToWatchWithStreams(*raw_watch, value);
    ClientMetrics raw_calls;
    raw->metrics().Snapshot(&raw_calls);
    const double raw_revoke_ms = MeanCallMs(raw_calls, "LeaseRevoke");
    const std::string revoke_rows = RevokeByLeaseContent(*raw, *raw_watch);
    // etcdisc: Register -> New, Stop -> Down, seen by a subscriber process.
    auto subscriber = Helper({"subscribe", endpoints_, "bench"});
    auto client = MakeClient(endpoints_);
    std::vector<double> reg_new, stop_down, quiet_new, quiet_down;
    RegisterAndStop(*client, *subscriber, "bench", o_.samples, &reg_new, &stop_down,
                    RegisterOptions(), nullptr, &reg_split);
    const double txn_ms = MeanCallMs(client->Metrics(), "Txn");
    // The same without health publishing, whose writes (the first right
    // after the registration's, the last right after the revoke) reach etcd
    // while it delivers the event.
    RegisterOptions quiet;
    quiet.health_interval = milliseconds(0);
    const ClientMetrics before = client->Metrics();
    RegisterAndStop(*client, *subscriber, "bench", o_.samples, &quiet_new, &quiet_down,
                    quiet);
    const double stop_revoke_ms = MeanCallMs(client->Metrics(), "LeaseRevoke", &before);
    const double quiet_txn_ms = MeanCallMs(client->Metrics(), "Txn", &before);
    // The same, each Stop held until the grant of the next spare lease, which
    // each registration starts in the background once its Txn is answered,
    // has been answered: a Stop right after New otherwise queues its revoke
    // behind that grant in etcd.
    std::vector<double> after_grant_new, after_grant_down;
    uint64_t grants = LeaseGrantsMade(*client);
    RegisterAndStop(*client, *subscriber, "bench", o_.samples, &after_grant_new, &after_grant_down,
                    quiet, [&] {
                      const auto until = std::chrono::steady_clock::now() + seconds(1);
                      while (LeaseGrantsMade(*client) <= grants &&
                             std::chrono::steady_clock::now() < until) {
                        std::this_thread::sleep_for(std::chrono::microseconds(50));
                      }
                      grants = LeaseGrantsMade(*client);
                    });
    // With share_lease, beside a registration of the service that holds the
    // shared lease (a process that registers many hosts): Register is then
    // one Txn, Stop one delete.
    RegisterOptions shared;
    shared.share_lease = true;
    Host anchor_host;
    anchor_host.name = "10.0.0.2";
    anchor_host.ports = {{"http", "8080"}};
    auto anchor = client->Register("bench", anchor_host, shared);
    if (!anchor.ok() || !(*anchor)->WaitRegistration(seconds(10)).ok()) std::exit(1);
    std::vector<double> shared_new, shared_down;
    RegisterAndStop(*client, *subscriber, "bench", o_.samples, &shared_new, &shared_down,
                    shared);
    (*anchor)->Stop().IgnoreError();
    figures_.shared_reg_new = Summarize(shared_new);
    figures_.shared_stop_down = Summarize(shared_down);
    figures_.after_grant_stop_down = Summarize(after_grant_down);
    figures_.quiet_reg_new = Summarize(quiet_new);
    figures_.quiet_stop_down = Summarize(quiet_down);
    floor_ = Summarize(f.put_watch);
    reg_new_ = Summarize(reg_new);
    const Summary revoke = Summarize(f.revoke_delete);
    stop_down_ = Summarize(stop_down);
    WriteCdf(o_.out + "/floor_put_watch.dat", f.put_watch);
    WriteCdf(o_.out + "/register_new.dat", reg_new);
    WriteCdf(o_.out + "/floor_revoke_delete.dat", f.revoke_delete);
    WriteCdf(o_.out + "/stop_down.dat", stop_down);
    absl::StrAppend(report,
        "## 1-3. Latency to a watcher in another process (ms)\n\n"
        "| Path | n | p50 | p90 | p99 | max |\n|---|---|---|---|---|---|\n",
        Row("floor: raw put under a lease -> raw watch", floor_),
        Row("raw Txn as a registration's (compare a record, put a key under a "
            "lease) -> raw watch", raw_txn),
        Row("raw put as the floor's, from a client holding a watch stream and a "
            "kept lease -> raw watch", busy_put),
        Row("etcdisc: Register -> SubscribeNew", reg_new_),
        Row("floor: raw lease revoke -> raw watch delete", revoke),
        revoke_rows,
        Row("etcdisc: Stop -> SubscribeDown", stop_down_),
        Row("etcdisc, health publishing off: Register -> SubscribeNew",
            figures_.quiet_reg_new),
        Row("etcdisc, health publishing off: Stop -> SubscribeDown",
            figures_.quiet_stop_down),
        Row("etcdisc, health publishing off, Stop once the next spare lease is "
            "granted: Register -> SubscribeNew", Summarize(after_grant_new)),
        Row("etcdisc, health publishing off, Stop once the next spare lease is "
            "granted: Stop -> SubscribeDown", figures_.after_grant_stop_down),
        Row("etcdisc, share_lease beside a registration holding the lease: "
            "Register -> SubscribeNew", figures_.shared_reg_new),
        Row("etcdisc, share_lease beside a registration holding the lease: "
            "Stop -> SubscribeDown", figures_.shared_stop_down),
        absl::StrFormat("\nRatios of p50 to the floor: register -> New %.2fx; "
                        "Stop -> Down %.2fx (to the put floor), %.2fx (to the revoke floor). "
                        "With health publishing off: %.2fx and %.2fx. "
                        "With share_lease: %.2fx and %.2fx.\n\n",
                        reg_new_.p50 / floor_.p50, stop_down_.p50 / floor_.p50,
                        stop_down_.p50 / revoke.p50,
                        figures_.quiet_reg_new.p50 / floor_.p50,
                        figures_.quiet_stop_down.p50 / floor_.p50,
                        figures_.shared_reg_new.p50 / floor_.p50,
                        figures_.shared_stop_down.p50 / floor_.p50),
        WhereTheTimeGoes(f.split, reg_split, MeanCallMs(raw_calls, "Put"), txn_ms,
                         quiet_txn_ms),
        absl::StrFormat("The revoke call's own round trip, as each client's call "
                        "metrics time it (mean): %.3f ms for the floor's raw "
                        "revokes, %.3f ms inside etcdisc's Stop (health "
                        "publishing off).\n\n",
                        raw_revoke_ms, stop_revoke_ms),
        "![CDF](register_new.png)\n\n");
  }

  // The write of a registration done by hand: a Txn that compares a service
  // record and puts a host key under a lease, seen by a raw watch.
  Summary RawTxnToWatch(internal::EtcdClient& raw, BackgroundProcess& watch,
                        const std::string& value) {
    const std::string record(120, 'r');
    if (!raw.kv().Put({"/bench/raw-record", record, 0, false}).ok()) std::exit(1);
    auto lease = raw.lease().Grant(seconds(60));
    if (!lease.ok()) std::exit(1);
    const Summary ms = WriteToWatch(watch, "/bench/raw/txn-", [&](const std::string& key) {
      internal::TxnRequest txn;
      txn.compares.push_back(internal::Compare::Value(
          "/bench/raw-record", internal::Compare::Result::kEqual, record));
      txn.success.push_back(internal::TxnOp::Put({key, value, lease->id, false}));
      txn.failure = txn.success;
      return raw.kv().Txn(txn).ok();
    });
    raw.lease().Revoke(lease->id).IgnoreError();
    return ms;
  }

  // `write(key)` (true when it succeeded) for keys PREFIX0, PREFIX1, ..., the
  // first 50 for warm-up, each timed from the call until `watch` saw it.
  Summary WriteToWatch(BackgroundProcess& watch, const std::string& prefix,
                       const std::function<bool(const std::string&)>& write) {
    std::vector<double> ms;
    for (int i = -50; i < o_.samples; ++i) {
      const std::string key = absl::StrCat(prefix, i + 50);
      const int64_t t0 = NowNs();
      if (!write(key)) std::exit(1);
      const int64_t t1 = AwaitEvent(watch, "P", key, seconds(10));
      if (t1 < 0) std::exit(1);
      if (i >= 0) ms.push_back((t1 - t0) / 1e6);
    }
    return Summarize(ms);
  }

  // The floor's put, from a client that also holds what an etcdisc client
  // does: a watch stream (one watch) and a kept lease.
  Summary PutToWatchWithStreams(BackgroundProcess& watch, const std::string& value) {
    auto raw = RawClient(endpoints_);
    internal::WatchOptions elsewhere;
    elsewhere.key = "/bench/elsewhere";
    const internal::WatchId id =
        raw->watch().Watch(elsewhere, [](internal::WatchUpdate) {});
    auto lease = raw->lease().Grant(seconds(60));
    if (!lease.ok()) std::exit(1);
    raw->keeper().Keep(lease->id, lease->ttl_seconds, [](const absl::Status&) {});
    const Summary ms = WriteToWatch(watch, "/bench/raw/busy-", [&](const std::string& key) {
      return raw->kv().Put({key, value, lease->id, false}).ok();
    });
    raw->watch().Cancel(id);
    raw->lease().Revoke(lease->id).IgnoreError();
    return ms;
  }

  // A raw revoke seen by a raw watch of the one watched key, by what else
  // the lease carries: keys outside the watch (an etcdisc lease also holds
  // the service record, when its registration wrote it), and whether the
  // revoking client was keeping it alive. The variants take turns, sample
  // by sample, so that drift of the machine falls on all alike.
  std::string RevokeByLeaseContent(internal::EtcdClient& raw, BackgroundProcess& watch) {
    struct Variant {
      std::string name;
      int other_keys;
      bool kept;
      std::vector<double> ms;
    };
    std::vector<Variant> variants = {
        {"raw revoke, lease with the watched key and 1 other", 1, false, {}},
        {"raw revoke, lease with the watched key and 2 others", 2, false, {}},
        {"raw revoke, lease with one key, kept alive until the revoke", 0, true, {}},
    };
    const std::string value(180, 'x');
    for (int i = -50; i < o_.samples; ++i) {
      for (Variant& v : variants) {
        auto lease = raw.lease().Grant(seconds(30));
        if (!lease.ok()) std::exit(1);
        const std::string key = absl::StrCat("/bench/raw/v", i + 50, "-", v.other_keys, v.kept);
        internal::TxnRequest txn;
        txn.success.push_back(internal::TxnOp::Put({key, value, lease->id, false}));
        for (int k = 0; k < v.other_keys; ++k) {
          txn.success.push_back(internal::TxnOp::Put(
              {absl::StrCat("/bench/other/", i + 50, "/", k), value, lease->id, false}));
        }
        if (!raw.kv().Txn(txn).ok()) std::exit(1);
        if (v.kept) raw.keeper().Keep(lease->id, lease->ttl_seconds, [](const absl::Status&) {});
        if (AwaitEvent(watch, "P", key, seconds(10)) < 0) std::exit(1);
        if (v.kept) raw.keeper().Forget(lease->id);
        const int64_t t0 = NowNs();
        if (!raw.lease().Revoke(lease->id).ok()) std::exit(1);
        const int64_t t1 = AwaitEvent(watch, "D", key, seconds(10));
        if (t1 < 0) std::exit(1);
        if (i >= 0) v.ms.push_back((t1 - t0) / 1e6);
      }
    }
    std::string rows;
    for (const Variant& v : variants) absl::StrAppend(&rows, Row(v.name, Summarize(v.ms)));
    return rows;
  }

  // The same, against an etcd with TLS and authentication (a password
  // user), in the same run: what security costs.
  void Secure(std::string* report) {
    testing::EtcdClusterOptions options;
    options.tls = testing::EtcdClusterOptions::Tls::kServer;
    options.auth = true;
    auto cluster = testing::EtcdCluster::Start(options);
    if (!cluster.ok()) std::exit(1);
    const std::map<std::string, std::string> env = {
        {"ETCD_CACERT", (*cluster)->certs().ca_file},
        {"ETCD_USER", "registrar"},
        {"ETCD_PASSWORD", (*cluster)->Password("registrar")}};
    auto subscriber =
        Helper({"subscribe", (*cluster)->endpoints(), "bench"}, nullptr, env);
    ClientOptions client_options;
    client_options.endpoints = (*cluster)->endpoints();
    client_options.tls = (*cluster)->ClientTls();
    client_options.auth = (*cluster)->ClientAuth("registrar");
    auto client = Client::Create(client_options);
    if (!client.ok()) std::exit(1);
    std::vector<double> reg_new, stop_down;
    RegisterAndStop(**client, *subscriber, "bench", o_.samples, &reg_new, &stop_down);
    const Summary secure_new = Summarize(reg_new);
    const Summary secure_down = Summarize(stop_down);
    absl::StrAppend(report,
        "## Security: the same over TLS + etcd auth (ms)\n\n"
        "| Path | n | p50 | p90 | p99 | max |\n|---|---|---|---|---|---|\n",
        Row("plain: Register -> SubscribeNew", reg_new_),
        Row("TLS + auth: Register -> SubscribeNew", secure_new),
        Row("plain: Stop -> SubscribeDown", stop_down_),
        Row("TLS + auth: Stop -> SubscribeDown", secure_down),
        absl::StrFormat("\nTLS + auth over plain, p50: register -> New %.2fx, "
                        "Stop -> Down %.2fx (one token per client; a separate "
                        "etcd, started the same way, with TLS and auth on).\n\n",
                        secure_new.p50 / reg_new_.p50,
                        secure_down.p50 / stop_down_.p50));
  }

  void Kills(std::string* report) {
    auto subscriber = Helper({"subscribe", endpoints_, "killed"});
    std::mt19937 rng(7);
    KillSplit split;
    for (int k = 0; k < o_.kills; ++k) {
      WaitRandomPointOfExpiryScan(rng);
      BackgroundProcess victim({self_path, "register-one", endpoints_, "killed", "2000"});
      auto uuid = victim.ReadLine(seconds(30));
      if (!uuid || AwaitEvent(*subscriber, "N", *uuid, seconds(10)) < 0) std::exit(1);
      const int64_t t0 = KillAtRandomPoint(victim, rng);
      const int64_t t1 = AwaitEvent(*subscriber, "D", *uuid, seconds(20));
      if (t1 < 0) std::exit(1);
      AddKill(t0, t1, victim.TakeLines(), milliseconds(2000), &split);
    }
    kill_ = Summarize(split.total);
    WriteCdf(o_.out + "/kill_down.dat", split.total);
    const Summary expiry = LeaseExpiry(o_.kills);
    absl::StrAppend(report,
        "## 3. kill -9 -> SubscribeDown at TTL 2 s\n\n",
        absl::StrFormat("%zu kills at random points of the keep-alive cycle "
                        "(each victim started at a random point of etcd's "
                        "expiry scan): "
                        "min %.0f ms, median %.0f ms, max %.0f ms. Split at the "
                        "end of the lease as the victim knew it: %s.\n\n",
                        kill_.n, kill_.min, kill_.p50, kill_.max,
                        DescribeSplit(split)),
        absl::StrFormat("etcd's own part, without etcdisc: a lease of TTL 2 s "
                        "granted and never refreshed, from the grant's answer to "
                        "its key's delete seen by a raw watch, %zu times: min "
                        "%.0f ms, median %.0f ms, max %.0f ms (the TTL, then "
                        "etcd's expiry scan, which runs every 500 ms).\n\n",
                        expiry.n, expiry.min, expiry.p50, expiry.max));
  }

  // A lease of TTL 2 s left to expire: its grant's answer -> the delete of
  // its key seen by a raw watch, `n` times.
  Summary LeaseExpiry(int n) {
    auto raw_watch = Helper({"raw-watch", endpoints_, "/bench/expiry/"});
    auto raw = RawClient(endpoints_);
    std::vector<double> ms;
    std::mt19937 rng(11);
    for (int i = 0; i < n; ++i) {
      WaitRandomPointOfExpiryScan(rng);
      auto lease = raw->lease().Grant(seconds(2));
      const int64_t t0 = NowNs();
      const std::string key = absl::StrCat("/bench/expiry/", i);
      if (!lease.ok() || !raw->kv().Put({key, "x", lease->id, false}).ok()) std::exit(1);
      const int64_t t1 = AwaitEvent(*raw_watch, "D", key, seconds(10));
      if (t1 < 0) std::exit(1);
      ms.push_back((t1 - t0) / 1e6);
    }
    return Summarize(ms);
  }

  // What a throughput run did in its window, and what that cost.
  struct Rate {
    double per_s = 0;         // Operations completed per second.
    double client_cores = 0;  // This process's CPU (seconds per second).
    double etcd_cores = 0;
    double proposals = 0;     // etcd's committed proposals per operation.
  };

  // Counts `done` over `duration` (from now), with the CPU and the etcd
  // proposals spent meanwhile.
  Rate Window(const std::atomic<long>& done, milliseconds duration) {
    CpuMeter cpu_client, cpu_etcd;
    const std::string committed = "etcd_server_proposals_committed_total";
    const double proposals_before = Figure(EtcdMetrics(endpoints_), committed);
    const long done_before = done;
    cpu_client.Start({::getpid()});
    cpu_etcd.Start({etcd_pid_});
    std::this_thread::sleep_for(duration);
    const double wall_s = duration.count() / 1000.0;
    Rate rate;
    rate.client_cores = cpu_client.Cores(wall_s);
    rate.etcd_cores = cpu_etcd.Cores(wall_s);
    const long ops = done - done_before;
    rate.per_s = ops / wall_s;
    const double proposals = Figure(EtcdMetrics(endpoints_), committed) - proposals_before;
    rate.proposals = ops > 0 ? proposals / ops : 0;
    return rate;
  }

  // Registrations completed per second by `n` threads, each with its own
  // connection, over `duration`.
  Rate RegistrationsPerSecond(int n, milliseconds duration,
                              const RegisterOptions& options = RegisterOptions()) {
    std::vector<std::unique_ptr<Client>> clients;
    for (int i = 0; i < n; ++i) clients.push_back(MakeClient(endpoints_));
    std::atomic<long> done{0};
    std::atomic<bool> stop{false};
    std::vector<std::vector<std::unique_ptr<Registration>>> held(n);
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i) {
      threads.emplace_back([&, i] {
        Host host;
        host.name = absl::StrCat("10.1.", i, ".1");
        host.ports = {{"http", "80"}};
        while (!stop) {
          auto reg = clients[i]->Register("throughput", host, options);
          if (reg.ok() && (*reg)->WaitRegistration(seconds(10)).ok()) {
            ++done;
            held[i].push_back(*std::move(reg));
          }
        }
      });
    }
    const Rate rate = Window(done, duration);
    stop = true;
    for (auto& t : threads) t.join();
    held.clear();
    clients.clear();
    return rate;
  }

  Rate RawPutsPerSecond(int n, milliseconds duration) {
    std::atomic<long> done{0};
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i) {
      threads.emplace_back([&, i] {
        auto raw = RawClient(endpoints_);
        auto lease = raw->lease().Grant(seconds(30));
        long k = 0;
        while (!stop && lease.ok()) {
          if (raw->kv().Put({absl::StrCat("/bench/put/", i, "/", k++),
                             std::string(180, 'x'), lease->id, false}).ok()) {
            ++done;
          }
        }
        if (lease.ok()) raw->lease().Revoke(lease->id).IgnoreError();
      });
    }
    const Rate rate = Window(done, duration);
    stop = true;
    for (auto& t : threads) t.join();
    return rate;
  }

  void Throughput(std::string* report) {
    absl::StrAppend(report,
        "## 4. Registrations per second (3 s each; one connection per registrar)\n\n"
        "With share_lease, a registrar's registrations write under one lease "
        "(RegisterOptions::share_lease) instead of one each.\n\n"
        "| Registrars | etcdisc registrations/s | the same, health publishing off "
        "| share_lease | share_lease, health off "
        "| raw puts under a lease/s | ratio (health on) | ratio (share_lease) |\n"
        "|---|---|---|---|---|---|---|---|\n");
    std::string costs =
        "What each run cost in its 3 s: the CPU of this process (the registrars, "
        "all in it) and of etcd, in cores of the 2, and etcd's committed "
        "proposals (raft entries: writes, lease grants and revokes) per "
        "operation completed.\n\n"
        "| Registrars | Operation | per second | this process, cores | etcd, cores "
        "| etcd proposals per operation |\n|---|---|---|---|---|---|\n";
    const auto cost = [&](int n, const char* what, const Rate& r) {
      absl::StrAppend(&costs, absl::StrFormat("| %d | %s | %.0f | %.2f | %.2f | %.2f |\n", n,
                                              what, r.per_s, r.client_cores,
                                              r.etcd_cores, r.proposals));
    };
    RegisterOptions quiet;
    quiet.health_interval = milliseconds(0);
    RegisterOptions shared;
    shared.share_lease = true;
    RegisterOptions shared_quiet = quiet;
    shared_quiet.share_lease = true;
    for (int n : {1, 16}) {
      const Rate reg = RegistrationsPerSecond(n, milliseconds(3000));
      const Rate reg_quiet = RegistrationsPerSecond(n, milliseconds(3000), quiet);
      const Rate reg_shared = RegistrationsPerSecond(n, milliseconds(3000), shared);
      const Rate reg_shared_quiet =
          RegistrationsPerSecond(n, milliseconds(3000), shared_quiet);
      const Rate put = RawPutsPerSecond(n, milliseconds(3000));
      (n == 1 ? figures_.reg_per_s_1 : figures_.reg_per_s_16) = reg.per_s;
      (n == 1 ? figures_.put_per_s_1 : figures_.put_per_s_16) = put.per_s;
      if (n == 16) figures_.shared_reg_per_s_16 = reg_shared.per_s;
      absl::StrAppend(report, absl::StrFormat(
          "| %d | %.0f | %.0f | %.0f | %.0f | %.0f | %.2f | %.2f |\n", n, reg.per_s,
          reg_quiet.per_s, reg_shared.per_s, reg_shared_quiet.per_s, put.per_s,
          reg.per_s / put.per_s, reg_shared.per_s / put.per_s));
      cost(n, "Register", reg);
      cost(n, "Register, health publishing off", reg_quiet);
      cost(n, "Register, share_lease", reg_shared);
      cost(n, "Register, share_lease, health off", reg_shared_quiet);
      cost(n, "raw put under a lease", put);
    }
    absl::StrAppend(report, "\n", costs, "\n");
  }

  void PutHosts(internal::EtcdClient& raw, const std::string& service, int count) {
    for (int i = 0; i < count; ++i) {
      Host h;
      h.name = absl::StrCat("10.2.", i / 250, ".", i % 250);
      h.ports = {{"http", "80"}};
      h.service_name = service;
      h.uuid = absl::StrCat("host-", i);
      if (!raw.kv().Put({absl::StrCat("/services/", service, "/", h.uuid), ToJson(h),
                         0, false}).ok()) {
        std::exit(1);
      }
    }
  }

  void Gets(std::string* report) {
    auto raw = RawClient(endpoints_);
    auto client = MakeClient(endpoints_);
    absl::StrAppend(report,
        "## 5. Get (one Range of hosts + record, in one Txn) (ms)\n\n"
        "| Service size | n | p50 | p90 | p99 | max |\n|---|---|---|---|---|---|\n");
    for (int size : {10, 1000}) {
      const std::string service = absl::StrCat("get", size);
      PutHosts(*raw, service, size);
      std::vector<double> ms;
      for (int i = -20; i < 300; ++i) {
        const int64_t t0 = NowNs();
        auto hosts = client->Get(service);
        const int64_t t1 = NowNs();
        if (!hosts.ok() || hosts->All()->size() != static_cast<size_t>(size)) std::exit(1);
        if (i >= 0) ms.push_back((t1 - t0) / 1e6);
      }
      absl::StrAppend(report, Row(absl::StrCat(size, " hosts"), Summarize(ms)));
    }
    absl::StrAppend(report, "\n");
  }

  void Scale(std::string* report) {
    std::vector<std::thread> loaders;
    for (int t = 0; t < 8; ++t) {
      loaders.emplace_back([&, t] {
        auto raw = RawClient(endpoints_);
        for (int s = t; s < 1000; s += 8) PutHosts(*raw, absl::StrCat("svc-", s), 10);
      });
    }
    for (auto& t : loaders) t.join();
    std::vector<std::string> names;
    for (int s = 0; s < 1000; ++s) names.push_back(absl::StrCat("svc-", s));
    const auto start = std::chrono::steady_clock::now();
    auto many = Helper({"subscribe", endpoints_, absl::StrJoin(names, ",")},
                       &many_ready_);
    const double subscribe_s = std::chrono::duration<double>(
        std::chrono::steady_clock::now() - start).count();
    const long rss = RssKiB(many->pid());
    auto client = MakeClient(endpoints_);
    loaded_ = RegisterToNew(*client, *many, "svc-500");
    scale_rss_kib_ = rss;
    absl::StrAppend(report,
        "## 6. Scale: 1,000 services x 10 hosts, one process subscribed to all\n\n",
        absl::StrFormat("- subscribing to the 1,000 services took %.1f s (one read each);\n"
                        "- its RSS: %.1f MiB;\n"
                        "- its gRPC streams: %s (watch streams opened, keep-alive "
                        "streams opened, watchers);\n",
                        subscribe_s, rss / 1024.0, many_ready_),
        absl::StrFormat("- register -> New while it holds them: p50 %.3f ms, p99 %.3f ms "
                        "(idle p99 %.3f ms: %.2fx), n=%zu.\n\n",
                        loaded_.p50, loaded_.p99, reg_new_.p99,
                        loaded_.p99 / reg_new_.p99, loaded_.n));
  }

  void Footprint(std::string* report) {
    auto idle = Helper({"idle", endpoints_});
    std::this_thread::sleep_for(seconds(2));
    const long rss = RssKiB(idle->pid());
    struct stat st {};
    long cli_bytes = -1;
    if (!o_.cli.empty() && ::stat(o_.cli.c_str(), &st) == 0) cli_bytes = st.st_size;
    long stripped = -1;
    if (cli_bytes > 0) {
      const std::string copy = o_.out + "/etcdisc.stripped";
      if (std::system(("strip -o " + copy + " " + o_.cli).c_str()) == 0 &&
          ::stat(copy.c_str(), &st) == 0) {
        stripped = st.st_size;
        ::unlink(copy.c_str());
      }
    }
    absl::StrAppend(report, "## 7. Footprint\n\n",
        absl::StrFormat("- idle process holding one registration and one subscription: "
                        "RSS %.1f MiB;\n- `etcdisc` CLI binary: %.1f MiB as built "
                        "(Release), %.1f MiB stripped; "
                        "gRPC, protobuf and abseil are shared libraries.\n\n",
                        rss / 1024.0, cli_bytes / 1048576.0, stripped / 1048576.0));
  }

  // What this run measured of etcdisc, for the clientv3 peer's section.
  EtcdiscFigures figures() const {
    EtcdiscFigures f = figures_;
    f.floor = floor_;
    f.reg_new = reg_new_;
    f.stop_down = stop_down_;
    f.kill_down = kill_;
    return f;
  }

  std::string Targets(double view_ratio, const PeerFigures& peer) const {
    const auto met = [](bool ok) { return ok ? "met" : "NOT met"; };
    return absl::StrCat(
        "## Targets\n\n| Target | Measured | |\n|---|---|---|\n",
        absl::StrFormat("| register -> New p50 within 1.2x of the floor | %.2fx | %s |\n",
                        reg_new_.p50 / floor_.p50, met(reg_new_.p50 <= 1.2 * floor_.p50)),
        absl::StrFormat("| Stop -> Down p50 within 1.2x of the floor | %.2fx | %s |\n",
                        stop_down_.p50 / floor_.p50, met(stop_down_.p50 <= 1.2 * floor_.p50)),
        absl::StrFormat("| the same two with share_lease | %.2fx, %.2fx | %s, %s |\n",
                        figures_.shared_reg_new.p50 / floor_.p50,
                        figures_.shared_stop_down.p50 / floor_.p50,
                        met(figures_.shared_reg_new.p50 <= 1.2 * floor_.p50),
                        met(figures_.shared_stop_down.p50 <= 1.2 * floor_.p50)),
        absl::StrFormat("| kill -9 -> Down at TTL 2 s: max <= 2.5 s, median < 2.1 s | "
                        "max %.0f ms, median %.0f ms | %s |\n",
                        kill_.max, kill_.p50, met(kill_.max <= 2500 && kill_.p50 < 2100)),
        absl::StrFormat("| registrations/s at 16 registrars >= 0.9x raw puts | %.2fx | %s |\n",
                        throughput_ratio(), met(throughput_ratio() >= 0.9)),
        absl::StrFormat("| the same with share_lease | %.2fx | %s |\n",
                        shared_throughput_ratio(), met(shared_throughput_ratio() >= 0.9)),
        absl::StrFormat("| 1,000 subscriptions: RSS < 64 MiB, p99 within 1.5x idle | "
                        "%.1f MiB, %.2fx | %s |\n",
                        scale_rss_kib_ / 1024.0, loaded_.p99 / reg_new_.p99,
                        met(scale_rss_kib_ < 64 * 1024 && loaded_.p99 <= 1.5 * reg_new_.p99)),
        absl::StrFormat("| a change -> ServiceView OnChange p50 within 1.1x of "
                        "the raw watch floor | %.2fx | %s |\n",
                        view_ratio, met(view_ratio <= 1.1)),
        PeerTargets(peer), "\n");
  }

  // The targets set against etcd's Go client, when it was measured.
  std::string PeerTargets(const PeerFigures& p) const {
    if (!p.measured) return "| the targets against clientv3 | not measured (no peer) | |\n";
    const auto met = [](bool ok) { return ok ? "met" : "NOT met"; };
    const double new_ratio = reg_new_.p50 / p.go_reg_new.p50;
    const double down_ratio = stop_down_.p50 / p.go_stop_down.p50;
    const double rate_ratio = figures_.reg_per_s_16 / p.go_reg_per_s_16;
    const double shared_rate_ratio = figures_.shared_reg_per_s_16 / p.go_reg_per_s_16;
    const double cpu_ratio = p.etcdisc_cpu_ms_per_1k / p.go_cpu_ms_per_1k;
    return absl::StrCat(
        absl::StrFormat("| register -> New p50 <= 1.0x clientv3 | %.2fx | %s |\n",
                        new_ratio, met(new_ratio <= 1.0)),
        absl::StrFormat("| Stop -> Down p50 <= 1.0x clientv3 | %.2fx | %s |\n",
                        down_ratio, met(down_ratio <= 1.0)),
        absl::StrFormat("| registrations/s at 16 registrars ahead of clientv3 | %.2fx | %s |\n",
                        rate_ratio, met(rate_ratio > 1.0)),
        absl::StrFormat("| the same with share_lease | %.2fx | %s |\n", shared_rate_ratio,
                        met(shared_rate_ratio > 1.0)),
        absl::StrFormat("| client CPU per 1,000 events vs clientv3 (lower is better) "
                        "| %.2fx | %s |\n", cpu_ratio, met(cpu_ratio <= 1.0)));
  }

 private:
  Options o_;
  std::string endpoints_;
  pid_t etcd_pid_;
  double throughput_ratio() const {
    return figures_.put_per_s_16 > 0 ? figures_.reg_per_s_16 / figures_.put_per_s_16 : 0;
  }
  double shared_throughput_ratio() const {
    return figures_.put_per_s_16 > 0
               ? figures_.shared_reg_per_s_16 / figures_.put_per_s_16
               : 0;
  }

  Summary floor_, reg_new_, stop_down_, kill_, loaded_;
  EtcdiscFigures figures_;
  long scale_rss_kib_ = 0;
  std::string many_ready_ = "?";
};

int RoleRun(int argc, char** argv) {
  Options o;
  o.out = argv[2];
  for (int i = 3; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--samples=", 0) == 0) o.samples = std::atoi(a.c_str() + 10);
    if (a.rfind("--kills=", 0) == 0) o.kills = std::atoi(a.c_str() + 8);
    if (a.rfind("--cli=", 0) == 0) o.cli = a.substr(6);
    if (a.rfind("--only=", 0) == 0) o.only = a.substr(7);
    if (a.rfind("--clientv3-peer=", 0) == 0) o.peer = a.substr(16);
    if (a.rfind("--proxy-watchers=", 0) == 0) o.proxy_watchers = std::atoi(a.c_str() + 17);
  }
  testing::EtcdClusterOptions eo;
  eo.members = 1;
  auto cluster = testing::EtcdCluster::Start(eo);
  if (!cluster.ok()) {
    std::fprintf(stderr, "%s\n", cluster.status().ToString().c_str());
    return 1;
  }
  Run run(o, (*cluster)->endpoints(), (*cluster)->pid(0));
  std::string body;
  const auto phase = [](const char* name) {
    std::fprintf(stderr, "bench: %s\n", name);
  };
  // One section alone (--only=NAME).
  const std::map<std::string, std::function<void()>> sections = {
      {"latencies", [&] { run.Latencies(&body); }},
      {"throughput", [&] { run.Throughput(&body); }},
      {"fleet",
       [&] { FleetBenchmarks((*cluster)->endpoints(), o.cli, 1000, 60, &body); }},
      {"grpc", [&] { GrpcBenchmarks((*cluster)->endpoints(), 50, &body); }},
      {"peer",
       [&] {
         run.Latencies(&body);
         run.Kills(&body);
         run.Throughput(&body);
         PeerBenchmarks((*cluster)->endpoints(), o.peer, o.samples, o.kills,
                        run.figures(), o.out, &body);
       }},
      {"cluster", [&] { ClusterScaleBenchmarks(&body); }},
      {"proxy", [&] { ProxyBenchmarks(o.proxy_watchers, &body); }},
      {"membership",
       [&] {
         MembershipBenchmarks((*cluster)->endpoints(), o.kills, o.samples, o.out,
                              &body);
       }},
  };
  if (!o.only.empty()) {
    auto section = sections.find(o.only);
    if (section == sections.end()) {
      std::fprintf(stderr, "no section named \"%s\"\n", o.only.c_str());
      return 2;
    }
    section->second();
    std::ofstream(o.out + "/report.md") << body;
    return 0;
  }
  phase("latencies");
  run.Latencies(&body);
  phase("TLS + auth");
  run.Secure(&body);
  phase("kill -9");
  run.Kills(&body);
  phase("throughput");
  run.Throughput(&body);
  phase("get");
  run.Gets(&body);
  phase("scale");
  run.Scale(&body);
  phase("cluster scale");
  ClusterScaleBenchmarks(&body);
  phase("gRPC proxy");
  ProxyBenchmarks(o.proxy_watchers, &body);
  phase("footprint");
  run.Footprint(&body);
  phase("views");
  const double view_ratio =
      ViewBenchmarks((*cluster)->endpoints(), o.samples, o.out, &body);
  phase("membership");
  MembershipBenchmarks((*cluster)->endpoints(), o.kills, o.samples, o.out,
                       &body);
  phase("fleet");
  FleetBenchmarks((*cluster)->endpoints(), o.cli, 1000, 60, &body);
  phase("grpc");
  GrpcBenchmarks((*cluster)->endpoints(), 50, &body);
  phase("clientv3 peer");
  const PeerFigures peer = PeerBenchmarks((*cluster)->endpoints(), o.peer, o.samples,
                                          o.kills, run.figures(), o.out, &body);
  std::ofstream(o.out + "/report.md") << run.Targets(view_ratio, peer) << body;
  return 0;
}

}  // namespace
}  // namespace etcdisc::bench

int main(int argc, char** argv) {
  using namespace etcdisc::bench;
  self_path = argv[0];
  // A helper that died must fail its section, not end this process at a
  // write to its stdin.
  ::signal(SIGPIPE, SIG_IGN);
  const std::string role = argc > 1 ? argv[1] : "";
  if (role == "run" && argc >= 3) return RoleRun(argc, argv);
  if (role == "subscribe" && argc == 4) return RoleSubscribe(argv[2], argv[3]);
  if (role == "raw-watch" && argc == 4) return RoleRawWatch(argv[2], argv[3]);
  if (role == "register-one" && argc == 5) {
    return RoleRegisterOne(argv[2], argv[3], std::atoi(argv[4]));
  }
  if (role == "register-many" && argc == 6) {
    return RoleRegisterMany(argv[2], std::atoi(argv[3]), std::atoi(argv[4]),
                            std::atoi(argv[5]));
  }
  if (role == "idle" && argc == 3) return RoleIdle(argv[2]);
  if (role == "view" && argc == 4) return RoleView(argv[2], argv[3]);
  if (role == "member" && argc == 6) {
    return RoleMember(argv[2], argv[3], argv[4], std::atoi(argv[5]));
  }
  std::fprintf(stderr,
               "usage: %s run OUT_DIR [--samples=N] [--kills=N] [--cli=PATH] "
               "[--clientv3-peer=PATH] [--proxy-watchers=N] "
               "[--only=latencies|throughput|membership|fleet|grpc|peer|cluster|proxy]\n",
               argv[0]);
  return 2;
}
