// etcdisc cluster join|members|watch CLUSTER: cluster membership from the
// command line.
#include <signal.h>
#include <sys/types.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "etcdisc/membership.h"
#include "gflags/gflags.h"
#include "tools/child_process.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "tools/table.h"
#include "util/event_queue.h"

DEFINE_string(node, "",
              "cluster join: this member's node id, unique among the live "
              "members (default: <hostname>:$PORT)");
DEFINE_string(meta, "", "cluster join: KEY=VALUE,... published with the node");
DEFINE_string(on_down, "",
              "cluster join: run /bin/sh -c CMD once in the whole cluster for "
              "each member that goes down: its node id in $1 and "
              "$ETCDISC_NODE, the members still up in $ETCDISC_MEMBERS");

DECLARE_string(ttl);
DECLARE_bool(json);

namespace etcdisc::cli {
namespace {

constexpr auto kDefaultMemberTtl = std::chrono::seconds(2);

std::string Since(const Member& m) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromChrono(m.since),
                          absl::UTCTimeZone());
}

std::string MetaJson(const Member& m) {
  std::vector<std::string> items;
  for (const auto& [key, value] : m.meta) {
    items.push_back(absl::StrCat(JsonString(key), ":", JsonString(value)));
  }
  return absl::StrCat("{", absl::StrJoin(items, ","), "}");
}

const char* EventWord(MembershipEvent::Kind kind) {
  switch (kind) {
    case MembershipEvent::Kind::kUp:
      return "up";
    case MembershipEvent::Kind::kDown:
      return "down";
    case MembershipEvent::Kind::kLeader:
      break;
  }
  return "leader";
}

void PrintEvent(const MembershipEvent& e) {
  if (FLAGS_json) {
    std::printf("{\"event\":\"%s\",\"cluster\":%s,\"node\":%s}\n",
                EventWord(e.kind), JsonString(e.cluster).c_str(),
                JsonString(e.member.node).c_str());
  } else {
    const std::string when =
        absl::FormatTime("%H:%M:%E3S", absl::Now(), absl::LocalTimeZone());
    std::printf("%s  %-6s  %s  %s\n", when.c_str(), EventWord(e.kind),
                e.cluster.c_str(),
                e.member.node.empty() ? "(none)" : e.member.node.c_str());
  }
  std::fflush(stdout);
}

absl::StatusOr<std::map<std::string, std::string>> ParseMeta() {
  std::map<std::string, std::string> meta;
  for (absl::string_view item :
       absl::StrSplit(FLAGS_meta, ',', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(item, absl::MaxSplits('=', 1));
    if (kv.first.empty() || item.find('=') == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid --meta item \"", item, "\": expected KEY=VALUE"));
    }
    meta[std::string(kv.first)] = std::string(kv.second);
  }
  return meta;
}

absl::StatusOr<JoinOptions> JoinOptionsFromFlags() {
  JoinOptions options;
  options.ttl = kDefaultMemberTtl;
  if (!gflags::GetCommandLineFlagInfoOrDie("ttl").is_default) {
    auto ttl = ParseDuration("ttl", FLAGS_ttl);
    if (!ttl.ok()) return ttl.status();
    options.ttl = *ttl;
  }
  auto meta = ParseMeta();
  if (!meta.ok()) return meta.status();
  options.meta = std::move(*meta);
  return options;
}

// Runs --on-down for `down` and waits for it, on the client's callback
// thread: the claim is marked done only once it has finished. Its process
// group is in `running` meanwhile, for the main thread to pass a signal on.
void RunOnDown(const Member& down, const std::string& members,
               std::atomic<pid_t>* running) {
  // $1 and the variables are set before the command, which runs as given.
  const std::string script = absl::StrCat(
      "export ETCDISC_NODE=\"$1\" ETCDISC_MEMBERS=\"$2\"; set -- \"$1\"; ",
      FLAGS_on_down);
  auto child = ChildProcess::Start(
      {"/bin/sh", "-c", script, "etcdisc-on-down", down.node, members});
  if (!child.ok()) {
    std::fprintf(stderr, "etcdisc: --on-down for %s: %s\n", down.node.c_str(),
                 std::string(child.status().message()).c_str());
    return;
  }
  running->store(child->pid());
  std::optional<int> status;
  while (!(status = child->Poll())) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  running->store(0);
  if (*status != 0) {
    std::fprintf(stderr, "etcdisc: --on-down for %s exited with %d\n",
                 down.node.c_str(), *status);
  }
}

std::string NodeList(const std::vector<Member>& members) {
  std::vector<std::string> nodes;
  for (const Member& m : members) nodes.push_back(m.node);
  return absl::StrJoin(nodes, ",");
}

