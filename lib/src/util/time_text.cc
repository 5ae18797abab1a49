#include "util/time_text.h"

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace etcdisc::internal {

std::string FormatUtcTime(std::chrono::system_clock::time_point t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromChrono(t),
                          absl::UTCTimeZone());
}

absl::StatusOr<std::chrono::system_clock::time_point> ParseUtcTime(
    absl::string_view text) {
  absl::Time t;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, text, &t, &error)) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid time \"", text, "\": ", error));
  }
  // Far from now, a time is a forged or broken record: refused, so that no
  // reader does arithmetic on a clamped extreme.
  if (t < absl::UnixEpoch() ||
      t >= absl::FromCivil(absl::CivilSecond(2200, 1, 1), absl::UTCTimeZone())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "time \"", text, "\" is out of range (1970 to 2199)"));
  }
  return absl::ToChronoTime(t);
}

}  // namespace etcdisc::internal
