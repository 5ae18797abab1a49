// Replays every fuzzing corpus file (seeds and kept crash inputs) through the
// fuzz properties, in every build, so that a fixed crash stays fixed.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "test/fuzz/fuzz_targets.h"

namespace etcdisc::fuzz {
namespace {

using Check = void (*)(const uint8_t*, size_t);

int ReplayCorpus(const std::string& name, Check check) {
  int files = 0;
  const std::filesystem::path dir =
      std::filesystem::path(ETCDISC_FUZZ_CORPUS_DIR) / name;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    const std::string data = bytes.str();
    check(reinterpret_cast<const uint8_t*>(data.data()), data.size());
    ++files;
  }
  return files;
}

TEST(CorpusReplayTest, RecordCorpusHoldsTheProperties) {
  EXPECT_GT(ReplayCorpus("record", &CheckRecords), 5);
}

TEST(CorpusReplayTest, KeyCorpusHoldsTheProperties) {
  EXPECT_GT(ReplayCorpus("key", &CheckKeys), 5);
}

TEST(CorpusReplayTest, EndpointsCorpusHoldsTheProperties) {
  EXPECT_GT(ReplayCorpus("endpoints", &CheckEndpoints), 5);
}

}  // namespace
}  // namespace etcdisc::fuzz
