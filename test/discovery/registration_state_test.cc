// The registration state machine (registration_impl.h) driven through every
// transition by a scripted env: no etcd, no threads, every interleaving
// chosen here. The same behaviours are shown against a real etcd by
// register_test.cc and registration_race_test.cc.
#include <memory>
#include <string>
#include <vector>

#include "discovery/host_rules.h"
#include "discovery/records.h"
#include "discovery/registration_impl.h"
#include "fake_registration_env.h"
#include "gtest/gtest.h"

namespace etcdisc::internal {
namespace {

using Kind = RegistrationEvent::Kind;
using ::etcdisc::testing::FakeRegistrationEnv;

class RegistrationStateTest : public ::testing::Test {
 protected:
  // A registration of a host of "web" (public when `is_public`), started.
  std::shared_ptr<RegistrationImpl> Start(bool is_public = false,
                                          const std::string& uuid = "uuid4") {
    HostSpec spec;
    spec.name = "10.0.0.1";
    spec.ports = {{"http", "80"}};
    spec.is_public = is_public;
    Host host;
    static_cast<HostSpec&>(host) = spec;
    ApplyRegisterDefaults("web", "machine", uuid, &host);
    auto impl = std::make_shared<RegistrationImpl>(
        env_, "web", host, RegisterOptions{},
        [this](const RegistrationEvent& e) { events_.push_back(e.kind); });
    impl->Start();
    return impl;
  }
  std::string HostKey(const RegistrationImpl& r) const {
    return env_->keys().HostKey("web", r.UUID());
  }
  std::string ServiceKey() const { return env_->keys().ServiceKey("web"); }
  // The lease the host key is under; 0 when the key is missing.
  int64_t HostLease(const RegistrationImpl& r) const {
    const KeyValue* kv = env_->Find(HostKey(r));
    return kv == nullptr ? 0 : kv->lease;
  }
  // What a registered host must have in the store: both keys, under one
  // live lease.
  void ExpectRegisteredInStore(const RegistrationImpl& r) const {
    const int64_t lease = HostLease(r);
    ASSERT_NE(lease, 0) << "host key missing";
    EXPECT_TRUE(env_->LeaseAlive(lease));
    ASSERT_NE(env_->Find(ServiceKey()), nullptr) << "service record missing";
  }

