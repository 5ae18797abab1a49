// Parsing of etcd endpoint lists as etcd users write them.
#ifndef ETCDISC_ETCD_ENDPOINTS_H_
#define ETCDISC_ETCD_ENDPOINTS_H_

#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/statusor.h"

namespace etcdisc::internal {

// One etcd member's client URL.
struct Endpoint {
  bool tls = false;   // https://
  std::string host;   // A name, an IPv4 address, or an IPv6 one without [].
  int port = 0;
  // "host:port" (IPv6 as "[addr]:port"), as gRPC takes it.
  std::string Target() const;
  // "http://host:port" or "https://host:port".
  std::string Url() const;
};

// Parses "http://h1:2379,http://h2:2379". Each item is scheme://host:port with
// scheme http or https, or host:port (taken as http); a trailing '/' is
// allowed; blanks around commas are ignored. InvalidArgument names the bad
// item when one is malformed, and when the list is empty.
absl::StatusOr<std::vector<Endpoint>> ParseEndpoints(absl::string_view list);

}  // namespace etcdisc::internal

#endif  // ETCDISC_ETCD_ENDPOINTS_H_
