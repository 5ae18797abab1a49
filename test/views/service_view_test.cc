// Live views and WaitFor against a real etcd.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "discovery/client_access.h"
#include "etcdisc/client.h"
#include "etcdisc/view.h"
#include "gtest/gtest.h"
#include "support/call_gate.h"
#include "support/discovery_test.h"
#include "support/text.h"
#include "support/wait.h"

namespace etcdisc {
namespace {

using ::etcdisc::testing::CallGate;
using ::etcdisc::testing::DiscoveryTest;
using ::etcdisc::testing::WaitFor;
using std::chrono::milliseconds;
using std::chrono::seconds;

using testing::Contains;

// The uuids in `snapshot`, in its order.
std::vector<std::string> Uuids(const HostSnapshot& snapshot) {
  std::vector<std::string> uuids;
  for (const Host& host : snapshot.hosts()) uuids.push_back(host.uuid);
  return uuids;
}

// Every call of a view's callback, as it saw the hosts.
class CallLog {
 public:
  void Record(const HostSnapshot& snapshot) {
    if (in_call_.fetch_add(1) != 0) overlapped_ = true;
    {
      std::lock_guard<std::mutex> lock(mu_);
      calls_.push_back(snapshot);
    }
    in_call_.fetch_sub(1);
  }
  std::vector<HostSnapshot> calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  std::optional<HostSnapshot> last() const {
    std::lock_guard<std::mutex> lock(mu_);
    if (calls_.empty()) return std::nullopt;
    return calls_.back();
  }
  bool overlapped() const { return overlapped_; }

