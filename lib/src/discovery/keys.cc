#include "discovery/keys.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace etcdisc::internal {
namespace {

constexpr size_t kMaxServiceName = 255;

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

absl::StatusOr<KeyLayout::HostKeyParts> KeyLayout::ParseHostKey(
    absl::string_view key) const {
  absl::string_view rest = key;
  if (!absl::ConsumePrefix(&rest, AllHostsPrefix())) {
    return absl::InvalidArgumentError(
        absl::StrCat("key \"", key, "\" is not under ", AllHostsPrefix()));
  }
  const size_t slash = rest.find('/');
  if (slash == absl::string_view::npos || slash == 0 ||
      slash + 1 == rest.size() ||
      rest.find('/', slash + 1) != absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "key \"", key, "\" is not of the form ", AllHostsPrefix(),
        "<service>/<uuid>"));
  }
  return HostKeyParts{std::string(rest.substr(0, slash)),
                      std::string(rest.substr(slash + 1))};
}

absl::Status ValidateServiceName(absl::string_view service) {
  const auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid service name \"", service, "\": ", why));
  };
  if (service.empty()) return bad("it is empty");
  if (service.size() > kMaxServiceName) return bad("longer than 255 bytes");
  for (char c : service) {
    if (c == '/') return bad("it contains '/'");
    if (IsBadByte(static_cast<unsigned char>(c))) {
      return bad("it contains whitespace or a control character");
    }
  }
  return absl::OkStatus();
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
