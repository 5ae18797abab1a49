// One watch of each service record per client, shared by the client's
// registrations of that service.
#ifndef ETCDISC_DISCOVERY_SERVICE_RECORD_WATCHES_H_
#define ETCDISC_DISCOVERY_SERVICE_RECORD_WATCHES_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "etcd/types.h"
#include "etcd/watch_hub.h"
#include "util/mutex.h"

namespace etcdisc::internal {

// What a registration hears of its service record: `record` is what etcd
// holds now (nullptr: the key is missing).
using RecordChanged = std::function<void(const KeyValue* record)>;
// The shared watch ended (compacted past, etcd wiped, refused): read the
// record and join again.
using RecordWatchEnded = std::function<void()>;

struct RecordListener {
  RecordChanged on_change;
  RecordWatchEnded on_end;
};

// Every registration watches its service record (to put it back when it goes,
// and to adopt changed credentials). A client's registrations of one service
// share one watch of it here instead of creating one each: a watch create is
// a round trip on the client's watch stream, one at a time.
//
// Each watch keeps what it knows of the record (its value, or missing) and
// the revision it knows it at. A registration joins with what it knows
// itself, as of `from` - 1 (its write's revision, or a read's); from then on
// it hears every change after the later of the two, and at once the
// watch's knowledge when that is the newer. The first to join starts the
// watch from its `from`; the last to leave cancels it. When the watch ends
// every listener hears on_end, once, and is dropped.
//
// Safe for concurrent use. Listeners run under this object's lock, one at a
// time, in revision order (on the watch's thread, or in Join() on the
// caller's): they must not call Join() or Leave(), and callers of Join() and
// Leave() must not hold a lock that a listener takes.
class ServiceRecordWatches {
 public:
  using StartFn = std::function<WatchId(WatchOptions, WatchHandler)>;
  using CancelFn = std::function<void(WatchId)>;

  ServiceRecordWatches(StartFn start, CancelFn cancel)
      : start_(std::move(start)), cancel_(std::move(cancel)) {}

  // Adds `listener` to the watch of `key`, starting it if there is none.
  // `known` is the record as the caller knows it at revision `from` - 1
  // (nullopt: missing). Returns a ticket for Leave(), above 0.
  int64_t Join(const std::string& key, int64_t from,
                std::optional<KeyValue> known, RecordListener listener)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Removes the listener of `ticket`; when it returns, the listener does not
  // run again. A ticket already dropped (the watch ended) is ignored.
  void Leave(const std::string& key, int64_t ticket) ABSL_LOCKS_EXCLUDED(mu_);

  // The number of watches running, and of listeners (for tests).
  size_t watches() const ABSL_LOCKS_EXCLUDED(mu_);
  size_t listeners() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Listener {
    RecordListener calls;
    int64_t from = 0;  // Changes before this revision are not for it.
  };
  struct Shared {
    uint64_t token = 0;  // Names this watch's start; its handler checks it.
    WatchId id = 0;      // 0 while its start has not returned.
    std::optional<KeyValue> record;
    int64_t revision = 0;  // `record` is known as of this revision.
    std::map<int64_t, Listener> listeners;  // By ticket.
  };

  void OnUpdate(const std::string& key, uint64_t token, WatchUpdate update)
      ABSL_LOCKS_EXCLUDED(mu_);

  const StartFn start_;
  const CancelFn cancel_;
  mutable Mutex mu_;
  std::map<std::string, Shared> shared_ ABSL_GUARDED_BY(mu_);
  int64_t next_ticket_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t next_token_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace etcdisc::internal

#endif  // ETCDISC_DISCOVERY_SERVICE_RECORD_WATCHES_H_