 private:
  mutable std::mutex mu_;
  std::vector<HostSnapshot> calls_;
  std::atomic<int> in_call_{0};
  std::atomic<bool> overlapped_{false};
};

class ServiceViewTest : public DiscoveryTest {
 protected:
  std::unique_ptr<ServiceView> MustOpen(const std::string& service,
                                        ViewOptions options = {}) {
    auto view = ServiceView::Open(discovery(), service, options);
    EXPECT_TRUE(view.ok()) << view.status();
    if (!view.ok()) return nullptr;
    const absl::Status ready = (*view)->WaitReady(seconds(10));
    EXPECT_TRUE(ready.ok()) << ready;
    return *std::move(view);
  }
  // The uuids etcd holds for `service`, in key order.
  std::vector<std::string> EtcdUuids(const std::string& service) {
    std::vector<std::string> uuids;
    auto got = discovery().Get(service);
    EXPECT_TRUE(got.ok()) << got.status();
    if (!got.ok()) return uuids;
    auto all = got->All();
    if (!all.ok()) return uuids;
    for (const Host& host : *all) uuids.push_back(host.uuid);
    return uuids;
  }
  // Waits until the view holds exactly what etcd holds.
  bool Converges(const ServiceView& view) {
    return WaitFor(
        [&] { return Uuids(view.hosts()) == EtcdUuids(view.service()); },
        seconds(10));
  }
};

TEST_F(ServiceViewTest, AViewReadsThenFollowsNewDownAndChangedHosts) {
  auto first = MustRegister("web", WebHost("10.0.0.1"));
  ASSERT_NE(first, nullptr);
  auto view = MustOpen("web");
  ASSERT_NE(view, nullptr);
  EXPECT_TRUE(view->ready());
  EXPECT_EQ(Uuids(view->hosts()), std::vector<std::string>{first->UUID()});
  const int64_t read_at = view->hosts().revision();
  EXPECT_GT(read_at, 0);

  auto second = MustRegister("web", WebHost("10.0.0.2"));
  ASSERT_NE(second, nullptr);
  EXPECT_TRUE(Converges(*view));
  EXPECT_EQ(view->hosts().size(), 2u);
  ASSERT_TRUE(first->Stop().ok());
  EXPECT_TRUE(Converges(*view));
  EXPECT_EQ(Uuids(view->hosts()), std::vector<std::string>{second->UUID()});
  EXPECT_GT(view->hosts().revision(), read_at);

  // A record rewritten in place (same key): the view has the new one.
  Host changed = second->host();
  changed.ports = {{"http", "8080"}};
  internal::PutRequest put;
  put.key = "/services/web/" + second->UUID();
  put.value = ToJson(changed);
  put.lease = RawLease(put.key);
  ASSERT_TRUE(client().kv().Put(put).ok());
  EXPECT_TRUE(WaitFor(
      [&] {
        HostSnapshot now = view->hosts();
        return now.size() == 1 && now.hosts()[0].ports == changed.ports;
      },
      seconds(10)));
  EXPECT_TRUE(view->status().ok());
}

TEST_F(ServiceViewTest, OnChangeRunsOnceReadyThenAfterChangesNeverOverlapping) {
  // Declared first, so that they outlive the view whose callbacks use them.
  CallLog log;
  CallLog late;
  auto view = MustOpen("web");
  ASSERT_NE(view, nullptr);
  view->OnChange([&](const HostSnapshot& hosts) { log.Record(hosts); });
  // Ready with no host: called once anyway.
  ASSERT_TRUE(WaitFor([&] { return log.last().has_value(); }, seconds(10)));
  EXPECT_TRUE(log.last()->empty());

  std::vector<std::unique_ptr<Registration>> regs;
  for (int i = 0; i < 5; ++i) {
    regs.push_back(MustRegister("web", WebHost("10.0.0." + std::to_string(i))));
    ASSERT_NE(regs.back(), nullptr);
  }
  // A burst may be coalesced, but the last call has every host.
  ASSERT_TRUE(WaitFor([&] { return log.last()->size() == 5; }, seconds(10)));
  EXPECT_EQ(Uuids(*log.last()), EtcdUuids("web"));
  int64_t revision = 0;
  for (const HostSnapshot& call : log.calls()) {
    EXPECT_GE(call.revision(), revision);
    revision = call.revision();
  }
  EXPECT_FALSE(log.overlapped());

  // A callback added to a ready view is called at once with the hosts now.
  view->OnChange([&](const HostSnapshot& hosts) { late.Record(hosts); });
  ASSERT_TRUE(WaitFor([&] { return late.last().has_value(); }, seconds(10)));
  EXPECT_EQ(late.last()->size(), 5u);
}

TEST_F(ServiceViewTest, ACallbackMayRemoveItselfOrDestroyItsView) {
  // Declared before the views, so that they outlive them.
  std::atomic<int> destroy_calls{0};
  std::atomic<bool> destroyed{false};
  std::atomic<int> remove_calls{0};
  std::atomic<int> other_calls{0};
  uint64_t id = 0;
  std::atomic<bool> id_set{false};
  auto doomed = MustOpen("web");
  ASSERT_NE(doomed, nullptr);
  auto kept = MustOpen("web");
  ASSERT_NE(kept, nullptr);
  doomed->OnChange([&](const HostSnapshot& hosts) {
    if (hosts.empty()) return;
    ++destroy_calls;
    doomed.reset();  // The view this callback belongs to.
    destroyed = true;
  });
  id = kept->OnChange([&](const HostSnapshot& hosts) {
    if (hosts.empty() || !id_set) return;
    ++remove_calls;
    kept->RemoveCallback(id);
  });
  id_set = true;
  std::atomic<size_t> other_size{0};
  kept->OnChange([&](const HostSnapshot& hosts) {
    other_size = hosts.size();
    ++other_calls;
  });

  auto a = MustRegister("web", WebHost("10.0.0.1"));
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(
      WaitFor([&] { return destroyed && remove_calls == 1; }, seconds(10)));
  // The other callback of `kept` goes on; the removed one is not called
  // again, and the destroyed view calls nothing more.
  // The other callback, added after the removed one, is called after it in
  // each run: once it has seen b, the removed one would have been called.
  auto b = MustRegister("web", WebHost("10.0.0.2"));
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(WaitFor([&] { return other_size == 2u; }, seconds(10)));
  EXPECT_EQ(remove_calls, 1);
  EXPECT_EQ(destroy_calls, 1);
}

// Destroying a view waits for its own callback under way, not for the
// client's other callbacks: here another view's callback waits on the
// thread that destroys the view.
TEST_F(ServiceViewTest, DestroyingAViewDoesNotWaitForOtherViewsCallbacks) {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::atomic<bool> blocked{false};
  auto other = MustOpen("db");
  ASSERT_NE(other, nullptr);
  other->OnChange([&](const HostSnapshot& hosts) {
    if (hosts.empty()) return;
    blocked = true;
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return release; });
  });
  auto doomed = MustOpen("web");
  ASSERT_NE(doomed, nullptr);
  doomed->OnChange([](const HostSnapshot&) {});
  auto db = MustRegister("db", WebHost("10.0.0.1"));
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(WaitFor([&] { return blocked.load(); }, seconds(10)));

