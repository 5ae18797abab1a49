// etcdisc: register, find and watch services in etcd from the command line.
#include <csignal>
#include <cstdio>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "absl/debugging/failure_signal_handler.h"
#include "absl/debugging/symbolize.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "etcdisc/log.h"
#include "etcdisc/version.h"
#include "gflags/gflags.h"
#include "grpc/support/log.h"
#include "tools/cli.h"
#include "tools/commands.h"

namespace etcdisc::cli {
namespace {

const std::vector<std::string> kCommonFlags = {
    "endpoints", "cacert",    "cert",         "key",
    "etcd_user", "etcd_password_file", "timeout", "prefix",
    "json",      "show_secrets", "log_level"};

constexpr char kExitCodes[] =
    "Exit codes: 0 success; 1 nothing found (no such service, no host);\n"
    "2 bad usage or invalid argument; 3 etcd unreachable or timed out (a\n"
    "failed TLS handshake included); 4 etcd refused the user or its\n"
    "permission; 5 the node id is held by a live member (cluster join).\n";

std::string FlagHelp(const std::string& name) {
  gflags::CommandLineFlagInfo info;
  if (!gflags::GetCommandLineFlagInfo(name.c_str(), &info)) return "";
  std::string description = info.description;
  // "register: ..." -> "..." (the prefix says which command uses the flag).
  const size_t colon = description.find(": ");
  if (colon != std::string::npos && colon < 20) {
    description = description.substr(colon + 2);
  }
  std::string flag = absl::StrReplaceAll(name, {{"_", "-"}});
  if (info.type != "bool") flag += "=" + info.default_value;
  return absl::StrCat("  --", flag, "\n      ", description, "\n");
}

void PrintUsage() {
  std::string text =
      "etcdisc: service discovery on etcd v3.\n\n"
      "Usage: etcdisc COMMAND [flags]\n\nCommands:\n";
  for (const Command& c : Commands()) {
    absl::StrAppend(&text, "  ", c.name, std::string(10 - strlen(c.name), ' '),
                    c.synopsis, "\n");
  }
  absl::StrAppend(&text, "\nFlags of every command:\n");
  for (const auto& f : kCommonFlags) absl::StrAppend(&text, FlagHelp(f));
  absl::StrAppend(&text,
                  "\n`etcdisc COMMAND --help` lists a command's own flags; "
                  "`etcdisc --version` prints the version.\n",
                  kExitCodes);
  std::fputs(text.c_str(), stdout);
}

void PrintCommandUsage(const Command& c) {
  std::string text = absl::StrCat("Usage: etcdisc ", c.name, " ", c.usage,
                                  "\n\n", c.synopsis, "\n");
  if (!c.flags.empty()) absl::StrAppend(&text, "\nFlags:\n");
  for (const auto& f : c.flags) absl::StrAppend(&text, FlagHelp(f));
  absl::StrAppend(&text, "\nFlags of every command:\n");
  for (const auto& f : kCommonFlags) absl::StrAppend(&text, FlagHelp(f));
  absl::StrAppend(&text, "\nExamples:\n", c.examples, "\n", kExitCodes);
  std::fputs(text.c_str(), stdout);
}

// Checks every --flag against the command's flags (gflags would accept any
// command's flag), and spells them the way gflags knows them (dashes become
// underscores). Returns the index of a --help, 0 if none, or -1 after
// printing an error.
int NormalizeFlags(const Command& command, std::vector<std::string>* args) {
  std::set<std::string> allowed(kCommonFlags.begin(), kCommonFlags.end());
  allowed.insert(command.flags.begin(), command.flags.end());
  for (size_t i = 1; i < args->size(); ++i) {
    std::string& arg = (*args)[i];
    if (arg == "--") break;
    if (arg.size() < 2 || arg[0] != '-') continue;
    std::string body = arg.substr(arg[1] == '-' ? 2 : 1);
    if (body == "help" || body == "h") return static_cast<int>(i);
    const size_t eq = body.find('=');
    std::string name = absl::StrReplaceAll(body.substr(0, eq), {{"-", "_"}});
    std::string known = name;
    if (!allowed.count(known) && absl::StartsWith(name, "no")) {
      known = name.substr(2);  // --nojson
    }
    if (!allowed.count(known)) {
      std::fprintf(stderr, "etcdisc: unknown flag %s for %s (see etcdisc %s --help)\n",
                   arg.c_str(), command.name, command.name);
      return -1;
    }
    arg = "--" + name + (eq == std::string::npos ? "" : body.substr(eq));
    gflags::CommandLineFlagInfo info;
    gflags::GetCommandLineFlagInfo(known.c_str(), &info);
    if (info.type != "bool" && eq == std::string::npos) ++i;  // --flag VALUE
  }
  return 0;
}

// A crash prints the stack of the thread that crashed on stderr.
void PrintStackOnCrash(const char* argv0) {
  absl::InitializeSymbolizer(argv0);
  absl::InstallFailureSignalHandler(absl::FailureSignalHandlerOptions());
  // SIGTERM is how a user stops a command, not a crash: its default stays.
  std::signal(SIGTERM, SIG_DFL);
}

}  // namespace

const std::vector<Command>& Commands() {
  static const std::vector<Command> commands = {
      {"register", "register a host of SERVICE and keep it registered until "
                   "SIGINT or SIGTERM (which revoke it)",
       "SERVICE --hostname=H --ports=http=80,https=443 [flags]",
       {"hostname", "ports", "private_hostname", "private_ports", "public",
        "critical", "shard", "user", "password_file", "ttl", "health_interval",
        "health_retention", "go_grpc_target", "go_grpc_port", "metrics_file",
        "endpoint_sync"},
       "  etcdisc register web --hostname=10.0.0.7 --ports=http=8080\n"
       "      register this machine as a host of web until Ctrl-C\n"
       "  etcdisc register api --hostname=api.example.com --ports=https=443 \\\n"
       "      --public --user=ops --password-file=/run/secrets/api\n"
       "      a public service with credentials in its service record\n"
       "  etcdisc register web --hostname=10.0.0.7 --ports=http=8080 \\\n"
       "      --metrics-file=/var/lib/node_exporter/etcdisc-web.prom\n"
       "      with its metrics for node_exporter's textfile collector\n",
       &RunRegister},
      {"get", "print the hosts of SERVICE, one of them, or its URL",
       "SERVICE [--shard=S] [--first | --one] [--url=SCHEME] [--path=/p] "
       "[--private]",
       {"shard", "first", "one", "url", "path", "private"},
       "  etcdisc get web                   every host of web, as a table\n"
       "  etcdisc get web --one --json      one host picked at random, as JSON\n"
       "  etcdisc get web --url=http --path=/health\n"
       "      a URL to call, e.g. http://10.0.0.7:8080/health\n"
       "  etcdisc get db --shard=eu-1       the hosts of db on shard eu-1\n",
       &RunGet},
      {"pick", "pick hosts of SERVICE as a client-side balancer does, or the "
               "host that owns a key",
       "SERVICE [--policy=P] [--hash-key=K] [--count=N] [--shard=S]",
       {"policy", "hash_key", "count", "shard"},
       "  etcdisc pick api --count=6        six picks in turn (round_robin)\n"
       "  etcdisc pick api --hash-key=user-42\n"
       "      the host that owns user-42 (rendezvous hashing: the one every\n"
       "      etcdisc balancer with key_hash picks for it)\n"
       "  etcdisc pick api --policy=random --count=100 --json\n"
       "      one JSON line per pick\n",
       &RunPick},
      {"watch", "print hosts of SERVICE as they appear and go down, until "
                "interrupted",
       "SERVICE [--events=new,down] [--existing] | SERVICE --snapshot "
       "[--exec=CMD]",
       {"events", "existing", "snapshot", "exec", "endpoint_sync"},
       "  etcdisc watch web --existing      the hosts of web now, then changes\n"
       "  etcdisc watch web --events=down --json\n"
       "      one JSON line per host of web that goes down\n"
       "  etcdisc watch web --snapshot --json\n"
       "      every host of web as a JSON array, now and after each change\n"
       "  etcdisc watch web --snapshot --exec='./render-upstreams > web.conf'\n"
       "      re-render a config file with every change of web's hosts\n",
       &RunWatch},
      {"wait", "wait until every SERVICE has a live host (for entrypoints: "
               "wait for db, then start)",
       "SERVICE... [--timeout=30s] [--shard=S]",
       {"shard"},
       "  etcdisc wait db cache             prints each as it gets a host; exit "
       "0\n"
       "                                    once both have one, 1 after 30s\n"
       "  etcdisc wait db --shard=eu-1 --timeout=2m && exec ./server\n"
       "      start the server once db has a host on shard eu-1\n"
       "  (--timeout here bounds the whole wait; each call to etcd keeps 5s)\n",
       &RunWait},
      {"run", "wait for services, run COMMAND with its host registered while "
              "it runs, pass signals on, exit with its status",
       "[--wait=SVC,...] [--register=SERVICE --hostname=H --ports=...] "
       "[--ready-tcp=PORT] -- COMMAND [ARGS...]",
       {"wait", "register", "ready_tcp", "hostname", "ports",
        "private_hostname", "private_ports", "public", "critical", "shard",
        "user", "password_file", "ttl", "health_interval", "health_retention",
        "go_grpc_target", "go_grpc_port", "endpoint_sync"},
       "  etcdisc run --wait=db,cache -- ./server --port=8080\n"
       "      start the server once db and cache each have a host\n"
       "  etcdisc run --register=web --hostname=10.0.0.7 --ports=http=8080 \\\n"
       "      --ready-tcp=8080 -- ./server --port=8080\n"
       "      register web once the server accepts connections; SIGTERM\n"
       "      takes it down at once and is passed on to the server\n"
       "  (COMMAND runs in a process group of its own, without the terminal;\n"
       "  SIGINT, SIGTERM, SIGQUIT and SIGHUP are passed on to it, all but\n"
       "  SIGHUP taking the host down. etcdisc exits with its status, 128+N if\n"
       "  signal N killed it, 127 if it is not found. Its own lines go to\n"
       "  stderr. --timeout bounds the wait, as for wait)\n",
       &RunRun},
      {"cluster", "join a cluster under a unique node id, list its members, "
                  "watch them come and go",
       "join CLUSTER [--node=ID] [--ttl=2s] [--meta=K=V,...] "
       "[--on-down=CMD] | members CLUSTER | watch CLUSTER",
       {"node", "ttl", "meta", "on_down"},
       "  etcdisc cluster join chat --node=node1 \\\n"
       "      --on-down='echo \"$1 is down, $ETCDISC_MEMBERS are still up\"'\n"
       "      hold the membership until SIGINT or SIGTERM (then leave: the\n"
       "      others see down at once); print ups, downs and leader changes;\n"
       "      for each member that dies, one member runs the command\n"
       "  etcdisc cluster members chat      a table: node, since, leader, "
       "hostname,\n"
       "                                    meta (--json: a JSON array); exit "
       "1 if\n"
       "                                    the cluster has no member\n"
       "  etcdisc cluster watch chat --json\n"
       "      {\"event\":\"up\"|\"down\"|\"leader\",\"cluster\":...,\"node\":...}"
       " lines\n"
       "  (join exits 5 at once when a live member holds the node id; --ttl\n"
       "  is 2s for join: a member that dies is seen down that long after its\n"
       "  last refresh)\n",
       &RunCluster},
      {"services", "list every service with its number of live hosts", "",
       {},
       "  etcdisc services                  a table: service, hosts, critical\n"
       "  etcdisc services --endpoints=http://etcd-1:2379 --json\n"
       "      the same as JSON, from another cluster\n",
       &RunServices},
      {"fleet", "show every host with its health: online, and offline for "
                "the retention after it went",
       "[SERVICE] [--online] [--json] | serve [--listen=HOST:PORT] "
       "[--tls-cert=FILE --tls-key=FILE [--client-ca=FILE]]",
       {"online", "listen", "tls_cert", "tls_key", "client_ca"},
       "  etcdisc fleet                     every host of every service, as a\n"
       "      table: service, host, uuid, status, since, load1, mem%, rss, cpu\n"
       "  etcdisc fleet web --online --json\n"
       "      the online hosts of web with their whole health, as JSON\n"
       "  etcdisc fleet serve --listen=127.0.0.1:8080\n"
       "      serve the fleet until SIGINT/SIGTERM: a live page at /, JSON at\n"
       "      /api/fleet[?service=S&online=1], server-sent events at\n"
       "      /api/events[?service=S], Prometheus text at /metrics\n"
       "  etcdisc fleet serve --tls-cert=c.pem --tls-key=k.pem --client-ca=ca.pem\n"
       "      the same over HTTPS, only for clients with a certificate from ca.pem\n"
       "  (exit 1 when no host matches)\n",
       &RunFleet},
  };
  return commands;
}

}  // namespace etcdisc::cli

