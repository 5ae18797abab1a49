// Follows the hosts of one service: which appear, which go down, with no gap
// and no repeat across reconnects and compaction (a PrefixWatch over the
// service's host keys, reading each record as a Host).
#ifndef ETCDISC_DISCOVERY_HOST_WATCH_H_
#define ETCDISC_DISCOVERY_HOST_WATCH_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "discovery/client_core.h"
#include "discovery/prefix_watch.h"
#include "etcdisc/host.h"

namespace etcdisc::internal {

// Where a host watch delivers: as PrefixSink, with records read as hosts.
// A malformed host record is skipped with one warning; its key is never
// announced and so never reported down. Uuids come from the keys.
struct HostSink {
  std::function<bool(const Host& host)> on_new;
  std::function<bool(const std::string& uuid)> on_down;
  // Optional. A host already delivered whose key was written again (its
  // record changed in place, or re-read unchanged after a re-read): its
  // current record. A malformed rewrite is not passed on.
  std::function<void(const Host& host)> on_update;
  std::function<void(int64_t revision)> on_settled;
  std::function<void(const absl::Status& why)> on_end;
  std::string kind;
  std::function<size_t()> queue_depth;
};

// A watch of `service`'s hosts; Start() it.
std::shared_ptr<PrefixWatch> NewHostWatch(std::shared_ptr<ClientCore> core,
                                          const std::string& service,
                                          HostSink sink);

}  // namespace etcdisc::internal

#endif  // ETCDISC_DISCOVERY_HOST_WATCH_H_
