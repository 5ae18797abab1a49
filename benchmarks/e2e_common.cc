#include "benchmarks/e2e_common.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace etcdisc::bench {

std::string self_path;

void Emit(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

std::unique_ptr<Client> MakeClient(const std::string& endpoints) {
  absl::StatusOr<ClientOptions> options = ClientOptionsFromEnvironment();
  if (!options.ok()) {
    std::fprintf(stderr, "%s\n", options.status().ToString().c_str());
    std::exit(1);
  }
  options->endpoints = endpoints;
  auto client = Client::Create(*options);
  if (!client.ok()) {
    std::fprintf(stderr, "%s\n", client.status().ToString().c_str());
    std::exit(1);
  }
  return *std::move(client);
}

std::string ms3(double v) { return absl::StrFormat("%.3f", v); }

std::string Row(const std::string& name, const Summary& s) {
  return absl::StrCat("| ", name, " | ", s.n, " | ", ms3(s.p50), " | ", ms3(s.p90),
                      " | ", ms3(s.p99), " | ", ms3(s.max), " |\n");
}

int64_t AwaitEvent(BackgroundProcess& watcher, const std::string& tag,
                   const std::string& id, milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  const std::string suffix = absl::StrCat(" ", tag, " ", id);
  while (std::chrono::steady_clock::now() < until) {
    auto line = watcher.ReadLine(milliseconds(200));
    if (!line) continue;
    if (line->size() > suffix.size() &&
        line->compare(line->size() - suffix.size(), suffix.size(), suffix) == 0) {
      return std::atoll(line->c_str());
    }
  }
  return -1;
}

std::unique_ptr<BackgroundProcess> Helper(
    std::vector<std::string> args, std::string* ready,
    const std::map<std::string, std::string>& env) {
  args.insert(args.begin(), self_path);
  auto p = std::make_unique<BackgroundProcess>(args, env);
  auto line = p->ReadLine(seconds(120));
  if (!line || line->rfind("READY", 0) != 0) {
    std::fprintf(stderr, "helper %s did not start\n", args[1].c_str());
    std::exit(1);
  }
  if (ready != nullptr) *ready = line->substr(std::min<size_t>(6, line->size()));
  return p;
}

}  // namespace etcdisc::bench