// gRPC's own log lines (a failed TLS handshake logs one per attempt) are
// shown only with --log-level=debug: the error the command prints says it
// once.
void LogGrpcLine(gpr_log_func_args* args) {
  if (etcdisc::GetLogLevel() != etcdisc::LogLevel::kDebug) return;
  std::fprintf(stderr, "etcdisc: debug: grpc: %s\n", args->message);
}

int main(int argc, char** argv) {
  using etcdisc::cli::Commands;
  gpr_set_log_function(&LogGrpcLine);
  etcdisc::cli::PrintStackOnCrash(argv[0]);
  if (argc < 2) {
    etcdisc::cli::PrintUsage();
    return etcdisc::cli::kUsage;
  }
  const std::string first = argv[1];
  if (first == "--help" || first == "-h" || first == "help") {
    etcdisc::cli::PrintUsage();
    return 0;
  }
  if (first == "--version" || first == "version") {
    std::printf("etcdisc %s\n", etcdisc::Version());
    return 0;
  }
  const etcdisc::cli::Command* command = nullptr;
  for (const auto& c : Commands()) {
    if (first == c.name) command = &c;
  }
  if (command == nullptr) {
    return etcdisc::cli::UsageError(absl::StrCat(
        "unknown command \"", first, "\" (see etcdisc --help)"));
  }

  std::vector<std::string> args(argv + 1, argv + argc);
  const int help = etcdisc::cli::NormalizeFlags(*command, &args);
  if (help < 0) return etcdisc::cli::kUsage;
  if (help > 0) {
    etcdisc::cli::PrintCommandUsage(*command);
    return 0;
  }
  std::vector<char*> cargs;
  for (auto& a : args) cargs.push_back(a.data());
  int cargc = static_cast<int>(cargs.size());
  char** cargv = cargs.data();
  gflags::ParseCommandLineNonHelpFlags(&cargc, &cargv, /*remove_flags=*/true);
  return command->run(std::vector<std::string>(cargv, cargv + cargc));
}