  std::atomic<bool> destroyed{false};
  std::thread destroyer([&] {
    doomed.reset();
    destroyed = true;
  });
  EXPECT_TRUE(WaitFor([&] { return destroyed.load(); }, seconds(10)));
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  destroyer.join();
}

// maestro's unregister and quit: stopping a registration keeps the client's
// views following; shutting the client down stops them.
TEST_F(ServiceViewTest, StoppingARegistrationKeepsViewsShuttingDownStopsThem) {
  auto app = NewDiscoveryClient();
  ASSERT_NE(app, nullptr);
  auto own = app->Register("api", WebHost("10.0.1.1"));
  ASSERT_TRUE(own.ok()) << own.status();
  ASSERT_TRUE((*own)->WaitRegistration(seconds(10)).ok());
  auto db = ServiceView::Open(*app, "db");
  ASSERT_TRUE(db.ok()) << db.status();
  ASSERT_TRUE((*db)->WaitReady(seconds(10)).ok());

  ASSERT_TRUE((*own)->Stop().ok());  // Unregister.
  auto host = MustRegister("db", WebHost("10.0.2.1"));
  ASSERT_NE(host, nullptr);
  EXPECT_TRUE(WaitFor([&] { return (*db)->hosts().size() == 1; }, seconds(10)));
  EXPECT_TRUE((*db)->status().ok());

  app.reset();  // Quit.
  EXPECT_TRUE(absl::IsFailedPrecondition((*db)->status())) << (*db)->status();
  EXPECT_EQ((*db)->hosts().size(), 1u);  // The last state stays readable.
}

TEST_F(ServiceViewTest, AViewConvergesAfterEtcdRestartsWhileHostsChange) {
  auto a = MustRegister("web", WebHost("10.0.0.1"), RegisterOptions{seconds(2)});
  ASSERT_NE(a, nullptr);
  CallLog log;  // Outlives the view.
  auto view = MustOpen("web");
  ASSERT_NE(view, nullptr);
  view->OnChange([&](const HostSnapshot& hosts) { log.Record(hosts); });
  ASSERT_TRUE(cluster().Kill(0).ok());
  ASSERT_TRUE(cluster().Restart(0).ok());
  auto b = MustRegister("web", WebHost("10.0.0.2"));
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(a->Stop().ok());
  EXPECT_TRUE(Converges(*view));
  EXPECT_EQ(Uuids(view->hosts()), std::vector<std::string>{b->UUID()});
  ASSERT_TRUE(WaitFor(
      [&] { return Uuids(*log.last()) == std::vector<std::string>{b->UUID()}; },
      seconds(10)));
}

TEST_F(ServiceViewTest, AShardViewHoldsThatShardOnly) {
  Host on_a = WebHost("10.0.0.1");
  on_a.shard = "a";
  Host on_b = WebHost("10.0.0.2");
  on_b.shard = "b";
  auto ra = MustRegister("web", on_a);
  auto rb = MustRegister("web", on_b);
  ASSERT_TRUE(ra != nullptr && rb != nullptr);
  auto view = MustOpen("web", ViewOptions{"a"});
  ASSERT_NE(view, nullptr);
  EXPECT_EQ(Uuids(view->hosts()), std::vector<std::string>{ra->UUID()});
}

