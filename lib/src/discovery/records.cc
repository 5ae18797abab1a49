#include "discovery/records.h"

#include "absl/strings/str_cat.h"
#include "discovery/json.h"
#include "util/status_macros.h"

namespace etcdisc::internal {
namespace {

// Writes `"key":` with a leading comma when the object has members already.
class ObjectWriter {
 public:
  explicit ObjectWriter(std::string* out) : out_(out) { out_->push_back('{'); }
  void String(absl::string_view key, absl::string_view value, bool omit_empty) {
    if (omit_empty && value.empty()) return;
    Key(key);
    AppendJsonString(out_, value);
  }
  void Bool(absl::string_view key, bool value, bool omit_empty) {
    if (omit_empty && !value) return;
    Key(key);
    out_->append(value ? "true" : "false");
  }
  // Go writes a nil map as null; an empty Ports stands for a nil map.
  void Map(absl::string_view key, const Ports& ports, bool omit_empty) {
    if (omit_empty && ports.empty()) return;
    Key(key);
    if (ports.empty()) {
      out_->append("null");
      return;
    }
    out_->push_back('{');
    bool first = true;
    for (const auto& [k, v] : ports) {  // std::map: sorted, as Go sorts keys.
      if (!first) out_->push_back(',');
      first = false;
      AppendJsonString(out_, k);
      out_->push_back(':');
      AppendJsonString(out_, v);
    }
    out_->push_back('}');
  }
  void Finish() { out_->push_back('}'); }

 private:
  void Key(absl::string_view key) {
    if (!empty_) out_->push_back(',');
    empty_ = false;
    AppendJsonString(out_, key);
    out_->push_back(':');
  }
  std::string* out_;
  bool empty_ = true;
};

absl::Status WrongType(absl::string_view field, absl::string_view want) {
  return absl::InvalidArgumentError(
      absl::StrCat("field \"", field, "\" is not ", want));
}

absl::Status ReadString(const JsonValue& object, absl::string_view field,
                        std::string* out) {
  const JsonValue* v = object.Find(field);
  if (v == nullptr || v->type == JsonValue::Type::kNull) return absl::OkStatus();
  if (v->type != JsonValue::Type::kString) return WrongType(field, "a string");
  *out = v->text;
  return absl::OkStatus();
}

absl::Status ReadBool(const JsonValue& object, absl::string_view field,
                      bool* out) {
  const JsonValue* v = object.Find(field);
  if (v == nullptr || v->type == JsonValue::Type::kNull) return absl::OkStatus();
  if (v->type != JsonValue::Type::kBool) return WrongType(field, "a boolean");
  *out = v->boolean;
  return absl::OkStatus();
}

absl::Status ReadPorts(const JsonValue& object, absl::string_view field,
                       Ports* out) {
  const JsonValue* v = object.Find(field);
  if (v == nullptr || v->type == JsonValue::Type::kNull) return absl::OkStatus();
  if (v->type != JsonValue::Type::kObject) return WrongType(field, "an object");
  for (const auto& [scheme, port] : v->members) {
    if (port.type != JsonValue::Type::kString &&
        port.type != JsonValue::Type::kNumber) {
      return WrongType(absl::StrCat(field, ".", scheme), "a port");
    }
    (*out)[scheme] = port.text;
  }
  return absl::OkStatus();
}

absl::StatusOr<JsonValue> ParseObject(absl::string_view json) {
  ETCDISC_ASSIGN_OR_RETURN(auto value, ParseJson(json));
  if (value.type != JsonValue::Type::kObject) {
    return absl::InvalidArgumentError("the record is not a JSON object");
  }
  return value;
}

}  // namespace

std::string EncodeHost(const Host& host) {
  std::string out;
  ObjectWriter w(&out);
  w.String("name", host.name, false);
  w.String("service_name", host.service_name, false);
  w.Map("ports", host.ports, false);
  w.String("user", host.user, true);
  w.String("password", host.password, true);
  w.Bool("public", host.is_public, true);
  w.String("private_hostname", host.private_hostname, true);
  w.Map("private_ports", host.private_ports, true);
  w.Bool("critical", host.critical, true);
  w.String("shard", host.shard, true);
  w.String("uuid", host.uuid, true);
  w.Finish();
  return out;
}

std::string EncodeService(const ServiceInfo& service) {
  std::string out;
  ObjectWriter w(&out);
  w.String("name", service.name, false);
  w.Bool("critical", service.critical, false);
  w.String("hostname", service.hostname, true);
  w.String("user", service.user, true);
  w.String("password", service.password, true);
  w.Map("ports", service.ports, true);
  w.Bool("public", service.is_public, true);
  w.Finish();
  return out;
}

absl::StatusOr<Host> DecodeHost(absl::string_view json) {
  ETCDISC_ASSIGN_OR_RETURN(auto object, ParseObject(json));
  Host h;
  for (absl::Status s : {ReadString(object, "name", &h.name),
                         ReadString(object, "service_name", &h.service_name),
                         ReadPorts(object, "ports", &h.ports),
                         ReadString(object, "user", &h.user),
                         ReadString(object, "password", &h.password),
                         ReadBool(object, "public", &h.is_public),
                         ReadString(object, "private_hostname",
                                    &h.private_hostname),
                         ReadPorts(object, "private_ports", &h.private_ports),
                         ReadBool(object, "critical", &h.critical),
                         ReadString(object, "shard", &h.shard),
                         ReadString(object, "uuid", &h.uuid)}) {
    if (!s.ok()) return s;
  }
  return h;
}

absl::StatusOr<ServiceInfo> DecodeService(absl::string_view json) {
  ETCDISC_ASSIGN_OR_RETURN(auto object, ParseObject(json));
  ServiceInfo s;
  for (absl::Status st : {ReadString(object, "name", &s.name),
                          ReadBool(object, "critical", &s.critical),
                          ReadString(object, "hostname", &s.hostname),
                          ReadString(object, "user", &s.user),
                          ReadString(object, "password", &s.password),
                          ReadPorts(object, "ports", &s.ports),
                          ReadBool(object, "public", &s.is_public)}) {
    if (!st.ok()) return st;
  }
  return s;
}

absl::StatusOr<Host> HostFromKeyValue(const KeyLayout& keys,
                                      const KeyValue& kv) {
  ETCDISC_ASSIGN_OR_RETURN(auto parts, keys.ParseHostKey(kv.key));
  auto host = DecodeHost(kv.value);
  if (!host.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "malformed host record ", kv.key, " at revision ", kv.mod_revision,
        ": ", host.status().message()));
  }
  // The key is the truth: a record written by another tool may disagree.
  host->uuid = parts.uuid;
  host->service_name = parts.service;
  return host;
}

ServiceInfo ServiceFromHost(absl::string_view service, const Host& host) {
  ServiceInfo s;
  s.name = std::string(service);
  s.critical = host.critical;
  s.is_public = host.is_public;
  if (host.is_public) {
    s.hostname = host.name;
    s.user = host.user;
    s.password = host.password;
    s.ports = host.ports;
  }
  return s;
}

}  // namespace etcdisc::internal
