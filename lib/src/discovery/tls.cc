#include "discovery/tls.h"

#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "etcd/endpoints.h"
#include "util/status_macros.h"

namespace etcdisc::internal {
namespace {

// One item: `file` read, or `pem` as given; empty when neither is set.
absl::StatusOr<std::string> LoadItem(absl::string_view name,
                                     const std::string& file,
                                     const std::string& pem) {
  const std::string field = absl::StrCat("ClientOptions::tls.", name);
  if (!file.empty() && !pem.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid ", field, "_file and ", name, "_pem: both are set; give one"));
  }
  std::string text = pem;
  if (!file.empty()) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream read;
    read << in.rdbuf();
    if (!in) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid ", field, "_file = ", file, ": cannot read it"));
    }
    text = read.str();
  }
  if (!text.empty() && !absl::StrContains(text, "-----BEGIN ")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid ", field, file.empty() ? "_pem" : "_file",
        file.empty() ? "" : absl::StrCat(" = ", file), ": it is not PEM"));
  }
  return text;
}

}  // namespace

absl::StatusOr<EtcdClientOptions::Tls> LoadTls(const ClientOptions& options) {
  const TlsOptions& tls = options.tls;
  EtcdClientOptions::Tls out;
  if (tls.empty()) return out;
  ETCDISC_ASSIGN_OR_RETURN(auto endpoints, ParseEndpoints(options.endpoints));
  for (const Endpoint& e : endpoints) {
    if (!e.tls) {
      return absl::InvalidArgumentError(absl::StrCat(
          "ClientOptions::tls is set, but endpoint ", e.Url(),
          " is not https://"));
    }
  }
  ETCDISC_ASSIGN_OR_RETURN(out.ca_pem, LoadItem("ca", tls.ca_file, tls.ca_pem));
  ETCDISC_ASSIGN_OR_RETURN(out.cert_pem,
                           LoadItem("cert", tls.cert_file, tls.cert_pem));
  ETCDISC_ASSIGN_OR_RETURN(out.key_pem,
                           LoadItem("key", tls.key_file, tls.key_pem));
  if (out.cert_pem.empty() != out.key_pem.empty()) {
    return absl::InvalidArgumentError(
        "invalid ClientOptions::tls: a client certificate needs its key, and "
        "a key its certificate; give both or neither");
  }
  out.server_name = tls.server_name;
  return out;
}

}  // namespace etcdisc::internal
