#include <cstdlib>
#include <string>

#include "absl/strings/escaping.h"
#include "etcdisc/client.h"
#include "gtest/gtest.h"

namespace etcdisc {
namespace {

// Sets environment variables for one test and restores them after.
class EnvironmentTest : public ::testing::Test {
 protected:
  void TearDown() override {
    for (const char* name : {"ETCD_HOSTS", "ETCD_HOST", "HOSTNAME", "ETCD_CACERT",
                             "ETCD_TLS_CERT", "ETCD_TLS_KEY", "ETCD_TLS_INMEMORY",
                             "ETCD_USER", "ETCD_PASSWORD",
                             "ETCD_PASSWORD_FILE"}) {
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

TEST_F(EnvironmentTest, TlsFilesTurnHttpEndpointsIntoHttps) {
  ::setenv("ETCD_HOSTS", "http://a:2379,http://b:2379", 1);
  ::setenv("ETCD_CACERT", "/etc/etcd/ca.pem", 1);
  ::setenv("ETCD_TLS_CERT", "/etc/etcd/client.pem", 1);
  ::setenv("ETCD_TLS_KEY", "/etc/etcd/client.key", 1);
  ::setenv("ETCD_TLS_INMEMORY", "false", 1);  // Anything but "true": files.
  auto options = ClientOptionsFromEnvironment();
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->endpoints, "https://a:2379,https://b:2379");
  EXPECT_EQ(options->tls.ca_file, "/etc/etcd/ca.pem");
  EXPECT_EQ(options->tls.cert_file, "/etc/etcd/client.pem");
  EXPECT_EQ(options->tls.key_file, "/etc/etcd/client.key");
  EXPECT_TRUE(options->tls.ca_pem.empty());
}

TEST_F(EnvironmentTest, InMemoryTlsTakesPemAsIsOrBase64) {
  const std::string pem =
      "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  ::setenv("ETCD_TLS_INMEMORY", "true", 1);
  ::setenv("ETCD_CACERT", pem.c_str(), 1);
  ::setenv("ETCD_TLS_CERT", absl::Base64Escape(pem).c_str(), 1);
  auto options = ClientOptionsFromEnvironment();
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->tls.ca_pem, pem);
  EXPECT_EQ(options->tls.cert_pem, pem);
  EXPECT_TRUE(options->tls.ca_file.empty());
  EXPECT_EQ(options->endpoints, "https://localhost:2379");
}

TEST_F(EnvironmentTest, InMemoryTlsThatIsNotPemIsRefusedNamingTheVariable) {
  ::setenv("ETCD_TLS_INMEMORY", "true", 1);
  ::setenv("ETCD_TLS_KEY", "not-a-key-at-all", 1);
  auto options = ClientOptionsFromEnvironment();
  EXPECT_EQ(options.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(options.status().message().find("ETCD_TLS_KEY"),
            absl::string_view::npos);
  EXPECT_EQ(options.status().message().find("not-a-key-at-all"),
            absl::string_view::npos);
}

TEST_F(EnvironmentTest, EtcdUserAndPasswordOrPasswordFile) {
  ::setenv("ETCD_USER", "app", 1);
  ::setenv("ETCD_PASSWORD", "s3cret", 1);
  auto options = ClientOptionsFromEnvironment();
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->auth.user, "app");
  EXPECT_EQ(options->auth.password, "s3cret");
  EXPECT_TRUE(options->auth.password_file.empty());

  ::unsetenv("ETCD_PASSWORD");
  ::setenv("ETCD_PASSWORD_FILE", "/run/secrets/etcd", 1);
  options = ClientOptionsFromEnvironment();
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->auth.password_file, "/run/secrets/etcd");
  EXPECT_TRUE(options->auth.password.empty());
}

TEST_F(EnvironmentTest, BadAuthOptionsAreRefusedWithoutThePassword) {
  ClientOptions both;
  both.auth = {"app", "s3cret-1", "/run/secrets/etcd"};
  auto client = Client::Create(both);
  EXPECT_EQ(client.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(client.status().message().find("password_file"),
            absl::string_view::npos);
  EXPECT_EQ(client.status().message().find("s3cret-1"), absl::string_view::npos);

  ClientOptions no_user;
  no_user.auth.password = "s3cret-2";
  client = Client::Create(no_user);
  EXPECT_EQ(client.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(client.status().message().find("no user"), absl::string_view::npos);
  EXPECT_EQ(client.status().message().find("s3cret-2"), absl::string_view::npos);

  ClientOptions no_password;
  no_password.auth.user = "app";
  client = Client::Create(no_password);
  EXPECT_EQ(client.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(client.status().message().find("\"app\" has no password"),
            absl::string_view::npos)
      << client.status();

  ClientOptions unreadable;
  unreadable.auth = {"app", "", "/nonexistent/etcd-password"};
  client = Client::Create(unreadable);
  EXPECT_EQ(client.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(client.status().message().find("/nonexistent/etcd-password"),
            absl::string_view::npos);
}

}  // namespace
}  // namespace etcdisc
