// Shared pieces of the etcdisc command-line tool: exit codes, flag values
// parsed into etcdisc types, the client the flags describe, and errors.
#ifndef ETCDISC_TOOLS_CLI_H_
#define ETCDISC_TOOLS_CLI_H_

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "etcdisc/client.h"

namespace etcdisc::cli {

// Exit codes, as documented in `etcdisc --help` and the README.
enum ExitCode {
  kOk = 0,
  kNotFound = 1,     // No such service, no host.
  kUsage = 2,        // Bad usage or an invalid argument.
  kUnreachable = 3,  // etcd unreachable, timed out, or failed otherwise.
  kDenied = 4,       // etcd refused the user, or its permission.
  kTaken = 5,        // A live member holds the node id (cluster join).
};

// The exit code that fits a failed status.
int ExitCodeFor(const absl::Status& status);
// Prints "etcdisc: <message>" on stderr and returns ExitCodeFor(status).
int Fail(const absl::Status& status);
// Prints "etcdisc: <message>" on stderr and returns kUsage.
int UsageError(absl::string_view message);

// "500ms", "2s", "1m", "1h30m" -> a positive duration. InvalidArgument naming
// the flag and the value otherwise.
absl::StatusOr<std::chrono::milliseconds> ParseDuration(
    absl::string_view flag, absl::string_view text);
// "http=80,https=443" -> Ports. InvalidArgument naming the bad item.
absl::StatusOr<Ports> ParsePorts(absl::string_view flag,
                                 absl::string_view text);

// A client from --endpoints (or the environment), --timeout and --prefix.
absl::StatusOr<std::unique_ptr<Client>> ClientFromFlags();
// The endpoints the client would use, for error messages.
std::string EndpointsFromFlags();

// Blocks SIGINT and SIGTERM in this thread and every thread started after,
// so that they wait to be taken by TakeTerminationSignal().
void BlockTerminationSignals();
// The number of a pending SIGINT or SIGTERM, waiting up to `wait` for one;
// 0 when none came.
int TakeTerminationSignal(std::chrono::milliseconds wait);
// The same with SIGHUP and SIGQUIT as well, for a command that passes them
// on to a child (`run`): blocks them in this thread and those started after.
void BlockPassedOnSignals();
int TakePassedOnSignal(std::chrono::milliseconds wait);

// Removes the password from a host unless --show-secrets.
Host Redacted(Host host);
// A JSON string literal.
std::string JsonString(absl::string_view text);

}  // namespace etcdisc::cli

#endif  // ETCDISC_TOOLS_CLI_H_
