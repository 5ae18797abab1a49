#include "fleet/health_record.h"

#include <cmath>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "discovery/json.h"
#include "util/time_text.h"

namespace etcdisc::internal {
namespace {

using TimePoint = std::chrono::system_clock::time_point;

// Writes `"key":` after a comma when `out` already holds a member.
void Key(std::string* out, absl::string_view key) {
  if (out->back() != '{') out->push_back(',');
  AppendJsonString(out, key);
  out->push_back(':');
}

void Number(std::string* out, absl::string_view key, double value) {
  Key(out, key);
  absl::StrAppend(out, absl::StrFormat("%.15g", value));
}

void Integer(std::string* out, absl::string_view key, int64_t value) {
  Key(out, key);
  absl::StrAppend(out, value);
}

void Text(std::string* out, absl::string_view key, absl::string_view value) {
  Key(out, key);
  AppendJsonString(out, value);
}

}  // namespace

std::string EncodeHealthJson(const HostHealth& h) {
  std::string out = "{";
  Number(&out, "load1", h.load1);
  Number(&out, "load5", h.load5);
  Number(&out, "load15", h.load15);
  Integer(&out, "mem_total_bytes", h.mem_total_bytes);
  Integer(&out, "mem_available_bytes", h.mem_available_bytes);
  Integer(&out, "uptime_seconds", h.uptime_seconds);
  Integer(&out, "rss_bytes", h.rss_bytes);
  Number(&out, "cpu_seconds", h.cpu_seconds);
  Text(&out, "process_start", FormatUtcTime(h.process_start));
  Text(&out, "version", h.version);
  Key(&out, "gauges");
  out.push_back('{');
  for (const auto& [name, value] : h.gauges) Number(&out, name, value);
  out += "}}";
  return out;
}

namespace {

// Readers of one field of `object` into `out`: absent or null leaves it;
// a wrong type or value is an error naming the field.
class Fields {
 public:
  explicit Fields(const JsonValue& object) : object_(object) {}

  absl::Status Number(absl::string_view key, double* out) const {
    const JsonValue* v = Get(key);
    if (v == nullptr) return absl::OkStatus();
    double d = 0;
    if (v->type != JsonValue::Type::kNumber || !absl::SimpleAtod(v->text, &d) ||
        !std::isfinite(d)) {
      return Bad(key, "is not a finite number");
    }
    *out = d;
    return absl::OkStatus();
  }
  absl::Status Integer(absl::string_view key, int64_t* out) const {
    double d = 0;
    if (absl::Status s = Number(key, &d); !s.ok()) return s;
    if (Get(key) == nullptr) return absl::OkStatus();
    if (d < 0 || d > 9e18) return Bad(key, "is out of range");
    *out = static_cast<int64_t>(d);
    return absl::OkStatus();
  }
  absl::Status Text(absl::string_view key, std::string* out) const {
    const JsonValue* v = Get(key);
    if (v == nullptr) return absl::OkStatus();
    if (v->type != JsonValue::Type::kString) return Bad(key, "is not a string");
    *out = v->text;
    return absl::OkStatus();
  }
  absl::Status Time(absl::string_view key, TimePoint* out) const {
    std::string text;
    if (absl::Status s = Text(key, &text); !s.ok() || text.empty()) return s;
    auto t = ParseUtcTime(text);
    if (!t.ok()) return Bad(key, t.status().message());
    *out = *t;
    return absl::OkStatus();
  }
  const JsonValue* Object(absl::string_view key, absl::Status* status) const {
    const JsonValue* v = Get(key);
    if (v != nullptr && v->type != JsonValue::Type::kObject) {
      *status = Bad(key, "is not an object");
      return nullptr;
    }
    return v;
  }

 private:
  const JsonValue* Get(absl::string_view key) const {
    const JsonValue* v = object_.Find(key);
    return v == nullptr || v->type == JsonValue::Type::kNull ? nullptr : v;
  }
  static absl::Status Bad(absl::string_view key, absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("\"", key, "\" ", why));
  }
  const JsonValue& object_;
};

absl::Status DecodeGauges(const JsonValue& gauges, HostHealth* out) {
  if (gauges.members.size() > kMaxGauges) {
    return absl::InvalidArgumentError(absl::StrCat(
        gauges.members.size(), " gauges, at most ", kMaxGauges));
  }
  Fields fields(gauges);
  for (const auto& [name, value] : gauges.members) {
    double d = 0;
    if (absl::Status s = fields.Number(name, &d); !s.ok()) return s;
    out->gauges[name] = d;
  }
  return absl::OkStatus();
}

absl::Status DecodeHealth(const JsonValue& object, HostHealth* out) {
  Fields f(object);
  for (absl::Status s :
       {f.Number("load1", &out->load1), f.Number("load5", &out->load5),
        f.Number("load15", &out->load15),
        f.Integer("mem_total_bytes", &out->mem_total_bytes),
        f.Integer("mem_available_bytes", &out->mem_available_bytes),
        f.Integer("uptime_seconds", &out->uptime_seconds),
        f.Integer("rss_bytes", &out->rss_bytes),
        f.Number("cpu_seconds", &out->cpu_seconds),
        f.Time("process_start", &out->process_start),
        f.Text("version", &out->version)}) {
    if (!s.ok()) return s;
  }
  absl::Status status;
  const JsonValue* gauges = f.Object("gauges", &status);
  if (gauges != nullptr) status = DecodeGauges(*gauges, out);
  return status;
}

}  // namespace

std::string EncodeHealthRecord(const HealthRecord& record) {
  std::string out = "{";
  Text(&out, "hostname", record.hostname);
  Text(&out, "registered_at", FormatUtcTime(record.registered_at));
  Text(&out, "last_seen", FormatUtcTime(record.last_seen));
  if (record.went_at) Text(&out, "went_at", FormatUtcTime(*record.went_at));
  Key(&out, "health");
  out += EncodeHealthJson(record.health);
  out.push_back('}');
  return out;
}

absl::StatusOr<HealthRecord> DecodeHealthRecord(absl::string_view json) {
  auto object = ParseJson(json);
  if (!object.ok()) return object.status();
  if (object->type != JsonValue::Type::kObject) {
    return absl::InvalidArgumentError("not a JSON object");
  }
  HealthRecord record;
  Fields f(*object);
  TimePoint went;
  for (absl::Status s : {f.Text("hostname", &record.hostname),
                         f.Time("registered_at", &record.registered_at),
                         f.Time("last_seen", &record.last_seen),
                         f.Time("went_at", &went)}) {
    if (!s.ok()) return s;
  }
  if (went != TimePoint{}) record.went_at = went;
  absl::Status status;
  const JsonValue* health = f.Object("health", &status);
  if (health != nullptr) status = DecodeHealth(*health, &record.health);
  if (!status.ok()) return status;
  return record;
}

absl::Status ValidateGauge(absl::string_view name, double value) {
  bool valid = !name.empty() && name.size() <= 64 &&
               !absl::ascii_isdigit(static_cast<unsigned char>(name[0]));
  for (char c : name) valid &= absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_';
  if (!valid) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid gauge name \"", name,
        "\": 1 to 64 of [A-Za-z0-9_], not starting with a digit"));
  }
  if (!std::isfinite(value)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid value ", value, " of gauge \"", name, "\": not finite"));
  }
  return absl::OkStatus();
}

}  // namespace etcdisc::internal
