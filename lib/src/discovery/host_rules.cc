#include "discovery/host_rules.h"

#include <unistd.h>
#include <uuid/uuid.h>

#include <cstdlib>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "discovery/records.h"
#include "util/status_macros.h"

namespace etcdisc::internal {
namespace {

absl::Status ValidatePorts(const Ports& ports, absl::string_view field) {
  for (const auto& [scheme, port] : ports) {
    if (scheme.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid ", field, ": port \"", port, "\" has an empty scheme"));
    }
    if (!PortNumber(port)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid ", field, ": port \"", port, "\" for \"", scheme,
          "\" must be a number from 1 to 65535"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::optional<int> PortNumber(absl::string_view text) {
  int number = 0;
  if (text.find_first_not_of("0123456789") != absl::string_view::npos ||
      !absl::SimpleAtoi(text, &number) || number < 1 || number > 65535) {
    return std::nullopt;
  }
  return number;
}

absl::Status ValidateHostname(absl::string_view name, absl::string_view what) {
  for (char c : name) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '/' || byte <= ' ' || byte == 0x7f) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid ", what, " \"", name,
          "\": it contains '/', whitespace or a control character"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateHost(const HostSpec& host) {
  if (host.name.empty()) {
    return absl::InvalidArgumentError("invalid host: the hostname is empty");
  }
  ETCDISC_RETURN_IF_ERROR(ValidateHostname(host.name, "hostname"));
  ETCDISC_RETURN_IF_ERROR(ValidateHostname(host.private_hostname, "private hostname"));
  ETCDISC_RETURN_IF_ERROR(ValidatePorts(host.ports, "ports"));
  return ValidatePorts(host.private_ports, "private ports");
}

absl::Status ValidateRecordSize(absl::string_view service, const Host& host) {
  // Leaves room for the keys and the Txn's own framing under etcd's limit.
  constexpr size_t kMaxRecordsBytes = 1024 * 1024;
  const size_t bytes =
      EncodeHost(host).size() + EncodeService(ServiceFromHost(service, host)).size();
  if (bytes <= kMaxRecordsBytes) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "invalid host: its records take ", bytes, " bytes, above the ",
      kMaxRecordsBytes, " that fit in one etcd request"));
}

void ApplyRegisterDefaults(absl::string_view service,
                           absl::string_view machine_hostname,
                           absl::string_view uuid4, Host* host) {
  if (!host->is_public && host->private_hostname.empty()) {
    host->private_hostname = host->name;
  }
  if (host->private_hostname.empty()) {
    host->private_hostname = std::string(machine_hostname);
  }
  host->service_name = std::string(service);
  if (!host->private_hostname.empty() && host->private_ports.empty()) {
    host->private_ports = host->ports;
  }
  host->uuid = absl::StrCat(uuid4, "-", host->private_hostname);
}

std::string NewUuid4() {
  uuid_t id;
  uuid_generate_random(id);
  char text[37];
  uuid_unparse_lower(id, text);
  return text;
}

std::string MachineHostname() {
  if (const char* env = std::getenv("HOSTNAME"); env != nullptr && *env) {
    return env;
  }
  char name[256] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0) return "localhost";
  return name;
}

}  // namespace etcdisc::internal
