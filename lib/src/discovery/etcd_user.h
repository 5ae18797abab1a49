// ClientOptions::auth checked and read: the etcd user and password the etcd
// layer authenticates with.
#ifndef ETCDISC_DISCOVERY_ETCD_USER_H_
#define ETCDISC_DISCOVERY_ETCD_USER_H_

#include <optional>

#include "absl/status/statusor.h"
#include "etcd/auth_tokens.h"
#include "etcdisc/client.h"

namespace etcdisc::internal {

// None when `auth` is empty. InvalidArgument naming the field (never the
// password) when a password comes without a user or the reverse, when both
// password and password_file are set, or when the file cannot be read or is
// empty.
absl::StatusOr<std::optional<EtcdCredentials>> LoadCredentials(
    const AuthOptions& auth);

// `options` without what is needed only to connect (the password, the
// client key's PEM), so that a long-lived copy holds no secret.
ClientOptions WithoutSecrets(ClientOptions options);

}  // namespace etcdisc::internal

#endif  // ETCDISC_DISCOVERY_ETCD_USER_H_
