#include "benchmarks/view_benchmark.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "benchmarks/e2e_common.h"
#include "etcd/etcd_client.h"
#include "etcdisc/view.h"

namespace etcdisc::bench {
namespace {

// Prints the hosts a call adds and removes; the first call (the hosts at
// start) only sets what is known. Runs on the client's callback thread, one
// call of a view at a time: `known` needs no lock.
ServiceView::ChangeCallback DiffPrinter() {
  auto known = std::make_shared<std::optional<std::set<std::string>>>();
  return [known](const HostSnapshot& snapshot) {
    const int64_t t = NowNs();
    std::set<std::string> now;
    for (const Host& host : snapshot.hosts()) now.insert(host.uuid);
    if (known->has_value()) {
      for (const std::string& uuid : now) {
        if (!(*known)->count(uuid)) Emit(absl::StrCat(t, " N ", uuid));
      }
      for (const std::string& uuid : **known) {
        if (!now.count(uuid)) Emit(absl::StrCat(t, " D ", uuid));
      }
    }
    *known = std::move(now);
  };
}

std::string Ratio(const Summary& a, const Summary& b) {
  return absl::StrFormat("p50 %.2fx, p99 %.2fx", a.p50 / b.p50, a.p99 / b.p99);
}

struct ChangeTimes {
  std::vector<double> put, deleted;  // ms from the write to the helper's line
};

// Puts a host record of viewbench under a lease and deletes it, `samples`
// times after 50 for warm-up, timing when `observer` prints each: by the key
// (a raw watch) or by the uuid (a view).
ChangeTimes TimeChanges(internal::EtcdClient& raw, BackgroundProcess& observer,
                        bool by_key, int samples) {
  auto lease = raw.lease().Grant(seconds(60));
  if (!lease.ok()) std::exit(1);
  ChangeTimes times;
  for (int i = -50; i < samples; ++i) {
    Host host;
    host.name = "10.4.0.1";
    host.ports = {{"http", "80"}};
    host.service_name = "viewbench";
    host.uuid = absl::StrCat("view-", by_key, "-", i + 50);
    const std::string key = "/services/viewbench/" + host.uuid;
    const std::string id = by_key ? key : host.uuid;
    const int64_t t0 = NowNs();
    if (!raw.kv().Put({key, ToJson(host), lease->id, false}).ok()) std::exit(1);
    const int64_t t1 = AwaitEvent(observer, by_key ? "P" : "N", id, seconds(10));
    const int64_t t2 = NowNs();
    internal::DeleteRequest del;
    del.key = key;
    if (!raw.kv().Delete(del).ok()) std::exit(1);
    const int64_t t3 = AwaitEvent(observer, "D", id, seconds(10));
    if (t1 < 0 || t3 < 0) std::exit(1);
    if (i < 0) continue;  // Warm-up.
    times.put.push_back((t1 - t0) / 1e6);
    times.deleted.push_back((t3 - t2) / 1e6);
  }
  raw.lease().Revoke(lease->id).IgnoreError();
  return times;
}

// The same changes seen by a raw watch, then by a view, each alone in its
// process (on 2 cores, two observers at once would queue for a CPU).
double ChangeToCallback(const std::string& endpoints, int samples,
                        const std::string& out_dir, std::string* report) {
  auto raw = RawClient(endpoints);
  auto raw_watch = Helper({"raw-watch", endpoints, "/services/viewbench/"});
  const ChangeTimes floor = TimeChanges(*raw, *raw_watch, true, samples);
  raw_watch.reset();
  auto view = Helper({"view", endpoints, "viewbench"});
  const ChangeTimes viewed = TimeChanges(*raw, *view, false, samples);
  const Summary pw = Summarize(floor.put), pv = Summarize(viewed.put);
  const Summary dw = Summarize(floor.deleted), dv = Summarize(viewed.deleted);
  WriteCdf(out_dir + "/view_floor_put.dat", floor.put);
  WriteCdf(out_dir + "/view_on_change_put.dat", viewed.put);
  absl::StrAppend(report,
      "### A change -> OnChange, against the raw watch floor (ms)\n\n"
      "A host record put under a lease, then deleted, seen by a raw watch "
      "(the etcd layer, no decoding) and then, in the same run, by a "
      "ServiceView's OnChange, each in a process of its own.\n\n"
      "| Path | n | p50 | p90 | p99 | max |\n|---|---|---|---|---|---|\n",
      Row("floor: raw put -> raw watch", pw),
      Row("raw put -> ServiceView OnChange", pv),
      Row("floor: raw delete -> raw watch", dw),
      Row("raw delete -> ServiceView OnChange", dv),
      "\nOnChange over the floor: put ", Ratio(pv, pw), "; delete ",
      Ratio(dv, dw), ".\n\n![CDF](view_on_change.png)\n\n");
  return pv.p50 / pw.p50;
}

// ns per hosts() call with `threads` threads reading one view at once.
double HostsCallNs(const ServiceView& view, int threads) {
  constexpr int kCalls = 200000;
  std::atomic<size_t> sink{0};
  std::vector<std::thread> readers;
  const int64_t t0 = NowNs();
  for (int t = 0; t < threads; ++t) {
    readers.emplace_back([&] {
      size_t total = 0;
      for (int i = 0; i < kCalls; ++i) total += view.hosts().size();
      sink += total;
    });
  }
  for (auto& r : readers) r.join();
  if (sink == 0) std::exit(1);
  return static_cast<double>(NowNs() - t0) / kCalls;
}

void ReadsAgainstGet(const std::string& endpoints, std::string* report) {
  auto client = MakeClient(endpoints);
  absl::StrAppend(report,
      "### Reading a view against a Get\n\n"
      "| Service size | view hosts(), 1 thread | hosts(), 8 threads at once "
      "(per call) | Get p50 | Get p50 / hosts() |\n|---|---|---|---|---|\n");
  for (int size : {10, 1000}) {
    const std::string service = absl::StrCat("get", size);
    auto view = ServiceView::Open(*client, service);
    if (!view.ok() || !(*view)->WaitReady(seconds(30)).ok()) std::exit(1);
    if ((*view)->hosts().size() != static_cast<size_t>(size)) std::exit(1);
    const double one = HostsCallNs(**view, 1);
    const double eight = HostsCallNs(**view, 8);
    std::vector<double> gets;
    for (int i = -20; i < 300; ++i) {
      const int64_t t0 = NowNs();
      if (!client->Get(service).ok()) std::exit(1);
      if (i >= 0) gets.push_back((NowNs() - t0) / 1e6);
    }
    const Summary get = Summarize(gets);
    absl::StrAppend(report, absl::StrFormat(
        "| %d hosts | %.0f ns | %.0f ns | %.3f ms | %.0fx |\n", size, one,
        eight, get.p50, get.p50 * 1e6 / one));
  }
  absl::StrAppend(report, "\n");
}

void ThousandViews(const std::string& endpoints, std::string* report) {
  auto client = MakeClient(endpoints);
  std::string one_ready, many_ready;
  auto one = Helper({"view", endpoints, "svc-500"}, &one_ready);
  const Summary idle = RegisterToNew(*client, *one, "svc-500");
  const long one_threads = ThreadCount(one->pid());
  one.reset();

  std::vector<std::string> names;
  for (int s = 0; s < 1000; ++s) names.push_back(absl::StrCat("svc-", s));
  const int64_t t0 = NowNs();
  auto many = Helper({"view", endpoints, absl::StrJoin(names, ",")}, &many_ready);
  const double open_s = (NowNs() - t0) / 1e9;
  const long rss = RssKiB(many->pid());
  const Summary loaded = RegisterToNew(*client, *many, "svc-500");
  absl::StrAppend(report,
      "### 1,000 views in one process (1,000 services x 10 hosts)\n\n",
      absl::StrFormat(
          "- all 1,000 ready in %.1f s; RSS %.1f MiB; threads %s (one view: "
          "%ld);\n- its gRPC streams: %s (watch streams opened, keep-alive "
          "streams opened, watchers, threads);\n",
          open_s, rss / 1024.0,
          std::vector<std::string>(absl::StrSplit(many_ready, ' ')).back(),
          one_threads, many_ready),
      "\n| Register -> OnChange of svc-500 (ms) | n | p50 | p90 | p99 | max "
      "|\n|---|---|---|---|---|---|\n",
      Row("one view in the process", idle),
      Row("1,000 views in the process", loaded),
      "\n1,000 views over one: ", Ratio(loaded, idle), ".\n\n");
}

}  // namespace

int RoleView(const std::string& endpoints, const std::string& services) {
  auto client = MakeClient(endpoints);
  std::vector<std::unique_ptr<ServiceView>> views;
  for (absl::string_view service : absl::StrSplit(services, ',')) {
    auto view = ServiceView::Open(*client, service);
    if (!view.ok()) return 1;
    (*view)->OnChange(DiffPrinter());
    views.push_back(*std::move(view));
  }
  for (const auto& view : views) {
    if (!view->WaitReady(seconds(120)).ok()) return 1;
  }
  const ClientStats stats = client->Stats();
  Emit(absl::StrCat("READY ", stats.watch_streams_opened, " ",
                    stats.keepalive_streams_opened, " ", stats.watchers, " ",
                    ThreadCount(getpid())));
  while (true) std::this_thread::sleep_for(seconds(1));
}

double ViewBenchmarks(const std::string& endpoints, int samples,
                      const std::string& out_dir, std::string* report) {
  absl::StrAppend(report, "## 8. Live views (ServiceView)\n\n");
  const double ratio = ChangeToCallback(endpoints, samples, out_dir, report);
  ReadsAgainstGet(endpoints, report);
  ThousandViews(endpoints, report);
  return ratio;
}

}  // namespace etcdisc::bench
