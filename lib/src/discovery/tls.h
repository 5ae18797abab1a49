// ClientOptions::tls checked and read: what the etcd layer needs for https://
// endpoints, as PEM text.
#ifndef ETCDISC_DISCOVERY_TLS_H_
#define ETCDISC_DISCOVERY_TLS_H_

#include "absl/status/statusor.h"
#include "etcd/etcd_client.h"
#include "etcdisc/client.h"

namespace etcdisc::internal {

// InvalidArgument, naming the field (never a key's contents), when an item
// is given both as a file and as PEM, when a certificate comes without its
// key or the reverse, when a file cannot be read or is not PEM, or when TLS
// is set but an endpoint is http://.
absl::StatusOr<EtcdClientOptions::Tls> LoadTls(const ClientOptions& options);

}  // namespace etcdisc::internal

#endif  // ETCDISC_DISCOVERY_TLS_H_
