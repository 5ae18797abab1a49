// The spare lease: once a client has registered two hosts of a TTL, it keeps
// one lease of that TTL granted ahead, so that the next Register is one Txn.
// Checked against what etcd holds: which leases exist, and which one a host
// key is under.
#include <set>
#include <string>

#include "discovery/lease_source.h"
#include "gtest/gtest.h"
#include "support/call_gate.h"
#include "support/discovery_test.h"
#include "support/wait.h"
#include "util/thread_pool.h"

namespace etcdisc {
namespace {

using ::etcdisc::testing::CallGate;
using ::etcdisc::testing::DiscoveryTest;
using ::etcdisc::testing::WaitFor;
using std::chrono::seconds;

class SpareLeaseTest : public DiscoveryTest {
 protected:
  void TearDown() override {
    first_.reset();
    second_.reset();
    DiscoveryTest::TearDown();
  }

  // Health records off: their leases would be counted with the others.
  static RegisterOptions Quiet() {
    RegisterOptions options;
    options.ttl = seconds(5);
    options.health_interval = std::chrono::milliseconds(0);
    return options;
  }

  std::set<int64_t> Leases() {
    auto ids = cluster().LeaseIds();
    EXPECT_TRUE(ids.ok()) << ids.status();
    return ids.ok() ? *ids : std::set<int64_t>{};
  }

  // Registers two hosts, then waits for the spare their client grants, in
  // etcd and in the client's hands (etcd lists it before the client has its
  // answer); its id.
  int64_t TwoRegisteredAndTheSpare() {
    first_ = MustRegister("web", WebHost("10.0.0.1"), Quiet());
    second_ = MustRegister("web", WebHost("10.0.0.2"), Quiet());
    if (first_ == nullptr || second_ == nullptr) return 0;
    const std::set<int64_t> used = {HostLease(*first_), HostLease(*second_)};
    EXPECT_EQ(used.size(), 2u);
    if (!WaitFor([&] {
          return Leases().size() == 3 && discovery().Metrics().leases_kept == 3;
        }, seconds(10))) {
      return 0;
    }
    return NewLease(used);
  }

  // The one lease etcd holds that is not in `known`; 0 if not exactly one.
  int64_t NewLease(const std::set<int64_t>& known) {
    int64_t found = 0;
    for (int64_t id : Leases()) {
      if (known.count(id) != 0) continue;
      if (found != 0) return 0;
      found = id;
    }
    return found;
  }

  int64_t HostLease(const Registration& reg) {
    return RawLease("/services/web/" + reg.UUID());
  }

  std::unique_ptr<Registration> first_, second_;
};

TEST_F(SpareLeaseTest, TheThirdRegistrationTakesTheSpareGrantedBeforeIt) {
  const int64_t spare = TwoRegisteredAndTheSpare();
  ASSERT_NE(spare, 0) << "no spare lease appeared; etcd holds "
                      << Leases().size();
  auto third = MustRegister("web", WebHost("10.0.0.3"), Quiet());
  ASSERT_NE(third, nullptr);
  EXPECT_EQ(HostLease(*third), spare);
  // And the next spare follows: a fourth lease, under no host.
  EXPECT_TRUE(WaitFor([&] { return Leases().size() == 4; }, seconds(10)))
      << "etcd holds " << Leases().size() << " leases";
  EXPECT_NE(NewLease({HostLease(*first_), HostLease(*second_), spare}), 0);
}

// LeaseSource alone, on a connection of its own: Shutdown() while a spare's
// grant is in flight must not leave that lease behind in etcd.
TEST_F(SpareLeaseTest, ASpareGrantAnsweredAfterShutdownIsRevoked) {
  auto etcd = NewClient();
  internal::ThreadPool pool(1);
  internal::LeaseSource source(etcd.get(), &pool);
  const auto ttl = seconds(60);  // Longer than every wait below.
  std::set<int64_t> taken;
  for (int i = 0; i < 2; ++i) {
    auto lease = source.Take(ttl);
    ASSERT_TRUE(lease.ok()) << lease.status();
    taken.insert(lease->id);
  }
  CallGate gate;
  etcd->SetAnswerHookForTesting(gate.Hook());
  gate.Arm("LeaseGrant");
  source.RefillLater(ttl);
  ASSERT_TRUE(gate.WaitHeld(seconds(10)));
  ASSERT_TRUE(WaitFor([&] { return Leases().size() == 3; }, seconds(10)))
      << "the spare's grant did not reach etcd";
  source.Shutdown();
  gate.Release();
  pool.Shutdown();  // Returns once the refill has had its answer.
  EXPECT_TRUE(WaitFor([&] { return Leases() == taken; }, seconds(10)))
      << "etcd holds " << Leases().size() << " leases, 2 of them taken";
  etcd->SetAnswerHookForTesting(nullptr);
}

}  // namespace
}  // namespace etcdisc