// Prints the events of `view` until SIGINT or SIGTERM, or until `stop`
// says to (a membership that can no longer be held). Returns the signal.
int FollowUntilSignal(ClusterView& view,
                      const std::function<absl::Status()>& stop,
                      const std::atomic<pid_t>* child, int* exit_code) {
  auto events = std::make_shared<internal::EventQueue<MembershipEvent>>();
  const uint64_t id =
      view.OnEvent([events](const MembershipEvent& e) { events->Push(e); });
  int taken = 0;
  while ((taken = TakeTerminationSignal(std::chrono::milliseconds(0))) == 0) {
    if (auto e = events->Pop(std::chrono::milliseconds(100))) PrintEvent(*e);
    absl::Status why = stop();
    if (!why.ok()) {
      *exit_code = Fail(why);
      break;
    }
  }
  if (taken != 0 && child != nullptr && child->load() != 0) {
    ::kill(-child->load(), taken);  // The --on-down command's group.
  }
  view.RemoveCallback(id);
  while (auto e = events->TryPop()) PrintEvent(*e);
  return taken;
}

int Join(const std::string& cluster) {
  auto options = JoinOptionsFromFlags();
  if (!options.ok()) return Fail(options.status());
  BlockTerminationSignals();
  auto client = ClientFromFlags();
  if (!client.ok()) return Fail(client.status());
  auto member = etcdisc::Join(**client, cluster, FLAGS_node, *options);
  if (!member.ok()) return Fail(member.status());
  Membership& m = **member;
  auto child = std::make_shared<std::atomic<pid_t>>(0);
  if (!FLAGS_on_down.empty()) {
    auto added = m.OnNodeDown([&m, child](const Member& down) {
      RunOnDown(down, NodeList(m.view().members()), child.get());
    });
    if (!added.ok()) return Fail(added.status());
  }
  int exit_code = kOk;
  // Displaced by another process, or refused by etcd: nothing to hold.
  auto lost = [&m]() -> absl::Status {
    absl::Status s = m.status();
    return absl::IsAlreadyExists(s) || absl::IsPermissionDenied(s) ||
                   absl::IsUnauthenticated(s)
               ? s
               : absl::OkStatus();
  };
  FollowUntilSignal(m.view(), lost, child.get(), &exit_code);
  const absl::Status left = m.Leave();
  if (!left.ok()) {
    std::fprintf(stderr, "etcdisc: %s\n", std::string(left.message()).c_str());
  }
  return exit_code;
}

int Watch(const std::string& cluster) {
  BlockTerminationSignals();
  auto client = ClientFromFlags();
  if (!client.ok()) return Fail(client.status());
  auto view = ClusterView::Open(**client, cluster);
  if (!view.ok()) return Fail(view.status());
  int exit_code = kOk;
  ClusterView& v = **view;
  FollowUntilSignal(v, [&v] { return v.status(); }, nullptr, &exit_code);
  return exit_code;
}

int ListMembers(const std::string& cluster) {
  auto client = ClientFromFlags();
  if (!client.ok()) return Fail(client.status());
  auto members = etcdisc::Members(**client, cluster);
  if (!members.ok()) return Fail(members.status());
  if (members->empty()) {
    return Fail(absl::NotFoundError(absl::StrCat(
        "cluster \"", cluster.empty() ? "default" : cluster,
        "\" has no member")));
  }
  // Members() is oldest first: the leader is the first.
  if (FLAGS_json) {
    std::vector<std::string> items;
    for (size_t i = 0; i < members->size(); ++i) {
      const Member& m = (*members)[i];
      items.push_back(absl::StrCat(
          "{\"node\":", JsonString(m.node), ",\"since\":",
          JsonString(Since(m)), ",\"meta\":", MetaJson(m),
          ",\"leader\":", i == 0 ? "true" : "false", ",\"hostname\":",
          JsonString(m.hostname), ",\"revision\":", m.revision, "}"));
    }
    std::printf("[%s]\n", absl::StrJoin(items, ",").c_str());
    return kOk;
  }
  Table table({"NODE", "SINCE", "LEADER", "HOSTNAME", "META"});
  for (size_t i = 0; i < members->size(); ++i) {
    const Member& m = (*members)[i];
    table.AddRow({m.node, Since(m), i == 0 ? "yes" : "", m.hostname,
                  absl::StrJoin(m.meta, ",", absl::PairFormatter("="))});
  }
  table.Print(stdout);
  return kOk;
}

}  // namespace

int RunCluster(const std::vector<std::string>& args) {
  if (args.size() != 3) {
    return UsageError(
        "cluster takes a subcommand (join, members or watch) and a CLUSTER");
  }
  const std::string& sub = args[1];
  if (sub != "join" && (!FLAGS_node.empty() || !FLAGS_meta.empty() ||
                        !FLAGS_on_down.empty())) {
    return UsageError("--node, --meta and --on-down are for cluster join");
  }
  if (sub == "join") return Join(args[2]);
  if (sub == "members") return ListMembers(args[2]);
  if (sub == "watch") return Watch(args[2]);
  return UsageError(absl::StrCat("unknown cluster subcommand \"", sub,
                                 "\": expected join, members or watch"));
}

}  // namespace etcdisc::cli
