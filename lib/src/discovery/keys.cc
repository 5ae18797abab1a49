#include "discovery/keys.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace etcdisc::internal {
namespace {

constexpr size_t kMaxSegment = 255;

bool IsBadByte(unsigned char c) {
  return c <= 0x20 || c == 0x7f;  // Controls, space, DEL.
}

}  // namespace

std::string KeyLayout::AllHostsPrefix() const {
  return absl::StrCat(prefix_, "/services/");
}

std::string KeyLayout::HostsPrefix(absl::string_view service) const {
  return absl::StrCat(prefix_, "/services/", service, "/");
}

std::string KeyLayout::HostKey(absl::string_view service,
                               absl::string_view uuid) const {
  return absl::StrCat(prefix_, "/services/", service, "/", uuid);
}

std::string KeyLayout::AllServicesPrefix() const {
  return absl::StrCat(prefix_, "/service_infos/");
}

std::string KeyLayout::ServiceKey(absl::string_view service) const {
  return absl::StrCat(prefix_, "/service_infos/", service);
}

std::string KeyLayout::AllClustersPrefix() const {
  return absl::StrCat(prefix_, "/clusters/");
}

std::string KeyLayout::NodesPrefix(absl::string_view cluster) const {
  return absl::StrCat(prefix_, "/clusters/", cluster, "/nodes/");
}

std::string KeyLayout::NodeKey(absl::string_view cluster,
                               absl::string_view node) const {
  return absl::StrCat(NodesPrefix(cluster), node);
}

std::string KeyLayout::CleanupKey(absl::string_view cluster,
                                  absl::string_view job, absl::string_view node,
                                  int64_t revision) const {
  return absl::StrCat(prefix_, "/clusters/", cluster, "/cleanup/", job, "/",
                      node, "/", revision);
}

std::string KeyLayout::AllHealthPrefix() const {
  return absl::StrCat(prefix_, "/service_health/");
}

std::string KeyLayout::HealthPrefix(absl::string_view service) const {
  return absl::StrCat(prefix_, "/service_health/", service, "/");
}

std::string KeyLayout::HealthKey(absl::string_view service,
                                 absl::string_view uuid) const {
  return absl::StrCat(prefix_, "/service_health/", service, "/", uuid);
}

namespace {

// Splits `key`, under `under`, into <service>/<uuid>.
absl::StatusOr<KeyLayout::HostKeyParts> SplitServiceKey(
    absl::string_view key, const std::string& under) {
  absl::string_view rest = key;
  if (!absl::ConsumePrefix(&rest, under)) {
    return absl::InvalidArgumentError(
        absl::StrCat("key \"", key, "\" is not under ", under));
  }
  const size_t slash = rest.find('/');
  if (slash == absl::string_view::npos || slash == 0 ||
      slash + 1 == rest.size() ||
      rest.find('/', slash + 1) != absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "key \"", key, "\" is not of the form ", under, "<service>/<uuid>"));
  }
  return KeyLayout::HostKeyParts{std::string(rest.substr(0, slash)),
                                 std::string(rest.substr(slash + 1))};
}

}  // namespace

absl::StatusOr<KeyLayout::HostKeyParts> KeyLayout::ParseHostKey(
    absl::string_view key) const {
  return SplitServiceKey(key, AllHostsPrefix());
}

absl::StatusOr<KeyLayout::HostKeyParts> KeyLayout::ParseHealthKey(
    absl::string_view key) const {
  return SplitServiceKey(key, AllHealthPrefix());
}

absl::Status ValidateKeySegment(absl::string_view what,
                                absl::string_view name) {
  const auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid ", what, " \"", name, "\": ", why));
  };
  if (name.empty()) return bad("it is empty");
  if (name.size() > kMaxSegment) return bad("longer than 255 bytes");
  for (char c : name) {
    if (c == '/') return bad("it contains '/'");
    if (IsBadByte(static_cast<unsigned char>(c))) {
      return bad("it contains whitespace or a control character");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateServiceName(absl::string_view service) {
  return ValidateKeySegment("service name", service);
}

absl::Status ValidateKeyPrefix(absl::string_view prefix) {
  const auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid key prefix \"", prefix, "\": ", why));
  };
  if (prefix.empty()) return absl::OkStatus();
  if (prefix.front() != '/') return bad("it must start with '/'");
  if (prefix.back() == '/') return bad("it must not end with '/'");
  for (char c : prefix) {
    if (IsBadByte(static_cast<unsigned char>(c))) {
      return bad("it contains whitespace or a control character");
    }
  }
  return absl::OkStatus();
}

}  // namespace etcdisc::internal
