// Waiting until services have a live host, for `wait` and `run`.
#ifndef ETCDISC_TOOLS_WAITING_H_
#define ETCDISC_TOOLS_WAITING_H_

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "etcdisc/client.h"

namespace etcdisc::cli {

// How long to wait: --timeout when given, else 30 s. When it is longer than
// 5 s, each call to etcd keeps a deadline of 5 s.
absl::StatusOr<std::chrono::milliseconds> WaitTimeFromFlags();

// Waits until each of `services` has a live host at the same time (on
// `shard` when not empty), printing a line on `out` for each the first time
// it has one. Returns kOk;
// kNotFound after `wait`, naming on stderr the services still missing; the
// exit code of etcd's error when it could not be read; 128 + N when signal N
// (SIGINT, SIGTERM: BlockTerminationSignals) came first.
int WaitForHosts(Client& client, const std::vector<std::string>& services,
                 const std::string& shard, std::chrono::milliseconds wait,
                 std::FILE* out);

}  // namespace etcdisc::cli

#endif  // ETCDISC_TOOLS_WAITING_H_
