// Host and service records as JSON, in the format of the Go package
// etcd-discovery: the same field names, order, and omit-if-empty rules.
#ifndef ETCDISC_DISCOVERY_RECORDS_H_
#define ETCDISC_DISCOVERY_RECORDS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "etcdisc/host.h"

namespace etcdisc::internal {

std::string EncodeHost(const Host& host);
std::string EncodeService(const Service& service);

// Tolerant readers: unknown fields are ignored, ports may be numbers as well
// as strings, null stands for an absent field. InvalidArgument when the text
// is not JSON, not an object, or a known field has the wrong type.
absl::StatusOr<Host> DecodeHost(absl::string_view json);
absl::StatusOr<Service> DecodeService(absl::string_view json);

// The service record a host implies: name and critical always, and for a
// public host its hostname, ports and credentials.
Service ServiceFromHost(absl::string_view service, const Host& host);

}  // namespace etcdisc::internal

#endif  // ETCDISC_DISCOVERY_RECORDS_H_
