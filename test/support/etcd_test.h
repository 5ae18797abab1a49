// GoogleTest fixtures that start a real etcd for each test and an etcd-layer
// client connected to it.
#ifndef ETCDISC_TEST_SUPPORT_ETCD_TEST_H_
#define ETCDISC_TEST_SUPPORT_ETCD_TEST_H_

#include <cstdio>
#include <memory>
#include <string>

#include "discovery/options.h"
#include "etcd/etcd_client.h"
#include "gtest/gtest.h"
#include "support/etcd_cluster.h"

namespace etcdisc::testing {

// Starts a cluster of `Members()` members before each test; `client()` talks
// to all of them.
class EtcdTest : public ::testing::Test {
 protected:
  virtual int Members() const { return 1; }
  virtual EtcdClusterOptions::Tls Tls() const {
    return EtcdClusterOptions::Tls::kNone;
  }
  // Other options of the cluster (auth, its token TTL).
  virtual void Configure(EtcdClusterOptions* /*options*/) const {}
  virtual internal::EtcdClientOptions EtcdOptions() const {
    internal::EtcdClientOptions options =
        internal::EtcdOptionsFrom(ClientOptions());
    options.endpoints = cluster_->endpoints();
    options.call_timeout = std::chrono::seconds(3);
    options.tls = cluster_->EtcdTls();
    if (cluster_->auth()) {
      options.credentials = internal::EtcdCredentials{
          "root", cluster_->Password("root")};
    }
    return options;
  }

  void SetUp() override {
    EtcdClusterOptions options;
    options.members = Members();
    options.tls = Tls();
    Configure(&options);
    auto cluster = EtcdCluster::Start(options);
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = *std::move(cluster);
    client_ = NewClient();
    ASSERT_NE(client_, nullptr);
  }

  std::unique_ptr<internal::EtcdClient> NewClient() const {
    auto client = internal::EtcdClient::Create(EtcdOptions());
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? *std::move(client) : nullptr;
  }

  internal::EtcdClient& client() { return *client_; }
  EtcdCluster& cluster() const { return *cluster_; }

  // Puts key=value and returns the revision of the write.
  int64_t MustPut(const std::string& key, const std::string& value,
                  int64_t lease = 0) {
    internal::PutRequest put;
    put.key = key;
    put.value = value;
    put.lease = lease;
    auto response = client().kv().Put(put);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? response->revision : 0;
  }

  int64_t MustDelete(const std::string& key) {
    internal::DeleteRequest del;
    del.key = key;
    auto response = client().kv().Delete(del);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? response->revision : 0;
  }

  void TearDown() override {
    if (HasFailure() && cluster_ != nullptr) PrintEtcdWarnings();
    client_.reset();  // Before the cluster, so that its streams end cleanly.
    cluster_.reset();
  }

 private:
  // etcd's own account of a failed test's time: a slow disk or apply, an
  // election.
  void PrintEtcdWarnings() const {
    for (int i = 0; i < cluster_->size(); ++i) {
      const std::string warnings = cluster_->LogWarnings(i, 15);
      if (warnings.empty()) continue;
      std::fprintf(stderr, "etcd member %d's last warnings:\n%s\n", i,
                   warnings.c_str());
    }
  }

  std::unique_ptr<EtcdCluster> cluster_;
  std::unique_ptr<internal::EtcdClient> client_;
};

class EtcdClusterTest : public EtcdTest {
 protected:
  int Members() const override { return 3; }
};

}  // namespace etcdisc::testing

#endif  // ETCDISC_TEST_SUPPORT_ETCD_TEST_H_
