// A throwaway certificate authority for TLS tests, made with Debian's openssl
// CLI: a CA, a server certificate for 127.0.0.1 and localhost, and client
// certificates, all under one directory.
#ifndef ETCDISC_TEST_SUPPORT_TEST_CERTS_H_
#define ETCDISC_TEST_SUPPORT_TEST_CERTS_H_

#include <string>

#include "absl/status/statusor.h"

namespace etcdisc::testing {

struct CertAndKey {
  std::string cert_file;
  std::string key_file;
};

// A P-256 key pair, e.g. for etcd's JWT tokens.
struct KeyPair {
  std::string public_file;
  std::string private_file;
};
// Makes `dir`/jwt.pub and `dir`/jwt.key.
absl::StatusOr<KeyPair> MakeSigningKeys(const std::string& dir);

struct TestCerts {
  std::string ca_file;        // The CA that signed everything below.
  CertAndKey server;          // CN etcd-server; 127.0.0.1 and localhost.
  CertAndKey client;          // CN root: etcd's root user with cert auth.
  std::string other_ca_file;  // A CA that signed nothing here.

  // Makes them in `dir` (which must exist). ECDSA P-256, valid for 2 days.
  static absl::StatusOr<TestCerts> Make(const std::string& dir);
  enum class Validity { kCurrent, kExpired };
  // Another client certificate signed by the CA, with common name `cn`;
  // kExpired gives one whose notAfter was a day ago.
  absl::StatusOr<CertAndKey> MakeClient(
      const std::string& cn, Validity validity = Validity::kCurrent) const;
  // Another server certificate signed by the CA, valid for the names in
  // `subject_alt_names` only (e.g. "DNS:localhost"); files `name`.pem/.key.
  absl::StatusOr<CertAndKey> MakeServer(
      const std::string& name, const std::string& subject_alt_names) const;

 private:
  std::string dir_;
  std::string ca_key_file_;
};

}  // namespace etcdisc::testing

#endif  // ETCDISC_TEST_SUPPORT_TEST_CERTS_H_