TEST_F(ServiceViewTest, AShardViewCallsBackOnlyForItsShardsChanges) {
  CallLog log;
  CallLog witness_log;
  auto view = MustOpen("web", ViewOptions{"a"});
  ASSERT_NE(view, nullptr);
  view->OnChange([&](const HostSnapshot& hosts) { log.Record(hosts); });
  ASSERT_TRUE(WaitFor([&] { return log.calls().size() == 1; }, seconds(10)));

  Host on_b = WebHost("10.0.0.2");
  on_b.shard = "b";
  auto rb = MustRegister("web", on_b);
  ASSERT_NE(rb, nullptr);
  // The revision of b's record (not etcd's latest: b's health writes come
  // after it, on another prefix, and the view never settles at theirs).
  internal::RangeRequest read;
  read.key = "/services/web/" + rb->UUID();
  auto record = client().kv().Range(read);
  ASSERT_TRUE(record.ok() && !record->kvs.empty());
  const int64_t b_written = record->kvs[0].mod_revision;
  ASSERT_TRUE(WaitFor([&] { return view->hosts().revision() >= b_written; },
                      seconds(10)));
  // A call for b would be queued on the client's one callback thread by
  // now; a view opened after it has its first call queued behind it.
  auto witness = MustOpen("other");
  ASSERT_NE(witness, nullptr);
  witness->OnChange([&](const HostSnapshot& hosts) { witness_log.Record(hosts); });
  ASSERT_TRUE(
      WaitFor([&] { return witness_log.calls().size() == 1; }, seconds(10)));
  EXPECT_EQ(log.calls().size(), 1u) << "called back for another shard's host";

  Host on_a = WebHost("10.0.0.1");
  on_a.shard = "a";
  auto ra = MustRegister("web", on_a);
  ASSERT_NE(ra, nullptr);
  ASSERT_TRUE(WaitFor([&] { return log.calls().size() == 2; }, seconds(10)));
  EXPECT_EQ(Uuids(*log.last()), std::vector<std::string>{ra->UUID()});
}

// A view per service for 1,000 services in one process: one watch stream.
class ManyViewsTest : public ServiceViewTest {};

TEST_F(ManyViewsTest, AThousandViewsShareOneWatchStream) {
  std::vector<std::unique_ptr<ServiceView>> views;
  for (int i = 0; i < 1000; ++i) {
    auto view = ServiceView::Open(discovery(), "svc-" + std::to_string(i));
    ASSERT_TRUE(view.ok()) << view.status();
    views.push_back(*std::move(view));
  }
  for (const auto& view : views) {
    ASSERT_TRUE(view->WaitReady(seconds(60)).ok()) << view->service();
  }
  ClientStats stats = discovery().Stats();
  EXPECT_EQ(stats.watch_streams_opened, 1);
  EXPECT_EQ(stats.watchers, 1000u);

  auto reg = MustRegister("svc-777", WebHost("10.0.0.7"));
  ASSERT_NE(reg, nullptr);
  ASSERT_TRUE(
      WaitFor([&] { return views[777]->hosts().size() == 1; }, seconds(10)));
  EXPECT_TRUE(views[776]->hosts().empty());
  EXPECT_EQ(discovery().Stats().watch_streams_opened, 1);
}

TEST_F(ServiceViewTest, BadNamesAreRefusedNamingThem) {
  auto view = ServiceView::Open(discovery(), "bad/name");
  EXPECT_TRUE(absl::IsInvalidArgument(view.status())) << view.status();
  EXPECT_TRUE(Contains(view.status().message(), "bad/name")) << view.status();
  const absl::Status none = etcdisc::WaitFor(discovery(), {"db"}, seconds(1),
                                             WaitForOptions{"", 0});
  EXPECT_TRUE(absl::IsInvalidArgument(none)) << none;
}

// "new <uuid>" or "down <uuid>".
std::string Describe(const HostEvent& event) {
  return (event.kind == HostEvent::Kind::kNew ? "new " : "down ") +
         event.uuid();
}

