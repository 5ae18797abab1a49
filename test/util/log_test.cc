// etcdisc's logging: the sink, the level, and the limit on repeats.
#include "util/log.h"

#include <chrono>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"

namespace etcdisc::internal {
namespace {

using Clock = std::chrono::steady_clock;

class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ResetLogLimitsForTesting();
    SetLogClockForTesting([this] { return now_; });
    SetLogSink([this](const LogRecord& r) {
      absl::MutexLock lock(&mu_);
      lines_.push_back(std::string(LogLevelName(r.level)) + " " +
                       std::string(r.message));
    });
  }
  void TearDown() override {
    SetLogSink(nullptr);
    SetLogClockForTesting(nullptr);
    SetLogLevel(LogLevel::kWarning);
    ResetLogLimitsForTesting();
  }
  std::vector<std::string> Lines() {
    absl::MutexLock lock(&mu_);
    return lines_;
  }
  // One place in the code, logged from as often as asked.
  void LogFromOnePlace(int times) {
    for (int i = 0; i < times; ++i) {
      ETCDISC_LOG(kWarning, "etcd unreachable");
    }
  }

  Clock::time_point now_ = Clock::now();
  absl::Mutex mu_;
  std::vector<std::string> lines_;
};

TEST_F(LogTest, LinesBelowTheLevelAreDropped) {
  ETCDISC_LOG(kInfo, "hidden by default");
  ETCDISC_LOG(kWarning, "shown");
  SetLogLevel(LogLevel::kDebug);
  ETCDISC_LOG(kDebug, "shown at debug");
  SetLogLevel(LogLevel::kError);
  ETCDISC_LOG(kWarning, "hidden at error");
  EXPECT_EQ(Lines(),
            (std::vector<std::string>{"warning shown", "debug shown at debug"}));
}

TEST_F(LogTest, RepeatsFromOnePlaceAreLimitedAndCounted) {
  LogFromOnePlace(1000);
  EXPECT_EQ(Lines().size(), 10u);
  now_ += std::chrono::seconds(11);
  LogFromOnePlace(1);
  ASSERT_EQ(Lines().size(), 11u);
  EXPECT_EQ(Lines().back(),
            "warning etcd unreachable (990 more like it in the last 10 s "
            "were dropped)");
  // Another place has its own count.
  ETCDISC_LOG(kError, "elsewhere");
  EXPECT_EQ(Lines().back(), "error elsewhere");
}

TEST_F(LogTest, RecordsNameTheirPlaceAndLevelNamesRoundTrip) {
  const char* file = nullptr;
  int line = 0;
  SetLogSink([&](const LogRecord& r) {
    file = r.file;
    line = r.line;
  });
  ETCDISC_LOG(kWarning, "where");
  ASSERT_NE(file, nullptr);
  EXPECT_NE(std::string(file).find("log_test.cc"), std::string::npos);
  EXPECT_GT(line, 0);
  for (LogLevel level : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarning,
                         LogLevel::kError}) {
    LogLevel parsed = LogLevel::kDebug;
    ASSERT_TRUE(ParseLogLevel(LogLevelName(level), &parsed));
    EXPECT_EQ(parsed, level);
  }
  LogLevel untouched = LogLevel::kInfo;
  EXPECT_FALSE(ParseLogLevel("loud", &untouched));
  EXPECT_EQ(untouched, LogLevel::kInfo);
}

}  // namespace
}  // namespace etcdisc::internal
