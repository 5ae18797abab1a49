// The queue behind subscriptions, and a subscription's close.
#include "etcdisc/subscription.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "discovery/subscription_access.h"
#include "gtest/gtest.h"
#include "util/event_queue.h"

namespace etcdisc::internal {
namespace {

using std::chrono::milliseconds;

TEST(EventQueueTest, PopsInOrderAndTimesOut) {
  EventQueue<int> q;
  EXPECT_TRUE(q.Push(1));
  EXPECT_TRUE(q.Push(2));
  EXPECT_EQ(q.Pop(), 1);
  EXPECT_EQ(q.TryPop(), 2);
  EXPECT_EQ(q.TryPop(), std::nullopt);
  EXPECT_EQ(q.Pop(milliseconds(20)), std::nullopt);
}

TEST(EventQueueTest, CloseWakesWaitersAndKeepsQueuedItems) {
  EventQueue<int> q;
  q.Push(7);
  std::thread closer([&] { q.Close(absl::UnavailableError("bye")); });
  closer.join();
  EXPECT_FALSE(q.Push(8));
  EXPECT_EQ(q.Pop(), 7);
  EXPECT_EQ(q.Pop(), std::nullopt);  // Closed and drained: returns at once.
  EXPECT_EQ(q.status().code(), absl::StatusCode::kUnavailable);
  q.Close(absl::InternalError("second"));
  EXPECT_EQ(q.status().code(), absl::StatusCode::kUnavailable);
}

TEST(EventQueueTest, BlockedPopReturnsWhenClosed) {
  EventQueue<int> q;
  std::atomic<bool> returned{false};
  std::thread waiter([&] {
    EXPECT_EQ(q.Pop(), std::nullopt);
    returned = true;
  });
  // Whether the waiter is already blocked or not yet, Close must end it.
  q.Close(absl::CancelledError("done"));
  waiter.join();
  EXPECT_TRUE(returned);
}

TEST(EventQueueTest, OverflowClosesWithResourceExhausted) {
  EventQueue<int> q(2);
  EXPECT_TRUE(q.Push(1));
  EXPECT_TRUE(q.Push(2));
  EXPECT_FALSE(q.Push(3));
  EXPECT_EQ(q.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(q.Pop(), 1);
  EXPECT_EQ(q.Pop(), 2);
  EXPECT_EQ(q.Pop(), std::nullopt);
}

TEST(EventQueueTest, ManyProducersAndConsumersLoseNothing) {
  EventQueue<int> q;
  constexpr int kPerProducer = 5000;
  std::atomic<long> sum{0};
  std::atomic<int> count{0};
  std::vector<std::thread> threads;
  for (int p = 0; p < 4; ++p) {
    threads.emplace_back([&, p] {
      for (int i = 0; i < kPerProducer; ++i) q.Push(p * kPerProducer + i);
    });
  }
  for (int c = 0; c < 3; ++c) {
    threads.emplace_back([&] {
      while (auto v = q.Pop()) {
        sum += *v;
        ++count;
      }
    });
  }
  for (int p = 0; p < 4; ++p) threads[p].join();
  while (q.size() > 0) std::this_thread::yield();
  q.Close(absl::CancelledError("done"));
  for (size_t t = 4; t < threads.size(); ++t) threads[t].join();
  const long n = 4L * kPerProducer;
  EXPECT_EQ(count.load(), n);
  EXPECT_EQ(sum.load(), n * (n - 1) / 2);
}

TEST(SubscriptionTest, CloseRunsTheHookOnceAndClosesTheQueue) {
  auto q = std::make_shared<EventQueue<std::string>>();
  int hooks = 0;
  {
    auto s = SubscriptionAccess::Make<std::string>(q, [&] { ++hooks; });
    q->Push("a");
    EXPECT_EQ(s->pending(), 1u);
    EXPECT_EQ(s->Pop(), "a");
    s->Close();
    s->Close();
    EXPECT_EQ(s->status().code(), absl::StatusCode::kCancelled);
    EXPECT_FALSE(q->Push("b"));
  }
  EXPECT_EQ(hooks, 1);
}

}  // namespace
}  // namespace etcdisc::internal
