#include "util/scheduler.h"

#include <atomic>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace etcdisc::internal {
namespace {

using std::chrono::milliseconds;

TEST(SchedulerTest, RunsTasksInTimeOrder) {
  Scheduler scheduler;
  absl::Mutex mu;
  std::vector<int> order;
  absl::Notification done;
  scheduler.RunAfter(milliseconds(60), [&] {
    absl::MutexLock lock(&mu);
    order.push_back(3);
    done.Notify();
  });
  scheduler.RunAfter(milliseconds(20), [&] {
    absl::MutexLock lock(&mu);
    order.push_back(2);
  });
  scheduler.RunAfter(milliseconds(0), [&] {
    absl::MutexLock lock(&mu);
    order.push_back(1);
  });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  absl::MutexLock lock(&mu);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(SchedulerTest, CancelledTaskNeverRuns) {
  Scheduler scheduler;
  std::atomic<bool> ran{false};
  const auto id = scheduler.RunAfter(milliseconds(50), [&] { ran = true; });
  EXPECT_TRUE(scheduler.Cancel(id));
  absl::Notification later;
  scheduler.RunAfter(milliseconds(100), [&] { later.Notify(); });
  ASSERT_TRUE(later.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_FALSE(ran);
  EXPECT_FALSE(scheduler.Cancel(id));
}

TEST(SchedulerTest, ShutdownDropsPendingTasksAndRefusesNewOnes) {
  std::atomic<bool> ran{false};
  Scheduler scheduler;
  scheduler.RunAfter(std::chrono::hours(1), [&] { ran = true; });
  scheduler.Shutdown();
  EXPECT_EQ(scheduler.RunAfter(milliseconds(0), [&] { ran = true; }), 0u);
  EXPECT_FALSE(ran);
}

TEST(SchedulerTest, ATaskMayScheduleAnother) {
  Scheduler scheduler;
  absl::Notification second;
  scheduler.RunAfter(milliseconds(0), [&] {
    scheduler.RunAfter(milliseconds(0), [&] { second.Notify(); });
  });
  EXPECT_TRUE(second.WaitForNotificationWithTimeout(absl::Seconds(10)));
}

}  // namespace
}  // namespace etcdisc::internal
