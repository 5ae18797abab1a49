// The one check of ClientOptions, and their translation into the etcd
// layer's options. ClientOptions (etcdisc/client.h) holds every default.
#ifndef ETCDISC_DISCOVERY_OPTIONS_H_
#define ETCDISC_DISCOVERY_OPTIONS_H_

#include "absl/status/status.h"
#include "etcd/etcd_client.h"
#include "etcdisc/client.h"

namespace etcdisc::internal {

// OK, or InvalidArgument naming the first field out of the range its comment
// in client.h gives, and its value. Endpoints are checked by their parser.
absl::Status ValidateClientOptions(const ClientOptions& options);

// The etcd layer's share of `options`.
EtcdClientOptions EtcdOptionsFrom(const ClientOptions& options);

}  // namespace etcdisc::internal

#endif  // ETCDISC_DISCOVERY_OPTIONS_H_