TEST_F(ServiceViewTest, AnEventWatchCallsBackWhatSubscribeQueuesInTheSameOrder) {
  auto before = MustRegister("web", WebHost("10.0.0.9"));
  ASSERT_NE(before, nullptr);
  std::mutex mu;
  std::vector<std::string> called;
  SubscribeOptions existing;
  existing.existing = true;
  auto watch = EventWatch::Open(
      discovery(), "web",
      [&](const HostEvent& event) {
        std::lock_guard<std::mutex> lock(mu);
        called.push_back(Describe(event));
      },
      existing);
  ASSERT_TRUE(watch.ok()) << watch.status();
  auto queue = discovery().Subscribe("web", existing);
  ASSERT_TRUE(queue.ok()) << queue.status();

  std::vector<std::unique_ptr<Registration>> regs;
  for (int i = 0; i < 3; ++i) {
    regs.push_back(MustRegister("web", WebHost("10.0.0." + std::to_string(i))));
    ASSERT_NE(regs.back(), nullptr);
  }
  ASSERT_TRUE(regs[0]->Stop().ok());
  ASSERT_TRUE(before->Stop().ok());
  std::vector<std::string> queued;
  for (int i = 0; i < 6; ++i) {
    auto event = (*queue)->Pop(seconds(10));
    ASSERT_TRUE(event.has_value()) << "event " << i;
    queued.push_back(Describe(*event));
  }
  EXPECT_EQ(queued.front(), "new " + before->UUID());
  EXPECT_EQ(queued.back(), "down " + before->UUID());
  ASSERT_TRUE(WaitFor(
      [&] {
        std::lock_guard<std::mutex> lock(mu);
        return called.size() >= queued.size();
      },
      seconds(10)));
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(called, queued);
}

TEST_F(ServiceViewTest, AnEventWatchMayBeDestroyedByItsOwnCallback) {
  std::atomic<int> calls{0};
  std::atomic<bool> destroyed{false};
  std::mutex mu;  // Guards `watch`.
  std::unique_ptr<EventWatch> watch;
  auto opened = EventWatch::Open(discovery(), "web", [&](const HostEvent&) {
    ++calls;
    std::lock_guard<std::mutex> lock(mu);
    watch.reset();
    destroyed = true;
  });
  ASSERT_TRUE(opened.ok()) << opened.status();
  {
    std::lock_guard<std::mutex> lock(mu);
    watch = *std::move(opened);
  }
  auto a = MustRegister("web", WebHost("10.0.0.1"));
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(WaitFor([&] { return destroyed.load(); }, seconds(10)));
  // A second host, seen by a witness on the same callback thread: had the
  // destroyed watch gone on, its call for b would have come by then.
  std::atomic<bool> witnessed{false};
  auto witness = EventWatch::Open(discovery(), "web", [&](const HostEvent& e) {
    if (e.host.name == "10.0.0.2") witnessed = true;
  });
  ASSERT_TRUE(witness.ok()) << witness.status();
  auto b = MustRegister("web", WebHost("10.0.0.2"));
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(WaitFor([&] { return witnessed.load(); }, seconds(10)));
  EXPECT_EQ(calls, 1);
}

