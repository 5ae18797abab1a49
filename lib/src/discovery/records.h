// Host and service records as JSON, in the format of the Go package
// etcd-discovery: the same field names, order, and omit-if-empty rules.
#ifndef ETCDISC_DISCOVERY_RECORDS_H_
#define ETCDISC_DISCOVERY_RECORDS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "discovery/keys.h"
#include "etcd/types.h"
#include "etcdisc/host.h"

namespace etcdisc::internal {

std::string EncodeHost(const Host& host);
std::string EncodeService(const ServiceInfo& service);

// Tolerant readers: unknown fields are ignored, ports may be numbers as well
// as strings, null stands for an absent field. InvalidArgument when the text
// is not JSON, not an object, or a known field has the wrong type.
absl::StatusOr<Host> DecodeHost(absl::string_view json);
absl::StatusOr<ServiceInfo> DecodeService(absl::string_view json);

// The host stored at `kv`: its record decoded, with uuid and service name
// taken from the key, whatever the record says (so that New and Down name a
// host alike). InvalidArgument, naming the
// key and revision, for a key of another shape or a malformed record (callers
// skip it with a warning).
absl::StatusOr<Host> HostFromKeyValue(const KeyLayout& keys, const KeyValue& kv);

// The service record a host implies: name and critical always, and for a
// public host its hostname, ports and credentials.
ServiceInfo ServiceFromHost(absl::string_view service, const Host& host);

}  // namespace etcdisc::internal

#endif  // ETCDISC_DISCOVERY_RECORDS_H_
