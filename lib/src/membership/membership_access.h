// Reaches a Membership's internals, for etcdisc's own tests.
#ifndef ETCDISC_MEMBERSHIP_MEMBERSHIP_ACCESS_H_
#define ETCDISC_MEMBERSHIP_MEMBERSHIP_ACCESS_H_

#include <cstdint>
#include <string>

#include "etcdisc/membership.h"
#include "membership/cleanup.h"
#include "membership/membership_impl.h"

namespace etcdisc::internal {

struct MembershipAccess {
  // CleanupRunner::claims_settled(key).
  static int64_t ClaimsSettled(const Membership& m, const std::string& key) {
    return m.cleanup_->claims_settled(key);
  }
  // The lease of its incarnation now (0 when not a member).
  static int64_t Lease(const Membership& m) { return m.impl_->lease(); }
};

}  // namespace etcdisc::internal

#endif  // ETCDISC_MEMBERSHIP_MEMBERSHIP_ACCESS_H_