// maestro's use + start + register inside start, then unregister: the
// setup callbacks keep running.
TEST_F(ServiceViewTest, DependenciesStartOnceAllHaveHostsAndKeepSettingUp) {
  std::mutex mu;
  std::vector<size_t> db_sizes;  // What db's setup saw, call by call.
  Dependencies deps(discovery());  // After what its callbacks use.
  auto db_seen = [&] {
    std::lock_guard<std::mutex> lock(mu);
    return db_sizes;
  };
  ASSERT_TRUE(deps.Use("db", [&](const HostSnapshot& hosts) {
                    std::lock_guard<std::mutex> lock(mu);
                    db_sizes.push_back(hosts.size());
                  }).ok());
  ASSERT_TRUE(deps.Use("cache").ok());
  auto db = MustRegister("db", WebHost("10.0.0.1"));
  ASSERT_NE(db, nullptr);

  bool started = false;
  // Long enough for db's first read and setup even under a sanitizer.
  const absl::Status early = deps.Start([&] { started = true; }, seconds(3));
  EXPECT_TRUE(absl::IsDeadlineExceeded(early)) << early;
  EXPECT_TRUE(Contains(early.message(), "cache")) << early;
  EXPECT_FALSE(Contains(early.message(), "db")) << early;
  EXPECT_FALSE(started);
  EXPECT_TRUE(absl::IsFailedPrecondition(deps.Use("late")));

  std::unique_ptr<Registration> cache;
  std::thread later([&] { cache = MustRegister("cache", WebHost("10.0.0.2")); });
  std::unique_ptr<Registration> own;
  std::vector<size_t> seen_at_start;
  const absl::Status ok = deps.Start(
      [&] {
        seen_at_start = db_seen();
        own = MustRegister("api", WebHost("10.0.0.3"));
      },
      seconds(20));
  later.join();
  ASSERT_TRUE(ok.ok()) << ok;
  // db's setup ran with its host before start, and start registered.
  ASSERT_FALSE(seen_at_start.empty());
  EXPECT_EQ(seen_at_start.front(), 1u);
  ASSERT_NE(own, nullptr);

  // Unregister: the setup callbacks go on.
  ASSERT_TRUE(own->Stop().ok());
  auto db2 = MustRegister("db", WebHost("10.0.0.4"));
  ASSERT_NE(db2, nullptr);
  EXPECT_TRUE(WaitFor([&] { return db_seen().back() == 2u; }, seconds(10)));
}

TEST_F(ServiceViewTest, WaitForReturnsOnceEveryServiceHasAHost) {
  absl::Status waited = absl::UnknownError("not returned");
  std::atomic<bool> returned{false};
  std::thread waiter([&] {
    waited = etcdisc::WaitFor(discovery(), {"db", "cache"}, seconds(30));
    returned = true;
  });
  // EXPECT, not ASSERT: the thread must be joined whatever happens.
  auto db = MustRegister("db", WebHost("10.0.0.1"));
  EXPECT_NE(db, nullptr);
  auto cache = MustRegister("cache", WebHost("10.0.0.2"));
  EXPECT_NE(cache, nullptr);
  EXPECT_TRUE(WaitFor([&] { return returned.load(); }, seconds(20)));
  waiter.join();
  EXPECT_TRUE(waited.ok()) << waited;
}

// db and cache each with a host, and a second client to wait with whose
// calls to etcd the test holds: the read at one revision that confirms what
// the views show is held before it is sent (and its answer, when armed)
// while db goes.
class OneMomentTest : public ServiceViewTest {
 protected:
  void SetUp() override {
    ServiceViewTest::SetUp();
    if (HasFatalFailure()) return;
    db_ = MustRegister("db", WebHost("10.0.0.1"));
    cache_ = MustRegister("cache", WebHost("10.0.0.2"));
    waiting_ = NewDiscoveryClient();
    ASSERT_TRUE(db_ != nullptr && cache_ != nullptr && waiting_ != nullptr);
    internal::EtcdClient& etcd = internal::ClientAccess::Core(*waiting_).etcd();
    etcd.SetSendHookForTesting(sent_.SendHook());
    etcd.SetAnswerHookForTesting(answered_.Hook());
    sent_.Arm("Txn");
  }
  void TearDown() override {
    sent_.Release();
    answered_.Release();
    waiting_.reset();
    db_.reset();  // Before their client goes.
    cache_.reset();
    ServiceViewTest::TearDown();
  }

  Client& waiting() { return *waiting_; }
  // Once the read is held, db goes; then the read is let go.
  void StopDbWhileTheReadIsHeld() {
    const bool held = sent_.WaitHeld(seconds(20));
    EXPECT_TRUE(held) << "no read at one revision";
    if (held) {
      EXPECT_TRUE(db_->Stop().ok());
    }
    sent_.Release();
  }

  CallGate answered_;

 private:
  std::unique_ptr<Registration> db_;
  std::unique_ptr<Registration> cache_;
  std::unique_ptr<Client> waiting_;
  CallGate sent_;
};

