#include "util/scheduler.h"

#include <atomic>
#include <vector>

#include "util/mutex.h"
#include "support/notification.h"
#include "gtest/gtest.h"

namespace etcdisc::internal {
namespace {

using std::chrono::milliseconds;

TEST(SchedulerTest, RunsTasksInTimeOrder) {
  Scheduler scheduler;
  internal::Mutex mu;
  std::vector<int> order;
  ::etcdisc::testing::Notification done;
  scheduler.RunAfter(milliseconds(60), [&] {
    internal::MutexLock lock(&mu);
    order.push_back(3);
    done.Notify();
  });
  scheduler.RunAfter(milliseconds(20), [&] {
    internal::MutexLock lock(&mu);
    order.push_back(2);
  });
  scheduler.RunAfter(milliseconds(0), [&] {
    internal::MutexLock lock(&mu);
    order.push_back(1);
  });
  ASSERT_TRUE(done.WaitFor(std::chrono::seconds(10)));
  internal::MutexLock lock(&mu);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(SchedulerTest, CancelledTaskNeverRuns) {
  Scheduler scheduler;
  std::atomic<bool> ran{false};
  const auto id = scheduler.RunAfter(milliseconds(50), [&] { ran = true; });
  EXPECT_TRUE(scheduler.Cancel(id));
  ::etcdisc::testing::Notification later;
  scheduler.RunAfter(milliseconds(100), [&] { later.Notify(); });
  ASSERT_TRUE(later.WaitFor(std::chrono::seconds(10)));
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
  ::etcdisc::testing::Notification second;
  scheduler.RunAfter(milliseconds(0), [&] {
    scheduler.RunAfter(milliseconds(0), [&] { second.Notify(); });
  });
  EXPECT_TRUE(second.WaitFor(std::chrono::seconds(10)));
}

}  // namespace
}  // namespace etcdisc::internal
