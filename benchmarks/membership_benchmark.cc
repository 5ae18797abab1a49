#include "benchmarks/membership_benchmark.h"

#include <cstdlib>
#include <random>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "benchmarks/e2e_common.h"
#include "etcdisc/membership.h"

namespace etcdisc::bench {
namespace {

std::string Incarnation(const Member& m) {
  return absl::StrCat(m.node, "@", m.revision);
}

// A member killed -9 at a random point of its keep-alive cycle (TTL 2 s),
// `kills` times: when the observer's view says down, and when its cleanup
// callback runs.
void Kills(const std::string& endpoints, int kills, const std::string& out_dir,
           std::string* report) {
  auto observer = Helper({"member", endpoints, "bench", "observer", "2000"});
  std::mt19937 rng(11);
  std::vector<double> down, cleanup;
  for (int k = 0; k < kills; ++k) {
    const std::string node = absl::StrCat("victim-", k);
    std::string ready;
    WaitRandomPointOfExpiryScan(rng);
    auto victim = Helper({"member", endpoints, "bench", node, "2000"}, &ready);
    const std::string id = absl::StrCat(node, "@", ready);
    if (AwaitEvent(*observer, "U", id, seconds(10)) < 0) std::exit(1);
    const int64_t t0 = KillAtRandomPoint(*victim, rng);
    const int64_t t1 = AwaitEvent(*observer, "D", id, seconds(20));
    const int64_t t2 = AwaitEvent(*observer, "C", id, seconds(20));
    if (t1 < 0 || t2 < 0) std::exit(1);
    down.push_back((t1 - t0) / 1e6);
    cleanup.push_back((t2 - t0) / 1e6);
  }
  const Summary d = Summarize(down), c = Summarize(cleanup);
  WriteCdf(out_dir + "/member_kill_down.dat", down);
  absl::StrAppend(report,
      "### kill -9 of a member -> down seen by another, at TTL 2 s (ms)\n\n",
      absl::StrFormat("%zu kills at random points of the keep-alive cycle.\n\n",
                      d.n),
      "| Path | n | p50 | p90 | p99 | max |\n|---|---|---|---|---|---|\n",
      Row("kill -9 -> the other member's view: down", d),
      Row("kill -9 -> its OnNodeDown callback ran (claimed in etcd)", c),
      "\n");
}

// Join (a new node id each time) until it returns, and until the
// observer's view shows it up; then Leave.
void Joins(const std::string& endpoints, int samples, std::string* report) {
  auto observer = Helper({"member", endpoints, "bench", "observer", "2000"});
  auto client = MakeClient(endpoints);
  std::vector<double> joined, seen;
  for (int i = -20; i < samples; ++i) {
    const int64_t t0 = NowNs();
    auto member = Join(*client, "bench", absl::StrCat("joiner-", i + 20));
    const int64_t t1 = NowNs();
    if (!member.ok()) std::exit(1);
    const int64_t t2 =
        AwaitEvent(*observer, "U",
                   absl::StrCat((*member)->node(), "@", (*member)->revision()),
                   seconds(10));
    if (t2 < 0 || !(*member)->Leave().ok()) std::exit(1);
    if (i < 0) continue;  // Warm-up.
    joined.push_back((t1 - t0) / 1e6);
    seen.push_back((t2 - t0) / 1e6);
  }
  absl::StrAppend(report,
      "### Join latency (ms)\n\n"
      "A new node id each time (a lease grant and one Txn); Leave between.\n\n"
      "| Path | n | p50 | p90 | p99 | max |\n|---|---|---|---|---|---|\n",
      Row("Join returns", Summarize(joined)),
      Row("Join -> up in another member's view", Summarize(seen)), "\n");
}

}  // namespace

int RoleMember(const std::string& endpoints, const std::string& cluster,
               const std::string& node, int ttl_ms) {
  auto client = MakeClient(endpoints);
  JoinOptions options;
  options.ttl = milliseconds(ttl_ms);
  auto member = Join(*client, cluster, node, options);
  if (!member.ok()) return 1;
  if (node == "observer") {
    (*member)->view().OnEvent([](const MembershipEvent& e) {
      const int64_t t = NowNs();
      if (e.kind == MembershipEvent::Kind::kUp) {
        Emit(absl::StrCat(t, " U ", Incarnation(e.member)));
      } else if (e.kind == MembershipEvent::Kind::kDown) {
        Emit(absl::StrCat(t, " D ", Incarnation(e.member)));
      }
    });
    auto cleanup = (*member)->OnNodeDown([](const Member& down) {
      Emit(absl::StrCat(NowNs(), " C ", Incarnation(down)));
    });
    if (!cleanup.ok()) return 1;
  }
  Emit(absl::StrCat("READY ", (*member)->revision()));
  while (true) std::this_thread::sleep_for(seconds(60));
}

void MembershipBenchmarks(const std::string& endpoints, int kills,
                          int samples, const std::string& out_dir,
                          std::string* report) {
  absl::StrAppend(report, "## 10. Cluster membership\n\n");
  Kills(endpoints, kills, out_dir, report);
  Joins(endpoints, samples, report);
}

}  // namespace etcdisc::bench
