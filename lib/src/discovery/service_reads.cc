#include "discovery/service_reads.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "discovery/records.h"
#include "util/log.h"
#include "util/status_macros.h"

namespace etcdisc::internal {
namespace {

// etcd refuses a Txn of more than 128 operations unless configured
// otherwise (--max-txn-ops); a service takes two.
constexpr size_t kServicesPerTxn = 64;
// A later round trip reads at the first one's revision, which etcd answers
// with OutOfRange when it compacted it in between (or when a member behind
// the first one answers, for a serializable read): then all is read again,
// this many times at most.
constexpr int kAttempts = 3;

using Clock = std::chrono::steady_clock;

std::vector<Host> DecodeHosts(const KeyLayout& keys,
                              const RangeResponse& read) {
  std::vector<Host> hosts;
  for (const KeyValue& kv : read.kvs) {
    auto host = HostFromKeyValue(keys, kv);
    if (!host.ok()) {
      ETCDISC_LOG(kWarning, absl::StrCat("skipping ", host.status().message()));
      continue;
    }
    hosts.push_back(*std::move(host));
  }
  return hosts;
}

std::optional<ServiceInfo> DecodeRecord(const RangeResponse& read) {
  std::optional<ServiceInfo> record;
  for (const KeyValue& kv : read.kvs) {
    auto decoded = DecodeService(kv.value);
    if (decoded.ok()) {
      record = *std::move(decoded);
    } else {
      ETCDISC_LOG(kWarning, absl::StrCat("skipping malformed service record ",
                                        kv.key, ": ",
                                        decoded.status().message()));
    }
  }
  return record;
}

// One Txn of two reads per service: its host keys and its record.
TxnRequest ReadsOf(const KeyLayout& keys,
                   const std::vector<std::string>& services, size_t begin,
                   size_t end, int64_t revision, bool serializable) {
  TxnRequest txn;
  for (size_t i = begin; i < end; ++i) {
    RangeRequest hosts = RangeRequest::Prefix(keys.HostsPrefix(services[i]));
    RangeRequest record;
    record.key = keys.ServiceKey(services[i]);
    for (RangeRequest* read : {&hosts, &record}) {
      read->revision = revision;
      read->serializable = serializable;
      txn.success.push_back(TxnOp::Range(*read));
    }
  }
  return txn;
}

std::chrono::milliseconds Left(Clock::time_point deadline) {
  return std::max(std::chrono::milliseconds(1),
                  std::chrono::duration_cast<std::chrono::milliseconds>(
                      deadline - Clock::now()));
}

absl::StatusOr<std::vector<ServiceHosts>> ReadOnce(
    ClientCore& core, const std::vector<std::string>& services,
    bool serializable, Clock::time_point deadline) {
  std::vector<ServiceHosts> out;
  out.reserve(services.size());
  int64_t revision = 0;  // 0 for the first round trip: the newest.
  for (size_t begin = 0; begin < services.size(); begin += kServicesPerTxn) {
    const size_t end = std::min(services.size(), begin + kServicesPerTxn);
    ETCDISC_ASSIGN_OR_RETURN(
        auto read, core.etcd().kv().Txn(ReadsOf(core.keys(), services, begin,
                                                end, revision, serializable),
                                         Left(deadline)));
    if (read.responses.size() != 2 * (end - begin)) {
      return absl::InternalError(absl::StrCat(
          "etcd answered a read of ", 2 * (end - begin), " ranges with ",
          read.responses.size()));
    }
    if (revision == 0) revision = read.revision;
    for (size_t i = begin; i < end; ++i) {
      const size_t op = 2 * (i - begin);
      out.emplace_back(services[i],
                       DecodeHosts(core.keys(), read.responses[op].range),
                       DecodeRecord(read.responses[op + 1].range));
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<ServiceHosts>> ReadServices(
    ClientCore& core, const std::vector<std::string>& services,
    bool serializable, std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  absl::StatusOr<std::vector<ServiceHosts>> read;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    read = ReadOnce(core, services, serializable, deadline);
    if (!absl::IsOutOfRange(read.status()) || Clock::now() >= deadline) break;
  }
  return read;
}

}  // namespace etcdisc::internal
