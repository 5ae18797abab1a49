// etcdisc's value types: a host of a service, a service's record, credentials.
// Their JSON form in etcd is the one of the Go package etcd-discovery.
//
// Names, and the Go package's for the same things:
//   etcdisc                         Go etcd-discovery
//   HostSpec (Register's input)     Host, as passed to Register
//   Host (a stored host record)     Host
//   Host::name                      Host.Hostname (JSON "name")
//   Host::service_name              Host.Name (JSON "service_name")
//   Host::is_public                 Host.Public (JSON "public")
//   ServiceInfo (/service_infos/)   the service record (/services_infos/)
//   ServiceHosts (Client::Get)      Service (the result of Get)
//   Registration::credentials()     Registration's Credentials()
#ifndef ETCDISC_HOST_H_
#define ETCDISC_HOST_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace etcdisc {

// Protocol or scheme -> port, both as text: {{"http", "80"}, {"https", "443"}}.
using Ports = std::map<std::string, std::string>;

struct Credentials {
  std::string user;
  std::string password;
  bool operator==(const Credentials& o) const {
    return user == o.user && password == o.password;
  }
};

// What the caller of Client::Register says about a host. A plain value:
// copy it freely; not synchronized.
struct HostSpec {
  std::string name;  // Hostname: the public one, or the private one.
  Ports ports;
  std::string user;
  std::string password;
  bool is_public = false;  // JSON "public".
  std::string private_hostname;
  Ports private_ports;
  bool critical = false;
  std::string shard;

  // "scheme://user:password@name:port" + path, without "user:password@" when
  // user is empty; `path` is appended as given. An empty scheme picks http,
  // then https. InvalidArgument when the host has no port for the scheme.
  absl::StatusOr<std::string> URL(absl::string_view scheme = "",
                                  absl::string_view path = "") const;
  // The same with private_hostname and private_ports; falls back to URL()
  // when the host has no private hostname.
  absl::StatusOr<std::string> PrivateURL(absl::string_view scheme = "",
                                         absl::string_view path = "") const;

  bool operator==(const HostSpec& o) const;
};

// A host as stored at /services/<service>/<uuid> and as Get and the
// subscriptions report it: the caller's HostSpec, with Register's defaults
// filled in, and what Register decided. A plain value.
struct Host : HostSpec {
  std::string service_name;  // The service it was registered under.
  std::string uuid;          // "<uuid4>-<private hostname>": its key's last part.

  bool operator==(const Host& o) const;
};

// A service's record, as stored at /service_infos/<service>. Hostname, user,
// password and ports are filled only for a public service.
struct ServiceInfo {
  std::string name;
  bool critical = false;
  std::string hostname;
  std::string user;
  std::string password;
  Ports ports;
  bool is_public = false;

  bool operator==(const ServiceInfo& o) const;
};

// The record as JSON, exactly as etcdisc and the Go package store it.
std::string ToJson(const Host& host);
std::string ToJson(const ServiceInfo& service);
// Reads a host record; unknown fields are ignored. InvalidArgument when the
// text is not a JSON object or a known field has the wrong type.
absl::StatusOr<Host> HostFromJson(absl::string_view json);

// A change in the hosts of a service, as Client::Subscribe delivers it.
struct HostEvent {
  enum class Kind { kNew, kDown };
  Kind kind = Kind::kNew;
  // kNew: the host's record. kDown: only host.uuid and host.service_name are
  // known (the key is gone, and its record with it).
  Host host;
  const std::string& uuid() const { return host.uuid; }
};

}  // namespace etcdisc

#endif  // ETCDISC_HOST_H_
