// TLS and mutual TLS to a real etcd started with a throwaway CA.
#include <fstream>
#include <iterator>
#include <string>

#include "etcdisc/client.h"
#include "gtest/gtest.h"
#include "support/discovery_test.h"
#include "support/text.h"

namespace etcdisc {
namespace {

using ::etcdisc::testing::DiscoveryTest;
using ::etcdisc::testing::EtcdClusterOptions;
using std::chrono::milliseconds;
using std::chrono::seconds;

using testing::Contains;

class TlsTest : public DiscoveryTest {
 protected:
  EtcdClusterOptions::Tls Tls() const override {
    return EtcdClusterOptions::Tls::kServer;
  }
  // A client of this cluster with `change` applied to its options.
  template <typename Change>
  absl::StatusOr<ServiceHosts> GetWith(Change change) {
    ClientOptions options = DiscoveryOptions();
    options.call_timeout = seconds(2);
    options.dial_timeout = milliseconds(500);
    change(options);
    auto client = Client::Create(options);
    if (!client.ok()) return client.status();
    return (*client)->Get("web");
  }
};

TEST_F(TlsTest, RegistersFindsAndWatchesOverTls) {
  ASSERT_TRUE(Contains(cluster().endpoints(), "https://"));
  auto news = discovery().SubscribeNew("web");
  auto downs = discovery().SubscribeDown("web");
  ASSERT_TRUE(news.ok() && downs.ok());
  auto reg = MustRegister("web", WebHost("10.0.0.1"));
  ASSERT_NE(reg, nullptr);
  auto seen = (*news)->Pop(seconds(10));
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->uuid, reg->UUID());
  auto hosts = discovery().Get("web");
  ASSERT_TRUE(hosts.ok()) << hosts.status();
  EXPECT_EQ(hosts->First()->uuid, reg->UUID());
  ASSERT_TRUE(reg->Stop().ok());
  auto down = (*downs)->Pop(seconds(10));
  ASSERT_TRUE(down.has_value());
  EXPECT_EQ(*down, reg->UUID());
}

TEST_F(TlsTest, TheCaMayBeGivenAsPemText) {
  auto hosts = GetWith([&](ClientOptions& o) {
    std::ifstream in(o.tls.ca_file);
    o.tls.ca_pem.assign(std::istreambuf_iterator<char>(in), {});
    o.tls.ca_file.clear();
  });
  EXPECT_TRUE(hosts.ok()) << hosts.status();
}

TEST_F(TlsTest, AnotherCaAWrongNameOrPlainHttpFailNamingTheEndpoint) {
  auto wrong_ca = GetWith([&](ClientOptions& o) {
    o.tls.ca_file = cluster().certs().other_ca_file;
  });
  EXPECT_TRUE(absl::IsUnavailable(wrong_ca.status()) ||
              absl::IsDeadlineExceeded(wrong_ca.status()))
      << wrong_ca.status();
  EXPECT_TRUE(Contains(wrong_ca.status().message(),
                       "TLS handshake with etcd member " + cluster().endpoint(0)))
      << wrong_ca.status();
  EXPECT_TRUE(Contains(wrong_ca.status().message(), "certificate verify"))
      << wrong_ca.status();

  auto wrong_name = GetWith(
      [&](ClientOptions& o) { o.tls.server_name = "not-etcd.example"; });
  EXPECT_TRUE(absl::IsUnavailable(wrong_name.status())) << wrong_name.status();
  EXPECT_TRUE(Contains(wrong_name.status().message(),
                       "TLS handshake with etcd member " + cluster().endpoint(0)))
      << wrong_name.status();
  EXPECT_TRUE(Contains(wrong_name.status().message(), "not-etcd.example"))
      << wrong_name.status();

  const std::string http = "http://" + cluster().endpoint(0).substr(8);
  auto plain = GetWith([&](ClientOptions& o) {
    o.endpoints = http;
    o.tls = TlsOptions{};
  });
  EXPECT_TRUE(absl::IsUnavailable(plain.status())) << plain.status();
  EXPECT_TRUE(Contains(plain.status().message(), http)) << plain.status();
  EXPECT_TRUE(Contains(plain.status().message(), "use https://"))
      << plain.status();
}

TEST_F(TlsTest, BadTlsOptionsAreRefusedNamingThem) {
  auto both = GetWith([&](ClientOptions& o) { o.tls.ca_pem = "x"; });
  EXPECT_EQ(both.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(both.status().message(), "ca_file and ca_pem"))
      << both.status();

  auto missing = GetWith(
      [&](ClientOptions& o) { o.tls.ca_file = "/nonexistent/ca.pem"; });
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(missing.status().message(), "/nonexistent/ca.pem"))
      << missing.status();

  auto lonely_key = GetWith([&](ClientOptions& o) {
    o.tls.key_file = cluster().certs().client.key_file;
  });
  EXPECT_EQ(lonely_key.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(lonely_key.status().message(), "certificate"))
      << lonely_key.status();

  auto not_pem = GetWith([&](ClientOptions& o) {
    o.tls.ca_file.clear();
    o.tls.ca_pem = "secret-looking text";
  });
  EXPECT_EQ(not_pem.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(Contains(not_pem.status().message(), "secret-looking"));

  auto http = GetWith([&](ClientOptions& o) {
    o.endpoints = "http://127.0.0.1:2379";
  });
  EXPECT_EQ(http.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(http.status().message(), "http://127.0.0.1:2379"))
      << http.status();
}

class MutualTlsTest : public TlsTest {
 protected:
  EtcdClusterOptions::Tls Tls() const override {
    return EtcdClusterOptions::Tls::kMutual;
  }
};

TEST_F(MutualTlsTest, RegistersWithAClientCertificateAndFailsWithout) {
  auto reg = MustRegister("web", WebHost("10.0.0.1"));
  ASSERT_NE(reg, nullptr);
  auto hosts = discovery().Get("web");
  ASSERT_TRUE(hosts.ok()) << hosts.status();
  EXPECT_EQ(hosts->First()->uuid, reg->UUID());

  auto anonymous = GetWith([&](ClientOptions& o) {
    o.tls.cert_file.clear();
    o.tls.key_file.clear();
  });
  EXPECT_FALSE(anonymous.ok());
  EXPECT_TRUE(Contains(anonymous.status().message(),
                       "TLS handshake with etcd member " + cluster().endpoint(0)))
      << anonymous.status();

  auto foreign = GetWith([&](ClientOptions& o) {
    o.tls.ca_file = cluster().certs().other_ca_file;
  });
  EXPECT_FALSE(foreign.ok());
}

TEST_F(MutualTlsTest, AnExpiredClientCertificateFailsTheHandshakeNamingTheMember) {
  using Validity = ::etcdisc::testing::TestCerts::Validity;
  auto expired = cluster().certs().MakeClient("root", Validity::kExpired);
  ASSERT_TRUE(expired.ok()) << expired.status();
  auto hosts = GetWith([&](ClientOptions& o) {
    o.tls.cert_file = expired->cert_file;
    o.tls.key_file = expired->key_file;
  });
  EXPECT_TRUE(absl::IsUnavailable(hosts.status())) << hosts.status();
  EXPECT_TRUE(Contains(hosts.status().message(),
                       "TLS handshake with etcd member " + cluster().endpoint(0)))
      << hosts.status();
}

}  // namespace
}  // namespace etcdisc
