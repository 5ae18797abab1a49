// etcdisc watch SERVICE: hosts that appear and go down, until interrupted.
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gflags/gflags.h"
#include "tools/cli.h"
#include "tools/commands.h"

DEFINE_string(events, "new,down", "watch: which events to print: new, down");
DEFINE_bool(existing, false, "watch: first print the hosts present as new");

DECLARE_bool(snapshot);
DECLARE_string(exec);

DECLARE_bool(json);

namespace etcdisc::cli {
namespace {

void Print(const std::string& service, const HostEvent& e) {
  const bool is_new = e.kind == HostEvent::Kind::kNew;
  if (FLAGS_json) {
    std::string line = absl::StrCat(
        "{\"event\":", is_new ? "\"new\"" : "\"down\"",
        ",\"service\":", JsonString(service), ",\"uuid\":", JsonString(e.uuid()));
    if (is_new) absl::StrAppend(&line, ",\"host\":", ToJson(Redacted(e.host)));
    std::printf("%s}\n", line.c_str());
  } else {
    const std::string when =
        absl::FormatTime("%H:%M:%E3S", absl::Now(), absl::LocalTimeZone());
    std::string detail;
    if (is_new) {
      detail = absl::StrCat(
          "  ", e.host.name, " ",
          absl::StrJoin(e.host.ports, ",", absl::PairFormatter("=")));
    }
    std::printf("%s  %-4s  %s  %s%s\n", when.c_str(), is_new ? "new" : "down",
                service.c_str(), e.uuid().c_str(), detail.c_str());
  }
  std::fflush(stdout);
}

}  // namespace

int RunWatch(const std::vector<std::string>& args) {
  if (args.size() != 2) return UsageError("watch takes one SERVICE");
  bool want_new = false;
  bool want_down = false;
  for (absl::string_view e : absl::StrSplit(FLAGS_events, ',', absl::SkipEmpty())) {
    if (e == "new") {
      want_new = true;
    } else if (e == "down") {
      want_down = true;
    } else {
      return UsageError(absl::StrCat("invalid --events item \"", e,
                                     "\": expected new or down"));
    }
  }
  if (!want_new && !want_down) return UsageError("--events is empty");

  if (!FLAGS_exec.empty() && !FLAGS_snapshot) {
    return UsageError("--exec needs --snapshot");
  }
  BlockTerminationSignals();
  auto client = ClientFromFlags();
  if (!client.ok()) return Fail(client.status());
  if (FLAGS_snapshot) return RunWatchSnapshot(**client, args[1]);
  SubscribeOptions options;
  options.existing = FLAGS_existing;
  auto events = (*client)->Subscribe(args[1], options);
  if (!events.ok()) return Fail(events.status());
  while (TakeTerminationSignal(std::chrono::milliseconds(0)) == 0) {
    auto e = (*events)->Pop(std::chrono::milliseconds(100));
    if (e) {
      const bool is_new = e->kind == HostEvent::Kind::kNew;
      if ((is_new && want_new) || (!is_new && want_down)) Print(args[1], *e);
    } else if (!(*events)->status().ok()) {
      return Fail((*events)->status());
    }
  }
  return kOk;
}

}  // namespace etcdisc::cli
