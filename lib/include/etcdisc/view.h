// Live views of services: the hosts of a service held in memory and kept
// current by the client's one watch stream, a callback on every change, and
// waiting until the services a program needs have hosts.
#ifndef ETCDISC_VIEW_H_
#define ETCDISC_VIEW_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "etcdisc/client.h"
#include "etcdisc/host.h"

namespace etcdisc {

namespace internal {
class ViewState;
class EventWatchState;
}  // namespace internal

struct ViewOptions {
  // Only the hosts of this shard; empty: every host.
  std::string shard;
};

// The hosts of one service at one etcd revision. Never changes once made:
// copying it copies a pointer, and a reader holds it as long as it likes.
class HostSnapshot {
 public:
  HostSnapshot() : hosts_(std::make_shared<const std::vector<Host>>()) {}
  HostSnapshot(std::shared_ptr<const std::vector<Host>> hosts, int64_t revision)
      : hosts_(std::move(hosts)), revision_(revision) {}

  // In key order (by uuid).
  const std::vector<Host>& hosts() const { return *hosts_; }
  bool empty() const { return hosts_->empty(); }
  size_t size() const { return hosts_->size(); }
  // The etcd revision this is the state at; 0 before the first read.
  int64_t revision() const { return revision_; }

 private:
  std::shared_ptr<const std::vector<Host>> hosts_;
  int64_t revision_ = 0;
};

// The current hosts of one service, in memory. It reads the service once in
// the background, then follows it on the client's one watch stream (a view
// is one more watcher on it, however many views there are), through
// reconnects, member failures and compaction like a subscription. Reading it
// never waits on etcd. Safe for concurrent use.
//
// Callbacks (OnChange) run on the client's callback thread, which
// registration callbacks and every other view's callbacks share: one call at
// a time, so the calls of one view never overlap, and a slow callback delays
// all the others (not the view itself, whose snapshot stays current). A burst
// of changes may give one call; the last call always has the latest hosts.
// A callback must not destroy the Client (the process aborts, as from a
// registration callback).
//
// A view stops when destroyed, when its client shuts down, or when etcd no
// longer lets the client's user read the service (status() then says why).
// Stopping a registration of the same client leaves the view running.
class ServiceView {
 public:
  // Starts following `service`; returns at once, before the first read.
  // InvalidArgument for an invalid service name; FailedPrecondition after
  // the client shut down.
  static absl::StatusOr<std::unique_ptr<ServiceView>> Open(
      Client& client, absl::string_view service, ViewOptions options = {});
  // Stops the view. No callback of it runs after this returns, unless it is
  // called from one (that call finishes; no other starts). It waits only for
  // a call of this view's callbacks under way: do not destroy a view while
  // holding a lock its callback takes.
  ~ServiceView();
  ServiceView(const ServiceView&) = delete;
  ServiceView& operator=(const ServiceView&) = delete;

  const std::string& service() const;
  // The hosts now: empty before the first read.
  HostSnapshot hosts() const;
  // Whether the first read is done (and hosts() is etcd's state).
  bool ready() const;
  // Waits until ready. DeadlineExceeded after `timeout` naming the service
  // and the last error reading it; the error that stopped the view, if it
  // stopped before its first read.
  absl::Status WaitReady(std::chrono::milliseconds timeout) const;
  // OK while following; otherwise why it stopped.
  absl::Status status() const;

  using ChangeCallback = std::function<void(const HostSnapshot& hosts)>;
  // Calls `callback` with every host after each change, and once with the
  // hosts as they are as soon as the view is ready (at once if it is).
  // Returns an id for RemoveCallback.
  uint64_t OnChange(ChangeCallback callback);
  // After this returns `id`'s callback is not running and never runs again
  // (unless called from a callback: the call under way finishes). Like the
  // destructor, it waits for a call of this view's callbacks under way.
  void RemoveCallback(uint64_t id);

