#include "views/one_revision.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "etcd/grpc_status.h"

namespace etcdisc::internal {
namespace {

size_t HostsOn(const ServiceHosts& read, const std::string& shard) {
  auto hosts = read.All();
  if (!hosts.ok()) return 0;
  size_t on = 0;
  for (const Host& host : *hosts) on += shard.empty() || host.shard == shard;
  return on;
}

}  // namespace

std::string Describe(const Shortfall& shortfall) {
  return absl::StrCat(shortfall.service, " (", shortfall.have, " of ",
                      shortfall.min_hosts, " hosts)");
}

std::optional<absl::Status> OneRevisionCheck::Check(
    Client& client, std::vector<int64_t> revisions,
    std::chrono::milliseconds timeout) {
  if (refuted_ == revisions) return std::nullopt;
  last_ = Read(client, timeout);
  if (last_.ok() && last_->empty()) return absl::OkStatus();
  if (last_.ok()) {
    refuted_ = std::move(revisions);
  } else if (IsRefusal(last_.status()) ||
             absl::IsFailedPrecondition(last_.status())) {
    return last_.status();
  }
  // Any other failure: read again at the next look.
  return std::nullopt;
}

absl::StatusOr<std::vector<Shortfall>> OneRevisionCheck::Read(
    Client& client, std::chrono::milliseconds timeout) {
  std::vector<std::string> services;
  for (const Wanted& wanted : wanted_) services.push_back(wanted.service);
  GetOptions options;
  options.timeout = std::max(timeout, std::chrono::milliseconds(1));
  auto read = client.GetMany(services, options);
  if (!read.ok()) return read.status();
  std::vector<Shortfall> short_of;
  for (size_t i = 0; i < wanted_.size(); ++i) {
    const size_t have = HostsOn((*read)[i], wanted_[i].shard);
    if (have < static_cast<size_t>(wanted_[i].min_hosts)) {
      short_of.push_back({wanted_[i].service, have, wanted_[i].min_hosts});
    }
  }
  return short_of;
}

}  // namespace etcdisc::internal
