#include "membership/member_record.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "discovery/json.h"
#include "discovery/keys.h"
#include "util/time_text.h"

namespace etcdisc::internal {
namespace {

constexpr size_t kMaxMetaEntries = 64;
constexpr size_t kMaxMetaKey = 64;
constexpr size_t kMaxMetaBytes = 4096;

void AppendField(std::string* out, absl::string_view key) {
  if (out->size() > 1) out->push_back(',');
  AppendJsonString(out, key);
  out->push_back(':');
}

absl::Status Malformed(const KeyValue& kv, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("malformed member record at key \"", kv.key, "\" (revision ",
                   kv.mod_revision, "): ", why));
}

// Reads the fields a reader needs; a wrong type is malformed, a missing
// field is left empty.
absl::Status ReadFields(const JsonValue& object, const KeyValue& kv,
                        MemberRecord* out) {
  for (const auto& [name, target] :
       {std::pair<const char*, std::string*>{"hostname", &out->member.hostname},
        {"process", &out->process},
        {"token", &out->token}}) {
    const JsonValue* v = object.Find(name);
    if (v == nullptr || v->type == JsonValue::Type::kNull) continue;
    if (v->type != JsonValue::Type::kString) {
      return Malformed(kv, absl::StrCat("\"", name, "\" is not a string"));
    }
    *target = v->text;
  }
  if (const JsonValue* since = object.Find("since");
      since != nullptr && since->type == JsonValue::Type::kString) {
    auto t = ParseUtcTime(since->text);
    if (!t.ok()) return Malformed(kv, absl::StrCat("\"since\": ", t.status().message()));
    out->member.since = *t;
  }
  if (const JsonValue* meta = object.Find("meta");
      meta != nullptr && meta->type != JsonValue::Type::kNull) {
    if (meta->type != JsonValue::Type::kObject) {
      return Malformed(kv, "\"meta\" is not an object");
    }
    for (const auto& [key, value] : meta->members) {
      if (value.type != JsonValue::Type::kString) {
        return Malformed(kv,
                         absl::StrCat("meta \"", key, "\" is not a string"));
      }
      out->member.meta[key] = value.text;
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string EncodeMember(const MemberRecord& record) {
  const etcdisc::Member& m = record.member;
  std::string out = "{";
  AppendField(&out, "node");
  AppendJsonString(&out, m.node);
  AppendField(&out, "hostname");
  AppendJsonString(&out, m.hostname);
  AppendField(&out, "since");
  AppendJsonString(&out, FormatUtcTime(m.since));
  AppendField(&out, "meta");
  out.push_back('{');
  bool first = true;
  for (const auto& [key, value] : m.meta) {
    if (!first) out.push_back(',');
    first = false;
    AppendJsonString(&out, key);
    out.push_back(':');
    AppendJsonString(&out, value);
  }
  out.push_back('}');
  AppendField(&out, "process");
  AppendJsonString(&out, record.process);
  AppendField(&out, "token");
  AppendJsonString(&out, record.token);
  out.push_back('}');
  return out;
}

absl::StatusOr<MemberRecord> MemberFromKeyValue(absl::string_view nodes_prefix,
                                                const KeyValue& kv) {
  absl::string_view node = kv.key;
  if (!absl::ConsumePrefix(&node, nodes_prefix) ||
      !ValidateKeySegment("node id", node).ok()) {
    return Malformed(
        kv, absl::StrCat("not a key of the form ", nodes_prefix, "<node>"));
  }
  auto object = ParseJson(kv.value);
  if (!object.ok()) return Malformed(kv, object.status().message());
  if (object->type != JsonValue::Type::kObject) {
    return Malformed(kv, "not a JSON object");
  }
  MemberRecord record;
  if (absl::Status s = ReadFields(*object, kv, &record); !s.ok()) return s;
  record.member.node = std::string(node);
  record.member.revision = kv.create_revision;
  return record;
}

absl::StatusOr<std::string> ClusterName(absl::string_view cluster) {
  std::string name(cluster.empty() ? kDefaultCluster : cluster);
  if (absl::Status s = ValidateKeySegment("cluster name", name); !s.ok()) {
    return s;
  }
  return name;
}

absl::Status ValidateMeta(const std::map<std::string, std::string>& meta) {
  if (meta.size() > kMaxMetaEntries) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid meta: ", meta.size(), " entries, at most ", kMaxMetaEntries));
  }
  size_t bytes = 0;
  for (const auto& [key, value] : meta) {
    if (key.empty() || key.size() > kMaxMetaKey) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid meta key \"", key, "\": 1 to ", kMaxMetaKey, " bytes"));
    }
    bytes += key.size() + value.size();
  }
  if (bytes > kMaxMetaBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid meta: ", bytes,
                     " bytes of keys and values, at most ", kMaxMetaBytes));
  }
  return absl::OkStatus();
}

}  // namespace etcdisc::internal
