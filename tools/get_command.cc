// etcdisc get SERVICE: the hosts of a service, as a table, JSON, or a URL.
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gflags/gflags.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "tools/table.h"

DEFINE_bool(first, false, "get: only the first host");
DEFINE_bool(one, false, "get: only one host, at random");
DEFINE_string(url, "", "get: print the URL for this scheme (http, https, ...)");
DEFINE_string(path, "", "get: path appended to the URL, e.g. /health");
DEFINE_bool(private, false, "get: the private URL (private hostname and ports)");

DECLARE_bool(json);
DECLARE_bool(show_secrets);
DECLARE_string(shard);

namespace etcdisc::cli {
namespace {

// Hides the password of a "scheme://user:password@host" URL unless
// --show-secrets.
std::string MaskUrl(std::string url) {
  if (FLAGS_show_secrets) return url;
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return url;
  const size_t user_start = scheme_end + 3;
  const size_t at = url.rfind('@');
  const size_t colon = url.find(':', user_start);
  if (at == std::string::npos || at < user_start || colon > at) return url;
  url.replace(colon + 1, at - colon - 1, "*****");
  return url;
}

absl::StatusOr<std::vector<Host>> Select(const ServiceHosts& hosts) {
  if (FLAGS_first) {
    auto h = hosts.First();
    if (!h.ok()) return h.status();
    return std::vector<Host>{*h};
  }
  if (FLAGS_one) {
    auto h = hosts.One();
    if (!h.ok()) return h.status();
    return std::vector<Host>{*h};
  }
  return hosts.All();
}

int PrintUrl(const ServiceHosts& hosts) {
  absl::StatusOr<std::string> url;
  if (FLAGS_private || FLAGS_first || FLAGS_one) {
    auto selected = Select(hosts);
    if (!selected.ok()) return Fail(selected.status());
    const Host& h = selected->front();
    url = FLAGS_private ? h.PrivateURL(FLAGS_url, FLAGS_path)
                        : h.URL(FLAGS_url, FLAGS_path);
  } else {
    url = hosts.URL(FLAGS_url, FLAGS_path);  // As the Go package builds it.
  }
  if (!url.ok()) return Fail(url.status());
  std::printf("%s\n", MaskUrl(*url).c_str());
  return kOk;
}

std::string PortsText(const Ports& ports) {
  return absl::StrJoin(ports, ",", absl::PairFormatter("="));
}

void PrintTable(const std::vector<Host>& hosts) {
  Table table({"UUID", "HOSTNAME", "PORTS", "PRIVATE", "SHARD", "FLAGS", "USER"});
  for (const Host& h : hosts) {
    std::vector<std::string> flags;
    if (h.is_public) flags.push_back("public");
    if (h.critical) flags.push_back("critical");
    std::string user = h.user;
    if (!h.password.empty()) {
      user += FLAGS_show_secrets ? ":" + h.password : ":*****";
    }
    table.AddRow({h.uuid, h.name, PortsText(h.ports),
                  h.private_hostname.empty()
                      ? "-"
                      : absl::StrCat(h.private_hostname, " ",
                                     PortsText(h.private_ports)),
                  h.shard.empty() ? "-" : h.shard,
                  flags.empty() ? "-" : absl::StrJoin(flags, ","),
                  user.empty() ? "-" : user});
  }
  table.Print(stdout);
}

}  // namespace

int RunGet(const std::vector<std::string>& args) {
  if (args.size() != 2) return UsageError("get takes one SERVICE");
  if (FLAGS_first && FLAGS_one) {
    return UsageError("--first and --one cannot be used together");
  }
  auto client = ClientFromFlags();
  if (!client.ok()) return Fail(client.status());
  auto hosts = FLAGS_shard.empty()
                   ? (*client)->Get(args[1])
                   : (*client)->GetForShard(args[1], FLAGS_shard);
  if (!hosts.ok()) return Fail(hosts.status());
  if (!FLAGS_url.empty() || FLAGS_private) return PrintUrl(*hosts);

  auto selected = Select(*hosts);
  if (!selected.ok()) return Fail(selected.status());
  if (FLAGS_json) {
    std::vector<std::string> records;
    for (const Host& h : *selected) records.push_back(ToJson(Redacted(h)));
    std::printf("[%s]\n", absl::StrJoin(records, ",").c_str());
  } else {
    PrintTable(*selected);
  }
  return kOk;
}

}  // namespace etcdisc::cli
