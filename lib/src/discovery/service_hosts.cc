#include <random>

#include "absl/strings/str_cat.h"
#include "etcdisc/client.h"

namespace etcdisc {
namespace {

size_t RandomIndex(size_t n) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_int_distribution<size_t>(0, n - 1)(rng);
}

}  // namespace

absl::StatusOr<std::vector<Host>> ServiceHosts::All() const {
  if (hosts_.empty()) {
    if (!record_) {
      return absl::NotFoundError(
          absl::StrCat("service \"", name_, "\" not found"));
    }
    return absl::NotFoundError(
        absl::StrCat("no host found for service \"", name_, "\""));
  }
  return hosts_;
}

absl::StatusOr<Host> ServiceHosts::First() const {
  auto all = All();
  if (!all.ok()) return all.status();
  return all->front();
}

absl::StatusOr<Host> ServiceHosts::One() const {
  auto all = All();
  if (!all.ok()) return all.status();
  return (*all)[RandomIndex(all->size())];
}

absl::StatusOr<std::string> ServiceHosts::URL(absl::string_view scheme,
                                              absl::string_view path) const {
  if (record_ && record_->public_) {
    Host as_host;
    as_host.name = record_->hostname;
    as_host.ports = record_->ports;
    as_host.user = record_->user;
    as_host.password = record_->password;
    return as_host.URL(scheme, path);
  }
  auto one = One();
  if (!one.ok()) return one.status();
  return one->URL(scheme, path);
}

}  // namespace etcdisc
