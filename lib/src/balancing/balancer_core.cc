#include "balancing/balancer_core.h"

#include <algorithm>
#include <array>
#include <limits>
#include <map>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"

namespace etcdisc::internal {
namespace {

// A thread's copy of a balancer's table pointer, valid while the balancer's
// generation is the one copied.
struct TableCopy {
  uint64_t owner = 0;
  uint64_t generation = 0;
  uint64_t last_used = 0;  // By this thread's count of picks.
  std::shared_ptr<const EndpointTable> table;
};
// The copies of the last balancers a thread picked from; the least recently
// used one makes room for another.
constexpr size_t kCopiesPerThread = 4;
struct TableCopies {
  std::array<TableCopy, kCopiesPerThread> slots;
  uint64_t uses = 0;

  TableCopy& For(uint64_t owner) {
    ++uses;
    TableCopy* oldest = &slots[0];
    for (TableCopy& slot : slots) {
      if (slot.owner == owner) {
        slot.last_used = uses;
        return slot;
      }
      if (slot.last_used < oldest->last_used) oldest = &slot;
    }
    oldest->owner = 0;  // Not a copy of `owner` yet.
    oldest->last_used = uses;
    return *oldest;
  }
};
thread_local TableCopies table_copies;

uint64_t NewBalancerId() {
  static std::atomic<uint64_t> last{0};
  return last.fetch_add(1, std::memory_order_relaxed) + 1;
}

// A fast per-thread random number (splitmix64 over a seeded counter).
uint64_t Random() {
  thread_local uint64_t state = (static_cast<uint64_t>(std::random_device{}()) << 32) ^
                                std::random_device{}();
  state += 0x9e3779b97f4a7c15ULL;
  return MixHashes(state, 0);
}

absl::Status Invalid(absl::string_view what, absl::string_view value,
                     absl::string_view rule) {
  return absl::InvalidArgumentError(
      absl::StrCat("invalid balancer ", what, " ", value, ": ", rule));
}

std::string Ms(std::chrono::milliseconds ms) {
  return absl::StrCat(ms.count(), "ms");
}

}  // namespace

absl::Status ValidateBalancerOptions(const BalancerOptions& options) {
  const int policy = static_cast<int>(options.policy);
  if (policy < 0 || policy > static_cast<int>(BalancePolicy::kKeyHash)) {
    return Invalid("policy", absl::StrCat(policy), "not a BalancePolicy");
  }
  const EjectionOptions& e = options.ejection;
  if (e.failures < 0) {
    return Invalid("ejection failures", absl::StrCat(e.failures),
                   "0 (never skip) or more");
  }
  if (e.failures == 0) return absl::OkStatus();
  if (e.window.count() <= 0) {
    return Invalid("ejection window", Ms(e.window), "more than 0");
  }
  if (e.backoff.count() <= 0) {
    return Invalid("ejection backoff", Ms(e.backoff), "more than 0");
  }
  if (e.max_backoff < e.backoff) {
    return Invalid("ejection max_backoff", Ms(e.max_backoff),
                   absl::StrCat("at least the backoff, ", Ms(e.backoff)));
  }
  return absl::OkStatus();
}

BalancerCore::BalancerCore(std::string service, BalancerOptions options,
                           SteadyNow now, Attach attach, ReachableFn reachable)
    : service_(std::move(service)),
      options_(std::move(options)),
      policy_(std::make_shared<const EndpointRules>(
          EndpointRules{options_.ejection, std::move(now), reachable})),
      attach_(std::move(attach)),
      id_(NewBalancerId()),
      table_(std::make_shared<const EndpointTable>()) {}

void BalancerCore::Update(const HostSnapshot& hosts) {
  std::shared_ptr<const EndpointTable> old;
  {
    MutexLock lock(&mu_);
    old = table_;
  }
  std::map<absl::string_view, const std::shared_ptr<BalancedHost>*> kept;
  for (const auto& endpoint : old->endpoints) {
    kept.emplace(endpoint->host.uuid, &endpoint);
  }
  std::map<absl::string_view, const Host*> left_out;
  for (const Host& host : old->left_out) left_out.emplace(host.uuid, &host);
  // Built outside the lock: pickers that refresh their copy do not wait
  // for the attachments (channels) made here.
  auto table = std::make_shared<EndpointTable>();
  table->endpoints.reserve(hosts.size());
  std::vector<Host> picked_from;
  for (const Host& host : hosts.hosts()) {
    auto found = kept.find(host.uuid);
    if (found != kept.end() && (*found->second)->host == host) {
      table->endpoints.push_back(*found->second);
      picked_from.push_back(host);
      continue;
    }
    auto was_left_out = left_out.find(host.uuid);
    if (was_left_out != left_out.end() && *was_left_out->second == host) {
      table->left_out.push_back(host);
      continue;
    }
    std::shared_ptr<const void> attachment;
    if (attach_) {
      attachment = attach_(host);
      if (attachment == nullptr) {  // Not a host to pick.
        table->left_out.push_back(host);
        continue;
      }
    }
    table->endpoints.push_back(
        std::make_shared<BalancedHost>(host, policy_, std::move(attachment)));
    picked_from.push_back(host);
  }
  table->hosts = picked_from.size() == hosts.size()
                     ? hosts
                     : HostSnapshot(std::make_shared<const std::vector<Host>>(
                                        std::move(picked_from)),
                                    hosts.revision());
  MutexLock lock(&mu_);
  table_ = std::move(table);
  updated_ = true;
  generation_.fetch_add(1, std::memory_order_release);
}

absl::Status WaitFirstUpdate(const ServiceView& view, const BalancerCore& core,
                             std::chrono::milliseconds timeout,
                             absl::string_view what) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  if (absl::Status ready = view.WaitReady(timeout); !ready.ok()) return ready;
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  if (core.WaitUpdated(std::max(left, std::chrono::milliseconds(0)))) {
    return absl::OkStatus();
  }
  if (absl::Status stopped = view.status(); !stopped.ok()) return stopped;
  return absl::DeadlineExceededError(absl::StrCat(
      what, " \"", core.service(), "\" not ready after ", timeout.count(),
      "ms: the client's callback thread is busy"));
}

