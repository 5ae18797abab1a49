#include "test/fuzz/fuzz_targets.h"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "discovery/keys.h"
#include "discovery/records.h"
#include "etcd/endpoints.h"

namespace etcdisc::fuzz {
namespace {

void Require(bool holds, const char* what, const std::string& input) {
  if (holds) return;
  std::fprintf(stderr, "property failed: %s\ninput: %s\n", what, input.c_str());
  std::abort();
}

}  // namespace

void CheckRecords(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  if (auto host = internal::DecodeHost(input); host.ok()) {
    auto again = internal::DecodeHost(internal::EncodeHost(*host));
    Require(again.ok() && *again == *host, "host round trip", input);
  }
  if (auto service = internal::DecodeService(input); service.ok()) {
    auto again = internal::DecodeService(internal::EncodeService(*service));
    Require(again.ok() && *again == *service, "service round trip", input);
  }
}

void CheckKeys(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  for (const char* prefix : {"", "/tenant"}) {
    const internal::KeyLayout layout(prefix);
    auto parts = layout.ParseHostKey(input);
    if (!parts.ok()) continue;
    Require(layout.HostKey(parts->service, parts->uuid) == input,
            "host key rebuilt from its parts", input);
  }
  if (internal::ValidateServiceName(input).ok()) {
    const internal::KeyLayout layout("");
    auto parts = layout.ParseHostKey(layout.HostKey(input, "u"));
    Require(parts.ok() && parts->service == input,
            "a valid service name makes a parseable key", input);
  }
  internal::ValidateKeyPrefix(input).IgnoreError();
}

void CheckEndpoints(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  auto endpoints = internal::ParseEndpoints(input);
  if (!endpoints.ok()) return;
  for (const internal::Endpoint& e : *endpoints) {
    auto again = internal::ParseEndpoints(e.Url());
    Require(again.ok() && again->size() == 1 && (*again)[0].Url() == e.Url() &&
                (*again)[0].port == e.port,
            "endpoint URL parses back", input);
  }
}

}  // namespace etcdisc::fuzz
