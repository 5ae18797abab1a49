#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "etcdisc/client.h"

namespace etcdisc {

absl::StatusOr<ClientOptions> ClientOptionsFromEnvironment() {
  const auto get = [](const char* name) -> std::string {
    const char* value = std::getenv(name);
    return value == nullptr ? "" : value;
  };
  for (const char* tls :
       {"ETCD_CACERT", "ETCD_TLS_CERT", "ETCD_TLS_KEY", "ETCD_TLS_INMEMORY"}) {
    if (!get(tls).empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          tls, " is set, but this version of etcdisc does not support TLS "
               "yet; unset it to connect without TLS"));
    }
  }
  ClientOptions options;
  if (!get("ETCD_HOSTS").empty()) {
    options.endpoints = get("ETCD_HOSTS");
  } else if (!get("ETCD_HOST").empty()) {
    options.endpoints = get("ETCD_HOST");
  }
  options.hostname = get("HOSTNAME");
  return options;
}

}  // namespace etcdisc