bool BalancerCore::WaitUpdated(std::chrono::milliseconds timeout) const {
  MutexLock lock(&mu_);
  return mu_.AwaitWithTimeout(absl::Condition(&updated_),
                              absl::FromChrono(timeout));
}

const EndpointTable& BalancerCore::Current() const {
  TableCopy& copy = table_copies.For(id_);
  const uint64_t generation = generation_.load(std::memory_order_acquire);
  if (copy.owner != id_ || copy.generation != generation) {
    std::shared_ptr<const EndpointTable> old = std::move(copy.table);
    MutexLock lock(&mu_);
    copy.owner = id_;
    copy.generation = generation_.load(std::memory_order_relaxed);
    copy.table = table_;
  }
  return *copy.table;
}

absl::StatusOr<PickedHost> BalancerCore::Pick(absl::string_view key) const {
  const EndpointTable& table = Current();
  if (table.endpoints.empty()) {
    return absl::UnavailableError(absl::StrCat(
        "no host of service \"", service_, "\"",
        options_.shard.empty() ? ""
                               : absl::StrCat(" on shard \"", options_.shard,
                                              "\"")));
  }
  Choice choice;
  const std::shared_ptr<BalancedHost>& endpoint =
      table.endpoints[Choose(table, key, &choice)];
  return PickedHost(endpoint, choice.skip_seen);
}

