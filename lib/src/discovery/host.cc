#include "etcdisc/host.h"

#include "absl/strings/str_cat.h"
#include "discovery/records.h"

namespace etcdisc {
namespace {

absl::StatusOr<std::string> BuildURL(absl::string_view hostname,
                                     const Ports& ports,
                                     const std::string& user,
                                     const std::string& password,
                                     absl::string_view scheme,
                                     absl::string_view path) {
  std::string chosen(scheme);
  if (chosen.empty()) {
    chosen = ports.count("http") ? "http" : "https";
  }
  auto port = ports.find(chosen);
  if (port == ports.end()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown scheme \"", scheme.empty() ? "http or https" : scheme,
        "\": host \"", hostname, "\" has no port for it"));
  }
  if (user.empty()) {
    return absl::StrCat(chosen, "://", hostname, ":", port->second, path);
  }
  return absl::StrCat(chosen, "://", user, ":", password, "@", hostname, ":",
                      port->second, path);
}

}  // namespace

absl::StatusOr<std::string> HostSpec::URL(absl::string_view scheme,
                                      absl::string_view path) const {
  return BuildURL(name, ports, user, password, scheme, path);
}

absl::StatusOr<std::string> HostSpec::PrivateURL(absl::string_view scheme,
                                             absl::string_view path) const {
  if (private_hostname.empty()) return URL(scheme, path);
  return BuildURL(private_hostname, private_ports, user, password, scheme,
                  path);
}

std::string ToJson(const Host& host) { return internal::EncodeHost(host); }

std::string ToJson(const ServiceInfo& service) {
  return internal::EncodeService(service);
}

absl::StatusOr<Host> HostFromJson(absl::string_view json) {
  return internal::DecodeHost(json);
}

bool HostSpec::operator==(const HostSpec& o) const {
  return name == o.name && ports == o.ports && user == o.user &&
         password == o.password && is_public == o.is_public &&
         private_hostname == o.private_hostname &&
         private_ports == o.private_ports && critical == o.critical &&
         shard == o.shard;
}

bool Host::operator==(const Host& o) const {
  return HostSpec::operator==(o) && service_name == o.service_name &&
         uuid == o.uuid;
}

bool ServiceInfo::operator==(const ServiceInfo& o) const {
  return name == o.name && critical == o.critical && hostname == o.hostname &&
         user == o.user && password == o.password && ports == o.ports &&
         is_public == o.is_public;
}

}  // namespace etcdisc
