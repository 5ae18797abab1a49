#include <cstdlib>

#include "etcdisc/client.h"
#include "gtest/gtest.h"

namespace etcdisc {
namespace {

// Sets environment variables for one test and restores them after.
class EnvironmentTest : public ::testing::Test {
 protected:
  void TearDown() override {
    for (const char* name : {"ETCD_HOSTS", "ETCD_HOST", "HOSTNAME", "ETCD_CACERT",
                             "ETCD_TLS_CERT", "ETCD_TLS_KEY", "ETCD_TLS_INMEMORY"}) {
      ::unsetenv(name);
    }
  }
};

TEST_F(EnvironmentTest, DefaultsToLocalhost) {
  ::unsetenv("ETCD_HOSTS");
  ::unsetenv("ETCD_HOST");
  auto options = ClientOptionsFromEnvironment();
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->endpoints, "http://localhost:2379");
}

TEST_F(EnvironmentTest, EtcdHostsWinsOverEtcdHost) {
  ::setenv("ETCD_HOST", "http://one:2379", 1);
  auto options = ClientOptionsFromEnvironment();
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->endpoints, "http://one:2379");
  ::setenv("ETCD_HOSTS", "http://a:2379,http://b:2379", 1);
  options = ClientOptionsFromEnvironment();
  EXPECT_EQ(options->endpoints, "http://a:2379,http://b:2379");
}

TEST_F(EnvironmentTest, HostnameOverridesTheMachineName) {
  ::setenv("HOSTNAME", "node-42", 1);
  auto options = ClientOptionsFromEnvironment();
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->hostname, "node-42");
}

TEST_F(EnvironmentTest, TlsVariablesAreRefusedNamingTheVariable) {
  ::setenv("ETCD_TLS_CERT", "/etc/cert.pem", 1);
  auto options = ClientOptionsFromEnvironment();
  EXPECT_EQ(options.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(options.status().message().find("ETCD_TLS_CERT"),
            absl::string_view::npos);
}

}  // namespace
}  // namespace etcdisc
