#include "support/test_certs.h"

#include <fstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "support/process.h"

namespace etcdisc::testing {
namespace {

absl::Status Openssl(std::vector<std::string> args) {
  args.insert(args.begin(), "/usr/bin/openssl");
  ProcessResult result = RunProcess(args);
  if (result.exit_code != 0) {
    return absl::InternalError(
        absl::StrCat("openssl ", args[1], " failed: ", result.err));
  }
  return absl::OkStatus();
}

// A new P-256 key in `key_file`, and a certificate for it signed by
// `ca`/`ca_key` (self-signed when both are empty), valid for `days` from now.
// A negative `days` gives a certificate that has already expired.
absl::Status MakeCert(const std::string& dir, const std::string& name,
                      const std::string& cn, const std::string& extensions,
                      const std::string& ca, const std::string& ca_key,
                      int days = 2) {
  const std::string key = absl::StrCat(dir, "/", name, ".key");
  const std::string cert = absl::StrCat(dir, "/", name, ".pem");
  if (ca.empty()) {
    return Openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "2", "-subj", "/CN=" + cn});
  }
  const std::string csr = absl::StrCat(dir, "/", name, ".csr");
  const std::string ext = absl::StrCat(dir, "/", name, ".ext");
  std::ofstream(ext) << extensions << "\n";
  absl::Status status = Openssl(
      {"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
       "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=" + cn});
  if (!status.ok()) return status;
  return Openssl({"x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key,
                  "-CAcreateserial", "-out", cert, "-days",
                  std::to_string(days), "-extfile", ext});
}

CertAndKey Files(const std::string& dir, const std::string& name) {
  return {absl::StrCat(dir, "/", name, ".pem"),
          absl::StrCat(dir, "/", name, ".key")};
}

}  // namespace

absl::StatusOr<KeyPair> MakeSigningKeys(const std::string& dir) {
  KeyPair keys{dir + "/jwt.pub", dir + "/jwt.key"};
  absl::Status made = Openssl({"ecparam", "-name", "prime256v1", "-genkey",
                               "-noout", "-out", keys.private_file});
  if (!made.ok()) return made;
  made = Openssl(
      {"ec", "-in", keys.private_file, "-pubout", "-out", keys.public_file});
  if (!made.ok()) return made;
  return keys;
}

absl::StatusOr<TestCerts> TestCerts::Make(const std::string& dir) {
  TestCerts certs;
  certs.dir_ = dir;
  certs.ca_file = dir + "/ca.pem";
  certs.ca_key_file_ = dir + "/ca.key";
  certs.other_ca_file = dir + "/other-ca.pem";
  for (const auto& [name, cn] :
       {std::pair<std::string, std::string>{"ca", "etcdisc test CA"},
        {"other-ca", "etcdisc other CA"}}) {
    absl::Status made = MakeCert(dir, name, cn, "", "", "");
    if (!made.ok()) return made;
  }
  // etcd also dials itself with the server certificate: it is a client too.
  absl::Status made = MakeCert(
      dir, "server", "etcd-server",
      "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
      "extendedKeyUsage=serverAuth,clientAuth",
      certs.ca_file, certs.ca_key_file_);
  if (!made.ok()) return made;
  certs.server = Files(dir, "server");
  auto client = certs.MakeClient("root");
  if (!client.ok()) return client.status();
  certs.client = *client;
  return certs;
}

absl::StatusOr<CertAndKey> TestCerts::MakeClient(const std::string& cn,
                                                 Validity validity) const {
  const bool expired = validity == Validity::kExpired;
  const std::string name = (expired ? "expired-client-" : "client-") + cn;
  absl::Status made = MakeCert(dir_, name, cn, "extendedKeyUsage=clientAuth",
                               ca_file, ca_key_file_, expired ? -1 : 2);
  if (!made.ok()) return made;
  return Files(dir_, name);
}

absl::StatusOr<CertAndKey> TestCerts::MakeServer(
    const std::string& name, const std::string& subject_alt_names) const {
  absl::Status made = MakeCert(
      dir_, name, name,
      "subjectAltName=" + subject_alt_names + "\nextendedKeyUsage=serverAuth",
      ca_file, ca_key_file_);
  if (!made.ok()) return made;
  return Files(dir_, name);
}

}  // namespace etcdisc::testing