  std::shared_ptr<FakeRegistrationEnv> env_ =
      std::make_shared<FakeRegistrationEnv>();
  std::vector<Kind> events_;
};

TEST_F(RegistrationStateTest, UnregisteredToRegisteredByOneWrite) {
  auto r = Start();
  EXPECT_FALSE(r->Ready());
  ASSERT_TRUE(env_->RunUntilIdle());
  EXPECT_TRUE(r->Ready());
  ExpectRegisteredInStore(*r);
  EXPECT_EQ(env_->Find(ServiceKey())->lease, HostLease(*r));
  EXPECT_EQ(env_->calls("Txn"), 1);
  EXPECT_EQ(events_, (std::vector<Kind>{Kind::kRegistered}));
  EXPECT_TRUE(r->LastError().ok());
  EXPECT_EQ(env_->watches(), 2u);  // Its host key and the service record.
}

TEST_F(RegistrationStateTest, AFailedWriteStaysUnregisteredThenIsRetried) {
  env_->FailNext("Txn", absl::UnavailableError("etcd down"));
  auto r = Start();
  ASSERT_TRUE(env_->RunUntilIdle(/*timers=*/false));
  EXPECT_FALSE(r->Ready());
  EXPECT_TRUE(absl::IsUnavailable(r->LastError())) << r->LastError();
  EXPECT_EQ(events_, (std::vector<Kind>{Kind::kAttemptFailed}));
  EXPECT_EQ(env_->pending_timers(), 1u);  // The retry after a backoff.
  ASSERT_TRUE(env_->RunUntilIdle());
  EXPECT_TRUE(r->Ready());
  EXPECT_TRUE(r->LastError().ok());
  ExpectRegisteredInStore(*r);
  EXPECT_EQ(events_,
            (std::vector<Kind>{Kind::kAttemptFailed, Kind::kRegistered}));
}

TEST_F(RegistrationStateTest, ALeaseLostWhileTheFirstWriteIsInFlightIsNotForgotten) {
  auto r = Start();
  int64_t first_lease = 0;
  env_->During("Txn", [&] {
    first_lease = env_->Find(HostKey(*r))->lease;
    env_->ExpireLease(first_lease);  // Its keys go with it.
  });
  ASSERT_TRUE(env_->RunUntilIdle());
  EXPECT_TRUE(r->Ready());
  ExpectRegisteredInStore(*r);
  EXPECT_NE(HostLease(*r), first_lease);
  EXPECT_EQ(env_->calls("Txn"), 2);
  EXPECT_EQ(events_, (std::vector<Kind>{Kind::kRegistered}));
}

TEST_F(RegistrationStateTest, RegisteredToUnregisteredWhenEtcdReportsTheLeaseGoneThenBack) {
  auto r = Start();
  ASSERT_TRUE(env_->RunUntilIdle());
  const std::string uuid = r->UUID();
  const int64_t first_lease = HostLease(*r);
  env_->ExpireLease(first_lease);
  EXPECT_FALSE(r->Ready());
  ASSERT_TRUE(env_->RunUntilIdle());
  EXPECT_TRUE(r->Ready());
  EXPECT_EQ(r->UUID(), uuid);
  ExpectRegisteredInStore(*r);
  EXPECT_NE(HostLease(*r), first_lease);
  EXPECT_EQ(events_, (std::vector<Kind>{Kind::kRegistered, Kind::kLost,
                                        Kind::kReregistered}));
}

TEST_F(RegistrationStateTest, AWriteRefusedForAGoneLeaseTakesANewLeaseWithoutAFailure) {
  auto r = Start();
  env_->During("TakeLease", [&] { env_->ExpireLease(100); });
  ASSERT_TRUE(env_->RunUntilIdle());
  EXPECT_TRUE(r->Ready());
  ExpectRegisteredInStore(*r);
  EXPECT_NE(HostLease(*r), 100);
  EXPECT_EQ(env_->calls("TakeLease"), 2);
  EXPECT_EQ(events_, (std::vector<Kind>{Kind::kRegistered}));
}

TEST_F(RegistrationStateTest, AHostKeyDeletedBehindItsBackIsPutBackUnderTheSameLease) {
  auto r = Start();
  ASSERT_TRUE(env_->RunUntilIdle());
  const int64_t lease = HostLease(*r);
  env_->DeleteKey(HostKey(*r));
  ASSERT_TRUE(env_->RunUntilIdle());
  EXPECT_EQ(HostLease(*r), lease);
  EXPECT_TRUE(r->Ready());
  EXPECT_EQ(env_->calls("Put"), 1);
}

TEST_F(RegistrationStateTest, AHostKeyDeletedWhileItIsBeingPutBackIsPutBackAgain) {
  auto r = Start();
  ASSERT_TRUE(env_->RunUntilIdle());
  env_->During("Put", [&] { env_->DeleteKey(HostKey(*r)); });
  env_->DeleteKey(HostKey(*r));
  ASSERT_TRUE(env_->RunUntilIdle());
  EXPECT_NE(HostLease(*r), 0);
  EXPECT_EQ(env_->calls("Put"), 2);
}

TEST_F(RegistrationStateTest, AServiceRecordDeletedIsRestored) {
  auto r = Start();
  ASSERT_TRUE(env_->RunUntilIdle());
  env_->DeleteKey(ServiceKey());
  ASSERT_TRUE(env_->RunUntilIdle());
  ExpectRegisteredInStore(*r);
  EXPECT_EQ(env_->Find(ServiceKey())->lease, HostLease(*r));
}

TEST_F(RegistrationStateTest, NewCredentialsInTheServiceRecordAreAdoptedByAPublicHost) {
  auto r = Start(/*is_public=*/true);
  ASSERT_TRUE(env_->RunUntilIdle());
  ServiceInfo changed = ServiceFromHost("web", r->host());
  changed.user = "new-user";
  changed.password = "new-password";
  env_->PutKey(ServiceKey(), EncodeService(changed));
  ASSERT_TRUE(env_->RunUntilIdle());
  auto credentials = r->credentials();
  ASSERT_TRUE(credentials.ok());
  EXPECT_EQ(credentials->user, "new-user");
  auto stored = DecodeHost(env_->Find(HostKey(*r))->value);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->password, "new-password");
  EXPECT_EQ(events_, (std::vector<Kind>{Kind::kRegistered,
                                        Kind::kCredentialsChanged}));
}

TEST_F(RegistrationStateTest, AWatchThatEndsIsReadAndWatchedAgain) {
  auto r = Start();
  ASSERT_TRUE(env_->RunUntilIdle());
  env_->EndWatches(absl::OutOfRangeError("compacted"));
  ASSERT_TRUE(env_->RunUntilIdle());
  EXPECT_EQ(env_->watches(), 2u);
  EXPECT_EQ(env_->calls("Range"), 2);  // Each key read again.
  env_->DeleteKey(HostKey(*r));  // The new watch sees it.
  ASSERT_TRUE(env_->RunUntilIdle());
  EXPECT_NE(HostLease(*r), 0);
}

TEST_F(RegistrationStateTest, RegistrationsOfAServiceShareOneWatchOfItsRecord) {
  auto a = Start(false, "uuid-a");
  auto b = Start(false, "uuid-b");
  ASSERT_TRUE(env_->RunUntilIdle());
  EXPECT_EQ(env_->watches(), 3u);  // Two host keys, one service record.
  // Both hear the record go; the first put back wins, the other's finds it
  // there.
  const int txns = env_->calls("Txn");
  env_->DeleteKey(ServiceKey());
  ASSERT_TRUE(env_->RunUntilIdle());
  ASSERT_NE(env_->Find(ServiceKey()), nullptr);
  EXPECT_EQ(env_->calls("Txn"), txns + 2);
  // The first to join stops; the other still hears the record go.
  ASSERT_TRUE(a->Stop().ok());
  ASSERT_TRUE(env_->RunUntilIdle());
  EXPECT_EQ(env_->watches(), 2u);
  env_->DeleteKey(ServiceKey());
  ASSERT_TRUE(env_->RunUntilIdle());
  ASSERT_NE(env_->Find(ServiceKey()), nullptr);
  EXPECT_EQ(env_->Find(ServiceKey())->lease, HostLease(*b));
  ASSERT_TRUE(b->Stop().ok());
  ASSERT_TRUE(env_->RunUntilIdle());
  EXPECT_EQ(env_->watches(), 0u);
}

TEST_F(RegistrationStateTest, StopWhileTheWriteIsInFlightWritesNothingAfter) {
  auto r = Start();
  absl::Status stopped;
  env_->During("Txn", [&] { stopped = r->Stop(); });
  ASSERT_TRUE(env_->RunUntilIdle());
  EXPECT_TRUE(stopped.ok()) << stopped;
  EXPECT_FALSE(r->Ready());
  EXPECT_EQ(env_->Find(HostKey(*r)), nullptr);  // Revoked with the lease.
  EXPECT_EQ(env_->Find(ServiceKey()), nullptr);
  EXPECT_EQ(env_->calls("Txn"), 1);
  EXPECT_EQ(env_->watches(), 0u);
  EXPECT_EQ(events_, (std::vector<Kind>{Kind::kStopped}));
}

TEST_F(RegistrationStateTest, AStopThatCannotReachEtcdSaysSoAndTheNextStopRetries) {
  auto r = Start();
  ASSERT_TRUE(env_->RunUntilIdle());
  const int64_t lease = HostLease(*r);
  env_->FailNext("RevokeLease", absl::UnavailableError("etcd down"));
  const absl::Status first = r->Stop();
  EXPECT_TRUE(absl::IsUnavailable(first)) << first;
  EXPECT_TRUE(env_->LeaseAlive(lease));
  const absl::Status second = r->Stop();
  EXPECT_TRUE(second.ok()) << second;
  EXPECT_FALSE(env_->LeaseAlive(lease));
  EXPECT_EQ(env_->Find(HostKey(*r)), nullptr);
  EXPECT_EQ(env_->calls("RevokeLease"), 2);
  EXPECT_EQ(events_, (std::vector<Kind>{Kind::kRegistered, Kind::kStopped}));
  ASSERT_TRUE(env_->RunUntilIdle());
  EXPECT_EQ(env_->calls("Txn"), 1);  // Nothing written after Stop.
}

TEST_F(RegistrationStateTest, ALossReportedOnlyAfterStopChangesNothing) {
  auto r = Start();
  ASSERT_TRUE(env_->RunUntilIdle());
  // The lease expires; the keep-alive answer saying so comes after Stop().
  auto report = env_->ExpireLeaseReportLater(HostLease(*r));
  EXPECT_TRUE(r->Stop().ok());  // Revoking a lease already gone is fine.
  report();
  ASSERT_TRUE(env_->RunUntilIdle());
  EXPECT_FALSE(r->Ready());
  EXPECT_EQ(env_->calls("Txn"), 1);
  EXPECT_EQ(env_->calls("TakeLease"), 1);
  EXPECT_EQ(events_, (std::vector<Kind>{Kind::kRegistered, Kind::kStopped}));
}

TEST_F(RegistrationStateTest, StopWhileALeaseIsBeingTakenRevokesItAndWritesNothing) {
  auto r = Start();
  absl::Status stopped;
  env_->During("TakeLease", [&] { stopped = r->Stop(); });
  ASSERT_TRUE(env_->RunUntilIdle());
  EXPECT_TRUE(stopped.ok()) << stopped;
  EXPECT_EQ(env_->calls("Txn"), 0);
  EXPECT_FALSE(env_->LeaseAlive(100));  // The registration revoked it.
  EXPECT_EQ(env_->calls("RevokeLease"), 1);
  EXPECT_EQ(events_, (std::vector<Kind>{Kind::kStopped}));
}

TEST_F(RegistrationStateTest, AHostKeyDeleteSeenBeforeThePutBackIsAnsweredIsPutBackAgain) {
  auto r = Start();
  ASSERT_TRUE(env_->RunUntilIdle());
  env_->During("Put", [&] {
    env_->DeleteKey(HostKey(*r));
    env_->RunUntilIdle(/*timers=*/false);  // Its watch event arrives first.
  });
  env_->DeleteKey(HostKey(*r));
  ASSERT_TRUE(env_->RunUntilIdle());
  EXPECT_NE(HostLease(*r), 0);
  EXPECT_EQ(env_->calls("Put"), 2);
}

}  // namespace
}  // namespace etcdisc::internal
