#include <random>

#include "absl/strings/str_cat.h"
#include "etcdisc/client.h"
#include "util/status_macros.h"

namespace etcdisc {
namespace {

size_t RandomIndex(size_t n) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_int_distribution<size_t>(0, n - 1)(rng);
}

}  // namespace

absl::StatusOr<std::vector<Host>> ServiceHosts::All() const {
  if (hosts_.empty()) {
    if (!record_ && shard_.empty()) {
      return absl::NotFoundError(
          absl::StrCat("service \"", name_, "\" not found"));
    }
    if (!shard_.empty()) {
      return absl::NotFoundError(absl::StrCat("no host found for service \"",
                                              name_, "\" on shard \"",
                                              shard_, "\""));
    }
    return absl::NotFoundError(
        absl::StrCat("no host found for service \"", name_, "\""));
  }
  return hosts_;
}

absl::StatusOr<Host> ServiceHosts::First() const {
  ETCDISC_ASSIGN_OR_RETURN(auto all, All());
  return all.front();
}

absl::StatusOr<Host> ServiceHosts::One() const {
  ETCDISC_ASSIGN_OR_RETURN(auto all, All());
  return (all)[RandomIndex(all.size())];
}

absl::StatusOr<std::string> ServiceHosts::URL(absl::string_view scheme,
                                              absl::string_view path) const {
  if (record_ && record_->is_public) {
    Host as_host;
    as_host.name = record_->hostname;
    as_host.ports = record_->ports;
    as_host.user = record_->user;
    as_host.password = record_->password;
    return as_host.URL(scheme, path);
  }
  ETCDISC_ASSIGN_OR_RETURN(auto one, One());
  return one.URL(scheme, path);
}

}  // namespace etcdisc