 private:
  explicit ServiceView(std::shared_ptr<internal::ViewState> state);
  const std::shared_ptr<internal::ViewState> state_;
};

// The New and Down events of one service passed to a callback, in etcd's
// order, with Subscribe's promises (nothing lost or repeated across
// reconnects and compaction) but no queue to pop and no thread of the
// caller's: `on_event` runs on the client's callback thread (see
// ServiceView), one event at a time. Events wait in memory while a callback
// is slow; with `existing`, the first may be delivered before Open returns.
// Events that came before etcd ended the watch are still delivered. Safe for
// concurrent use.
class EventWatch {
 public:
  using Callback = std::function<void(const HostEvent& event)>;
  // Reads the service, then follows it. With `existing`, the hosts present
  // now come first as New. Unavailable when etcd cannot be read to start;
  // InvalidArgument for an invalid service name.
  static absl::StatusOr<std::unique_ptr<EventWatch>> Open(
      Client& client, absl::string_view service, Callback on_event,
      SubscribeOptions options = {});
  // Stops. No event is delivered after this returns, unless it is called
  // from the callback (the call under way finishes; no other starts).
  ~EventWatch();
  EventWatch(const EventWatch&) = delete;
  EventWatch& operator=(const EventWatch&) = delete;

  // OK while following; otherwise why it stopped (the client shut down, or
  // etcd no longer lets the client's user read the service).
  absl::Status status() const;


 private:
  explicit EventWatch(std::shared_ptr<internal::EventWatchState> state);
  const std::shared_ptr<internal::EventWatchState> state_;
};

struct WaitForOptions {
  // Count only the hosts of this shard; empty: every host.
  std::string shard;
  // How many hosts each service needs.
  int min_hosts = 1;
};

// Waits until each of `services` has at least `min_hosts` live hosts (on the
// shard, if given), all at one moment: each view stands at its own etcd
// revision, so once they all show their hosts, one read of every service at
// one revision (Client::GetMany, from the leader) confirms it. That read
// needs what Get needs: a leader, and read access to /service_infos/ too.
// DeadlineExceeded after `timeout` naming the services still missing;
// InvalidArgument for an invalid name or min_hosts < 1; a refusal by etcd
// at once.
absl::Status WaitFor(Client& client, const std::vector<std::string>& services,
                     std::chrono::milliseconds timeout,
                     WaitForOptions options = {});

// maestro's flow: declare the services a program needs, each with a setup
// callback that gets all its hosts, then Start() the program once every one
// has a host. Register the program's own host inside the start function, so
// that it goes in only once its dependencies are there.
//
//   etcdisc::Dependencies deps(*client);
//   deps.Use("db", [&](const etcdisc::HostSnapshot& db) { pool.Reset(db); });
//   absl::Status started = deps.Start([&] {
//     server.Listen();
//     registration = *client->Register("api", self);
//   }, std::chrono::seconds(30));
//
// Setup callbacks run on the client's callback thread (see ServiceView):
// first once their service has a host, then after every change for as long
// as the Dependencies live, whether or not the program's registration is
// stopped. Not thread-safe: declare and start from one thread.
class Dependencies {
 public:
  explicit Dependencies(Client& client);
  // Stops the views; no setup callback runs after this returns (unless it
  // is called from one).
  ~Dependencies();
  Dependencies(const Dependencies&) = delete;
  Dependencies& operator=(const Dependencies&) = delete;

  // Declares `service` as needed, with its setup callback (which may be
  // empty). InvalidArgument for an invalid name; FailedPrecondition after
  // Start.
  absl::Status Use(absl::string_view service,
                   ServiceView::ChangeCallback setup = nullptr,
                   ViewOptions options = {});
  // Waits until every declared service has a host, all at one moment (as
  // WaitFor confirms it), and its setup callback has run with one, then
  // runs `start` on this thread and returns OK.
  // DeadlineExceeded naming the services still missing after `timeout`
  // (`start` is not run then); the error that stopped a view.
  absl::Status Start(const std::function<void()>& start,
                     std::chrono::milliseconds timeout);

 private:
  struct Needed;
  Client& client_;
  std::vector<std::unique_ptr<Needed>> needed_;
  bool started_ = false;
};

}  // namespace etcdisc

#endif  // ETCDISC_VIEW_H_
