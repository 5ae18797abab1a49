#include "etcd/endpoints.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "util/status_macros.h"

namespace etcdisc::internal {
namespace {

absl::Status Bad(absl::string_view item, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("invalid etcd endpoint \"", item, "\": ", why));
}

bool IsHostChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' ||
         c == '.' || c == '_';
}

absl::StatusOr<Endpoint> ParseOne(absl::string_view item) {
  Endpoint e;
  absl::string_view rest = item;
  if (absl::ConsumePrefix(&rest, "https://")) {
    e.tls = true;
  } else if (!absl::ConsumePrefix(&rest, "http://") &&
             absl::StrContains(rest, "://")) {
    return Bad(item, "the scheme must be http:// or https://");
  }
  absl::ConsumeSuffix(&rest, "/");
  if (absl::StrContains(rest, '/')) return Bad(item, "a path is not allowed");

  absl::string_view port_text;
  if (absl::ConsumePrefix(&rest, "[")) {
    const size_t close = rest.find(']');
    if (close == absl::string_view::npos) return Bad(item, "missing ']'");
    e.host = std::string(rest.substr(0, close));
    rest.remove_prefix(close + 1);
    // Brackets hold an IPv6 address: hex digits, ':' and '.' only.
    if (e.host.find(':') == std::string::npos ||
        e.host.find_first_not_of("0123456789abcdefABCDEF:.") !=
            std::string::npos) {
      return Bad(item, "brackets must hold an IPv6 address");
    }
    if (!absl::ConsumePrefix(&rest, ":")) return Bad(item, "missing port");
    port_text = rest;
  } else {
    const size_t colon = rest.rfind(':');
    if (colon == absl::string_view::npos) return Bad(item, "missing port");
    e.host = std::string(rest.substr(0, colon));
    port_text = rest.substr(colon + 1);
    for (char c : e.host) {
      if (!IsHostChar(c)) return Bad(item, "bad character in host");
    }
  }
  if (e.host.empty()) return Bad(item, "missing host");
  if (!absl::SimpleAtoi(port_text, &e.port) || e.port < 1 || e.port > 65535) {
    return Bad(item, "the port must be a number from 1 to 65535");
  }
  return e;
}

}  // namespace

std::string Endpoint::Target() const {
  const bool ipv6 = absl::StrContains(host, ':');
  return ipv6 ? absl::StrCat("[", host, "]:", port)
              : absl::StrCat(host, ":", port);
}

std::string Endpoint::Url() const {
  return absl::StrCat(tls ? "https://" : "http://", Target());
}

absl::StatusOr<std::vector<Endpoint>> ParseEndpoints(absl::string_view list) {
  std::vector<Endpoint> out;
  for (absl::string_view item : absl::StrSplit(list, ',')) {
    item = absl::StripAsciiWhitespace(item);
    if (item.empty()) continue;
    ETCDISC_ASSIGN_OR_RETURN(auto endpoint, ParseOne(item));
    out.push_back(std::move(endpoint));
  }
  if (out.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("no etcd endpoint in \"", list, "\""));
  }
  return out;
}

}  // namespace etcdisc::internal
