// Properties checked on arbitrary input, shared by the libFuzzer targets and
// by the test that replays their corpora in every build. Each returns
// normally or aborts (with a message) when a property fails.
#ifndef ETCDISC_TEST_FUZZ_FUZZ_TARGETS_H_
#define ETCDISC_TEST_FUZZ_FUZZ_TARGETS_H_

#include <cstddef>
#include <cstdint>

namespace etcdisc::fuzz {

// Host and service records: decoding never crashes; a decoded record encodes
// to JSON that decodes to the same record.
void CheckRecords(const uint8_t* data, size_t size);
// Host keys and service names: parsing never crashes; a key that parses is
// rebuilt byte for byte from its parts, and its service name is valid.
void CheckKeys(const uint8_t* data, size_t size);
// Endpoint lists: parsing never crashes; every parsed endpoint's URL parses
// back to the same endpoint.
void CheckEndpoints(const uint8_t* data, size_t size);

}  // namespace etcdisc::fuzz

#endif  // ETCDISC_TEST_FUZZ_FUZZ_TARGETS_H_