size_t BalancerCore::Choose(const EndpointTable& table, absl::string_view key,
                            Choice* choice) const {
  const size_t n = table.endpoints.size();
  switch (options_.policy) {
    case BalancePolicy::kRandom:
      for (int attempt = 0; attempt < 3; ++attempt) {
        const size_t i = Random() % n;
        if (table.endpoints[i]->Usable(&choice->now)) return i;
      }
      return FirstUsable(table, Random() % n, choice);
    case BalancePolicy::kRoundRobin:
      // A skipped host's turn passes to the next one, and the turn after
      // it: the others share its calls evenly.
      for (size_t attempt = 0; attempt < n; ++attempt) {
        const size_t i = next_.fetch_add(1, std::memory_order_relaxed) % n;
        if (table.endpoints[i]->Usable(&choice->now)) return i;
      }
      return FirstUsable(
          table, next_.fetch_add(1, std::memory_order_relaxed) % n, choice);
    case BalancePolicy::kLeastInFlight:
      return ChooseOfTwo(table, choice);
    case BalancePolicy::kKeyHash:
      return ChooseByHash(table, key, choice);
  }
  return 0;
}

size_t BalancerCore::ChooseOfTwo(const EndpointTable& table,
                                 Choice* choice) const {
  const size_t n = table.endpoints.size();
  if (n == 1) return 0;
  const size_t a = Random() % n;
  size_t b = Random() % (n - 1);
  if (b >= a) ++b;
  const BalancedHost& first = *table.endpoints[a];
  const BalancedHost& second = *table.endpoints[b];
  const bool first_usable = first.Usable(&choice->now);
  const bool second_usable = second.Usable(&choice->now);
  if (first_usable && second_usable) {
    return second.in_flight.load(std::memory_order_relaxed) <
                   first.in_flight.load(std::memory_order_relaxed)
               ? b
               : a;
  }
  if (first_usable) return a;
  if (second_usable) return b;
  return FirstUsable(table, a, choice);
}

size_t BalancerCore::ChooseByHash(const EndpointTable& table,
                                  absl::string_view key,
                                  Choice* choice) const {
  // Rendezvous hashing: the usable host with the highest score for the key;
  // when none is usable, the least bad, ties going to the key's own host.
  const uint64_t key_hash = HashText(key);
  const size_t n = table.endpoints.size();
  size_t best = n, best_any = 0;
  uint64_t best_score = 0, best_any_score = 0;
  for (size_t i = 0; i < n; ++i) {
    const BalancedHost& endpoint = *table.endpoints[i];
    const uint64_t score = MixHashes(key_hash, endpoint.hash);
    if (i == 0 || score > best_any_score) {
      best_any = i;
      best_any_score = score;
    }
    if (!endpoint.Usable(&choice->now)) continue;
    if (best == n || score > best_score) {
      best = i;
      best_score = score;
    }
  }
  if (best < n) return best;
  return FirstUsable(table, best_any, choice);
}

size_t BalancerCore::FirstUsable(const EndpointTable& table, size_t start,
                                 Choice* choice) const {
  const size_t n = table.endpoints.size();
  for (size_t k = 0; k < n; ++k) {
    const size_t i = (start + k) % n;
    if (table.endpoints[i]->Usable(&choice->now)) return i;
  }
  // No host is usable: of the reachable ones (else of all), the one whose
  // back-off ends first; of equals, the first from `start`.
  size_t least_bad = n;
  int64_t soonest = std::numeric_limits<int64_t>::max();
  for (bool reachable_only : {true, false}) {
    for (size_t k = 0; k < n; ++k) {
      const size_t i = (start + k) % n;
      const BalancedHost& endpoint = *table.endpoints[i];
      if (reachable_only && !endpoint.Reachable()) continue;
      const int64_t until = endpoint.skipped_until.load(std::memory_order_relaxed);
      if (least_bad == n || until < soonest) {
        soonest = until;
        least_bad = i;
      }
    }
    if (least_bad < n) {
      choice->skip_seen = soonest;
      return least_bad;
    }
  }
  return start % n;
}

void BalancerCore::Report(absl::string_view uuid, bool succeeded) const {
  for (const auto& endpoint : Current().endpoints) {
    if (endpoint->host.uuid != uuid) continue;
    succeeded ? endpoint->Succeeded() : endpoint->Failed();
    return;
  }
}

HostSnapshot BalancerCore::hosts() const {
  MutexLock lock(&mu_);
  return table_->hosts;
}

}  // namespace etcdisc::internal
