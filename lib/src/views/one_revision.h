// Confirming what several views show with one read at one etcd revision.
// Each view stands at its own revision: db's may not have seen db's last
// host go yet when cache's has seen cache's first come, so views that all
// have their hosts may still never have had them at once.
#ifndef ETCDISC_VIEWS_ONE_REVISION_H_
#define ETCDISC_VIEWS_ONE_REVISION_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "etcdisc/client.h"

namespace etcdisc::internal {

struct Wanted {
  std::string service;
  std::string shard;  // Count only this shard's hosts; empty: every host.
  int min_hosts = 1;
};

struct Shortfall {
  std::string service;
  size_t have = 0;
  int min_hosts = 1;
};

// "db (1 of 2 hosts)".
std::string Describe(const Shortfall& shortfall);

// Asks etcd whether the wanted hosts are all there at once, reading again
// only once the views have moved on since a read said no. Not thread-safe.
class OneRevisionCheck {
 public:
  explicit OneRevisionCheck(std::vector<Wanted> wanted)
      : wanted_(std::move(wanted)) {}

  // For views that all show their wanted hosts, with their revisions taken
  // before this call: OK when a read of every service at one revision finds
  // them all; the read's error when it is final (a refusal, or the client
  // shut down); nullopt otherwise: keep waiting. `timeout` bounds the read.
  std::optional<absl::Status> Check(Client& client,
                                    std::vector<int64_t> revisions,
                                    std::chrono::milliseconds timeout);
  // What the last read found short, or why it failed; empty before one.
  const absl::StatusOr<std::vector<Shortfall>>& last() const { return last_; }

 private:
  absl::StatusOr<std::vector<Shortfall>> Read(Client& client,
                                              std::chrono::milliseconds timeout);

  const std::vector<Wanted> wanted_;
  // The views' revisions when the last read found hosts missing that they
  // all showed: no read is worth making until a view moves on.
  std::optional<std::vector<int64_t>> refuted_;
  absl::StatusOr<std::vector<Shortfall>> last_ = std::vector<Shortfall>{};
};

}  // namespace etcdisc::internal

#endif  // ETCDISC_VIEWS_ONE_REVISION_H_
