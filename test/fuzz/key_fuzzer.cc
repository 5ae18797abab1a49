// libFuzzer entry point; the property lives in fuzz_targets.cc.
#include "test/fuzz/fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  etcdisc::fuzz::CheckKeys(data, size);
  return 0;
}