// db's view may not have seen db go yet when cache's has seen cache come:
// both were never up at once after db went, so WaitFor must not return OK.
TEST_F(OneMomentTest, WaitForWantsEveryServiceUpAtOneRevision) {
  absl::Status waited = absl::UnknownError("not returned");
  std::thread waiter([&] {
    waited = etcdisc::WaitFor(waiting(), {"db", "cache"}, seconds(5));
  });
  StopDbWhileTheReadIsHeld();
  waiter.join();
  EXPECT_TRUE(absl::IsDeadlineExceeded(waited)) << waited;
  EXPECT_TRUE(Contains(waited.message(), "db (0 of 1 hosts)")) << waited;
  EXPECT_FALSE(Contains(waited.message(), "cache")) << waited;

  auto db_again = MustRegister("db", WebHost("10.0.0.3"));
  ASSERT_NE(db_again, nullptr);
  const absl::Status again =
      etcdisc::WaitFor(waiting(), {"db", "cache"}, seconds(20));
  EXPECT_TRUE(again.ok()) << again;
}

// A read that said no is made again once the views move on: db comes back
// while the answer of the read that found it gone is held, and the same
// WaitFor returns.
TEST_F(OneMomentTest, WaitForReadsAgainOnceTheViewsMoveOn) {
  answered_.Arm("Txn");
  absl::Status waited = absl::UnknownError("not returned");
  std::thread waiter([&] {
    waited = etcdisc::WaitFor(waiting(), {"db", "cache"}, seconds(30));
  });
  StopDbWhileTheReadIsHeld();
  EXPECT_TRUE(answered_.WaitHeld(seconds(20)));  // It found db gone.
  auto db_again = MustRegister("db", WebHost("10.0.0.3"));
  EXPECT_NE(db_again, nullptr);
  answered_.Release();
  waiter.join();
  EXPECT_TRUE(waited.ok()) << waited;
}

// Dependencies::Start has the same window: start must not run.
TEST_F(OneMomentTest, DependenciesStartWantsEveryServiceUpAtOneRevision) {
  Dependencies deps(waiting());
  ASSERT_TRUE(deps.Use("db").ok());
  ASSERT_TRUE(deps.Use("cache").ok());
  std::atomic<bool> started{false};
  absl::Status result = absl::UnknownError("not returned");
  std::thread starter([&] {
    result = deps.Start([&] { started = true; }, seconds(5));
  });
  StopDbWhileTheReadIsHeld();
  starter.join();
  EXPECT_FALSE(started.load());
  EXPECT_TRUE(absl::IsDeadlineExceeded(result)) << result;
  EXPECT_TRUE(Contains(result.message(), "for db")) << result;
  EXPECT_FALSE(Contains(result.message(), "cache")) << result;
}

TEST_F(ServiceViewTest, WaitForNamesTheServicesStillMissing) {
  Host on_a = WebHost("10.0.0.1");
  on_a.shard = "a";
  auto db = MustRegister("db", on_a);
  ASSERT_NE(db, nullptr);
  // Long enough for both first reads even under a sanitizer: a view not
  // read yet would say so instead.
  const absl::Status missing =
      etcdisc::WaitFor(discovery(), {"db", "cache"}, seconds(3));
  EXPECT_TRUE(absl::IsDeadlineExceeded(missing)) << missing;
  EXPECT_TRUE(Contains(missing.message(), "cache (0 of 1 hosts)")) << missing;
  EXPECT_FALSE(Contains(missing.message(), "db (")) << missing;

  const absl::Status two = etcdisc::WaitFor(discovery(), {"db"}, seconds(3),
                                            WaitForOptions{"", 2});
  EXPECT_TRUE(Contains(two.message(), "db (1 of 2 hosts)")) << two;
  EXPECT_TRUE(etcdisc::WaitFor(discovery(), {"db"}, seconds(10),
                               WaitForOptions{"a", 1})
                  .ok());
  const absl::Status other_shard = etcdisc::WaitFor(
      discovery(), {"db"}, seconds(1), WaitForOptions{"b", 1});
  EXPECT_TRUE(absl::IsDeadlineExceeded(other_shard)) << other_shard;
}

}  // namespace
}  // namespace etcdisc
