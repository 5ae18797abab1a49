// A small JSON reader and writer for etcdisc's records: enough of RFC 8259 to
// read any record safely (depth and size bounded, never crashing on bad
// input), and to write strings escaped the way Go's encoding/json does.
#ifndef ETCDISC_DISCOVERY_JSON_H_
#define ETCDISC_DISCOVERY_JSON_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace etcdisc::internal {

struct JsonValue {
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };
  Type type = Type::kNull;
  bool boolean = false;
  std::string text;  // A string's value, or a number as written.
  std::vector<JsonValue> items;                            // kArray
  std::vector<std::pair<std::string, JsonValue>> members;  // kObject

  // The last member named `key` (JSON allows repeats; Go keeps the last),
  // or nullptr.
  const JsonValue* Find(absl::string_view key) const;
};

// Parses one JSON document; InvalidArgument saying where it went wrong.
// Nesting deeper than 64 levels is refused.
absl::StatusOr<JsonValue> ParseJson(absl::string_view text);

// Appends `s` as a JSON string literal, escaped as Go's encoding/json does:
// ", \, control characters, <, >, &, U+2028 and U+2029; invalid UTF-8 becomes
// U+FFFD.
void AppendJsonString(std::string* out, absl::string_view s);

}  // namespace etcdisc::internal

#endif  // ETCDISC_DISCOVERY_JSON_H_
