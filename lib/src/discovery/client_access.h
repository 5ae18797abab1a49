// Reaches a Client's internals: for the capabilities built over the
// discovery layer (views), and for etcdisc's own tests, which hold calls in
// flight or withhold answers through the etcd layer's test hooks.
#ifndef ETCDISC_DISCOVERY_CLIENT_ACCESS_H_
#define ETCDISC_DISCOVERY_CLIENT_ACCESS_H_

#include <memory>

#include "discovery/client_core.h"
#include "etcdisc/client.h"

namespace etcdisc::internal {

struct ClientAccess {
  static ClientCore& Core(Client& client) { return *client.core_; }
  static const ClientCore& Core(const Client& client) { return *client.core_; }
  static std::shared_ptr<ClientCore> SharedCore(Client& client) {
    return client.core_;
  }
};

}  // namespace etcdisc::internal

#endif  // ETCDISC_DISCOVERY_CLIENT_ACCESS_H_
