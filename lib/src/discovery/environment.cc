#include <cstdlib>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "etcdisc/client.h"

namespace etcdisc {
namespace {

std::string Get(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : value;
}

// With ETCD_TLS_INMEMORY=true a variable holds the PEM text itself, as is or
// base64-encoded (as the Go package takes it).
absl::StatusOr<std::string> InMemoryPem(const char* name) {
  const std::string value = Get(name);
  if (value.empty() || absl::StrContains(value, "-----BEGIN ")) return value;
  std::string decoded;
  if (!absl::Base64Unescape(value, &decoded) ||
      !absl::StrContains(decoded, "-----BEGIN ")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid ", name, ": with ETCD_TLS_INMEMORY=true it must hold PEM "
        "text, as is or base64-encoded"));
  }
  return decoded;
}

// ETCD_CACERT, ETCD_TLS_CERT, ETCD_TLS_KEY: files, or PEM text when
// ETCD_TLS_INMEMORY is "true" (any other value means files).
absl::Status ReadTls(ClientOptions* options) {
  if (Get("ETCD_TLS_INMEMORY") == "true") {
    auto ca = InMemoryPem("ETCD_CACERT");
    auto cert = InMemoryPem("ETCD_TLS_CERT");
    auto key = InMemoryPem("ETCD_TLS_KEY");
    for (const auto* item : {&ca, &cert, &key}) {
      if (!item->ok()) return item->status();
    }
    options->tls.ca_pem = *std::move(ca);
    options->tls.cert_pem = *std::move(cert);
    options->tls.key_pem = *std::move(key);
  } else {
    options->tls.ca_file = Get("ETCD_CACERT");
    options->tls.cert_file = Get("ETCD_TLS_CERT");
    options->tls.key_file = Get("ETCD_TLS_KEY");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ClientOptions> ClientOptionsFromEnvironment() {
  ClientOptions options;
  if (!Get("ETCD_HOSTS").empty()) {
    options.endpoints = Get("ETCD_HOSTS");
  } else if (!Get("ETCD_HOST").empty()) {
    options.endpoints = Get("ETCD_HOST");
  }
  options.hostname = Get("HOSTNAME");
  if (absl::Status read = ReadTls(&options); !read.ok()) return read;
  // etcd authentication, which the Go package lacks.
  options.auth.user = Get("ETCD_USER");
  options.auth.password = Get("ETCD_PASSWORD");
  options.auth.password_file = Get("ETCD_PASSWORD_FILE");
  if (!options.tls.empty()) {
    // As the Go package does: TLS turns http:// endpoints into https://.
    options.endpoints =
        absl::StrReplaceAll(options.endpoints, {{"http://", "https://"}});
  }
  return options;
}

}  // namespace etcdisc
