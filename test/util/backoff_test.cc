#include "util/backoff.h"

#include "gtest/gtest.h"

namespace etcdisc::internal {
namespace {

using std::chrono::milliseconds;

TEST(BackoffTest, GrowsWithinBoundsAndIsCapped) {
  Backoff backoff(milliseconds(100), milliseconds(1000));
  milliseconds ceiling(100);
  for (int i = 0; i < 20; ++i) {
    const milliseconds delay = backoff.Next();
    EXPECT_GE(delay, milliseconds(50));
    EXPECT_LE(delay, ceiling);
    ceiling = std::min(ceiling * 2, milliseconds(1000));
  }
  EXPECT_EQ(backoff.failures(), 20);
}

TEST(BackoffTest, ResetStartsOver) {
  Backoff backoff(milliseconds(100), milliseconds(10000));
  for (int i = 0; i < 10; ++i) backoff.Next();
  backoff.Reset();
  EXPECT_EQ(backoff.failures(), 0);
  EXPECT_LE(backoff.Next(), milliseconds(100));
}

TEST(BackoffTest, JittersBetweenCalls) {
  Backoff backoff(milliseconds(1000), milliseconds(1000000));
  backoff.Next();
  backoff.Next();
  // The third ceiling is 4 s: fifty draws are not all equal.
  std::set<int64_t> seen;
  for (int i = 0; i < 50; ++i) {
    Backoff fresh(milliseconds(1000), milliseconds(1000));
    seen.insert(fresh.Next().count());
  }
  EXPECT_GT(seen.size(), 1u);
}

}  // namespace
}  // namespace etcdisc::internal
