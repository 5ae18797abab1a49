// etcdisc's value types: a host of a service, a service's record, credentials.
// Their JSON form in etcd is the one of the Go package etcd-discovery.
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

// One host of a service, as stored at /services/<service>/<uuid>.
// A plain value: copy it freely; not synchronized.
struct Host {
  std::string name;          // Public hostname (or the private one).
  std::string service_name;  // Set by Register.
  Ports ports;
  std::string user;
  std::string password;
  bool public_ = false;      // JSON "public".
  std::string private_hostname;
  Ports private_ports;
  bool critical = false;
  std::string shard;
  std::string uuid;          // "<uuid4>-<private hostname>", set by Register.

  // "scheme://user:password@name:port" + path, without "user:password@" when
  // user is empty; `path` is appended as given. An empty scheme picks http,
  // then https. InvalidArgument when the host has no port for the scheme.
  absl::StatusOr<std::string> URL(absl::string_view scheme = "",
                                  absl::string_view path = "") const;
  // The same with private_hostname and private_ports; falls back to URL()
  // when the host has no private hostname.
  absl::StatusOr<std::string> PrivateURL(absl::string_view scheme = "",
                                         absl::string_view path = "") const;

  bool operator==(const Host& o) const;
};

// A service's record, as stored at /service_infos/<service>. Hostname, user,
// password and ports are filled only for a public service.
struct Service {
  std::string name;
  bool critical = false;
  std::string hostname;
  std::string user;
  std::string password;
  Ports ports;
  bool public_ = false;

  bool operator==(const Service& o) const;
};

// The record as JSON, exactly as etcdisc and the Go package store it.
std::string ToJson(const Host& host);
std::string ToJson(const Service& service);
// Reads a host record; unknown fields are ignored. InvalidArgument when the
// text is not a JSON object or a known field has the wrong type.
absl::StatusOr<Host> HostFromJson(absl::string_view json);

// A change in the hosts of a service, as Client::Subscribe delivers it.
struct HostEvent {
  enum class Kind { kNew, kDown };
  Kind kind = Kind::kNew;
  std::string uuid;
  Host host;  // For kNew; for kDown only host.uuid is known.
};

}  // namespace etcdisc

#endif  // ETCDISC_HOST_H_
