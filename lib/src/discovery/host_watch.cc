#include "discovery/host_watch.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "discovery/records.h"
#include "util/log.h"

namespace etcdisc::internal {

std::shared_ptr<PrefixWatch> NewHostWatch(std::shared_ptr<ClientCore> core,
                                          const std::string& service,
                                          HostSink sink) {
  const KeyLayout& keys = core->keys();
  PrefixSpec spec{keys.HostsPrefix(service), service,
                  absl::StrCat("service \"", service, "\""),
                  keys.AllHostsPrefix()};
  auto hosts = std::make_shared<HostSink>(std::move(sink));
  PrefixSink out;
  out.on_new = [hosts, keys](const KeyValue& kv) {
    auto host = HostFromKeyValue(keys, kv);
    if (!host.ok()) {
      ETCDISC_LOG(kWarning, absl::StrCat("skipping ", host.status().message()));
      return PrefixSink::Take::kMalformed;
    }
    return hosts->on_new(*host) ? PrefixSink::Take::kTaken
                                : PrefixSink::Take::kClosed;
  };
  out.on_gone = [hosts, keys](const std::string& key, int64_t) {
    auto parts = keys.ParseHostKey(key);
    return !parts.ok() || hosts->on_down(parts->uuid);
  };
  if (hosts->on_update) {
    out.on_update = [hosts, keys](const KeyValue& kv) {
      auto host = HostFromKeyValue(keys, kv);
      if (host.ok()) hosts->on_update(*host);
    };
  }
  out.on_settled = hosts->on_settled;
  out.on_end = hosts->on_end;
  out.kind = hosts->kind;
  out.queue_depth = hosts->queue_depth;
  return std::make_shared<PrefixWatch>(std::move(core), std::move(spec),
                                       std::move(out));
}

}  // namespace etcdisc::internal
