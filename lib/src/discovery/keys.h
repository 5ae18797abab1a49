// Where etcdisc's records live in etcd, and the checks on names that go into
// keys.
#ifndef ETCDISC_DISCOVERY_KEYS_H_
#define ETCDISC_DISCOVERY_KEYS_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace etcdisc::internal {

// The key layout under one key prefix ("" or e.g. "/tenant").
class KeyLayout {
 public:
  explicit KeyLayout(std::string prefix) : prefix_(std::move(prefix)) {}

  // <prefix>/services/ : every host of every service.
  std::string AllHostsPrefix() const;
  // <prefix>/services/<service>/ : the hosts of one service.
  std::string HostsPrefix(absl::string_view service) const;
  // <prefix>/services/<service>/<uuid>
  std::string HostKey(absl::string_view service, absl::string_view uuid) const;
  // <prefix>/service_infos/ and <prefix>/service_infos/<service>
  std::string AllServicesPrefix() const;
  std::string ServiceKey(absl::string_view service) const;

  // Cluster membership: <prefix>/clusters/<cluster>/nodes/<node> holds a
  // live member's record under its lease; <prefix>/clusters/<cluster>/
  // cleanup/<job>/<node>/<revision> the claim of the cleanup after the
  // incarnation <revision> of <node>, under the claimant's lease.
  std::string AllClustersPrefix() const;
  std::string NodesPrefix(absl::string_view cluster) const;
  std::string NodeKey(absl::string_view cluster, absl::string_view node) const;
  std::string CleanupKey(absl::string_view cluster, absl::string_view job,
                         absl::string_view node, int64_t revision) const;

  // Fleet health: <prefix>/service_health/<service>/<uuid> holds the last
  // health of a host, under a lease of its own that outlives the host's by
  // the retention (see etcdisc/fleet.h).
  std::string AllHealthPrefix() const;
  std::string HealthPrefix(absl::string_view service) const;
  std::string HealthKey(absl::string_view service,
                        absl::string_view uuid) const;

  struct HostKeyParts {
    std::string service;
    std::string uuid;
  };
  // Splits a host key; InvalidArgument for a key of another shape (outside
  // the layout, an empty part, or more segments).
  absl::StatusOr<HostKeyParts> ParseHostKey(absl::string_view key) const;
  // The same for a health key.
  absl::StatusOr<HostKeyParts> ParseHealthKey(absl::string_view key) const;

 private:
  std::string prefix_;
};

// A name that is one key segment: non-empty, at most 255 bytes, no '/', no
// whitespace or control characters. InvalidArgument names it as "invalid
// <what> \"<name>\"".
absl::Status ValidateKeySegment(absl::string_view what, absl::string_view name);

// A service name is one key segment (ValidateKeySegment).
absl::Status ValidateServiceName(absl::string_view service);

// A key prefix is empty, or starts with '/' and does not end with one, with
// no whitespace or control characters. InvalidArgument names it.
absl::Status ValidateKeyPrefix(absl::string_view prefix);

}  // namespace etcdisc::internal

#endif  // ETCDISC_DISCOVERY_KEYS_H_
