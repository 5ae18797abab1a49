// A GoogleTest fixture with a real etcd and an etcdisc Client on it.
#ifndef ETCDISC_TEST_SUPPORT_DISCOVERY_TEST_H_
#define ETCDISC_TEST_SUPPORT_DISCOVERY_TEST_H_

#include <memory>
#include <string>
#include <vector>

#include "etcdisc/client.h"
#include "gtest/gtest.h"
#include "support/etcd_test.h"

namespace etcdisc::testing {

class DiscoveryTest : public EtcdTest {
 protected:
  void SetUp() override {
    EtcdTest::SetUp();
    if (HasFatalFailure()) return;
    discovery_ = NewDiscoveryClient();
    ASSERT_NE(discovery_, nullptr);
  }
  void TearDown() override {
    discovery_.reset();
    EtcdTest::TearDown();
  }

  virtual ClientOptions DiscoveryOptions() const {
    ClientOptions options;
    options.endpoints = cluster().endpoints();
    options.tls = cluster().ClientTls();
    if (cluster().auth()) options.auth = cluster().ClientAuth("registrar");
    options.call_timeout = std::chrono::seconds(3);
    options.hostname = "test-machine";
    return options;
  }
  std::unique_ptr<Client> NewDiscoveryClient() const {
    auto client = Client::Create(DiscoveryOptions());
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? *std::move(client) : nullptr;
  }
  Client& discovery() { return *discovery_; }

  static Host WebHost(const std::string& name, const std::string& port = "80") {
    Host h;
    h.name = name;
    h.ports = {{"http", port}};
    return h;
  }

  // Registers and waits until the host is in etcd.
  std::unique_ptr<Registration> MustRegister(
      const std::string& service, Host host,
      RegisterOptions options = RegisterOptions{},
      RegistrationCallback on_event = nullptr) {
    auto reg = discovery().Register(service, std::move(host), options,
                                    std::move(on_event));
    EXPECT_TRUE(reg.ok()) << reg.status();
    if (!reg.ok()) return nullptr;
    const absl::Status ready =
        (*reg)->WaitRegistration(std::chrono::seconds(10));
    EXPECT_TRUE(ready.ok()) << ready;
    return *std::move(reg);
  }

  // The raw value at `key`, or "" when absent.
  std::string RawValue(const std::string& key) {
    internal::RangeRequest read;
    read.key = key;
    auto range = client().kv().Range(read);
    EXPECT_TRUE(range.ok()) << range.status();
    return range.ok() && !range->kvs.empty() ? range->kvs[0].value : "";
  }
  int64_t RawLease(const std::string& key) {
    internal::RangeRequest read;
    read.key = key;
    auto range = client().kv().Range(read);
    return range.ok() && !range->kvs.empty() ? range->kvs[0].lease : 0;
  }

  // Writes a host key with no lease for `service` and returns its uuid: a
  // marker whose New, arriving after everything written before it, shows
  // that a subscription has delivered all of that.
  std::string PutMarker(const std::string& service) {
    const std::string uuid = "marker-" + std::to_string(++markers_);
    MustPut("/services/" + service + "/" + uuid, R"({"name":"marker"})");
    return uuid;
  }

 private:
  std::unique_ptr<Client> discovery_;
  int markers_ = 0;
};

// Pops until the event for `marker` arrives (at most `timeout` in all) and
// returns what came before it; fails the test if the marker never comes.
template <typename T, typename UuidOf>
std::vector<T> PopThrough(Subscription<T>& sub, const std::string& marker,
                          UuidOf uuid_of, std::chrono::milliseconds timeout) {
  std::vector<T> out;
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    auto v = sub.Pop(std::chrono::milliseconds(100));
    if (!v) continue;
    if (uuid_of(*v) == marker) return out;
    out.push_back(*std::move(v));
  }
  ADD_FAILURE() << "marker " << marker << " never arrived";
  return out;
}

}  // namespace etcdisc::testing

#endif  // ETCDISC_TEST_SUPPORT_DISCOVERY_TEST_H_
