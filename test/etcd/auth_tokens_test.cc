// AuthTokens through its seam (the Authenticate function): one Authenticate
// for many threads, and refusals of an old token that never drop a newer one.
// Against a real etcd: test/discovery/auth_test.cc.
#include "etcd/auth_tokens.h"

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace etcdisc::internal {
namespace {

using std::chrono::seconds;

absl::StatusOr<AuthToken> GetToken(AuthTokens& tokens) {
  return tokens.Get(std::chrono::steady_clock::now() + seconds(10));
}

// Blocks (at most 10 s) until `waiters` Gets wait for the Authenticate in
// flight: without the one-at-a-time rule none would, and the test fails.
void AwaitWaiters(const AuthTokens& tokens, int waiters) {
  const auto until = std::chrono::steady_clock::now() + seconds(10);
  while (tokens.waiting() < waiters &&
         std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

// Runs Get on 8 threads at once; returns their answers.
std::vector<absl::StatusOr<AuthToken>> GetOnEightThreads(AuthTokens& tokens) {
  std::vector<absl::StatusOr<AuthToken>> answers(
      8, absl::UnknownError("not run"));
  std::vector<std::thread> threads;
  for (size_t i = 0; i < answers.size(); ++i) {
    threads.emplace_back([&, i] { answers[i] = GetToken(tokens); });
  }
  for (auto& t : threads) t.join();
  return answers;
}

TEST(AuthTokensTest, ManyThreadsShareOneAuthenticate) {
  std::atomic<int> calls{0};
  AuthTokens* self = nullptr;
  AuthTokens tokens({"app", "secret"},
                    [&](const std::string& user, const std::string& password,
                        std::chrono::steady_clock::time_point) {
                      EXPECT_EQ(user, "app");
                      EXPECT_EQ(password, "secret");
                      AwaitWaiters(*self, 7);
                      return absl::StrCat("token-", ++calls);
                    });
  self = &tokens;
  for (const auto& answer : GetOnEightThreads(tokens)) {
    ASSERT_TRUE(answer.ok()) << answer.status();
    EXPECT_EQ(answer->value, "token-1");
  }
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(tokens.authentications(), 1);
}

TEST(AuthTokensTest, ARefusedOldTokenNeverDropsANewerOne) {
  int calls = 0;
  AuthTokens tokens({"app", "secret"},
                    [&](const std::string&, const std::string&,
                        std::chrono::steady_clock::time_point) {
                      return absl::StrCat("token-", ++calls);
                    });
  auto first = GetToken(tokens);
  ASSERT_TRUE(first.ok());
  tokens.Invalidate(*first);
  EXPECT_FALSE(tokens.Cached().has_value());
  auto second = GetToken(tokens);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->value, "token-2");
  EXPECT_GT(second->generation, first->generation);
  // A late refusal of the first token (a call that used it answered now).
  tokens.Invalidate(*first);
  ASSERT_TRUE(tokens.Cached().has_value());
  EXPECT_EQ(tokens.Cached()->value, "token-2");
  EXPECT_EQ(calls, 2);
}

// etcd's answer to a wrong password; the password is put in it, so that the
// test sees it dropped from the error.
AuthTokens::AuthenticateFn RefuseEachCall(int* calls) {
  return [calls](const std::string&, const std::string& password,
                 std::chrono::steady_clock::time_point)
             -> absl::StatusOr<std::string> {
    ++*calls;
    return absl::InvalidArgumentError(absl::StrCat(
        "etcd Authenticate at http://h:2379: etcdserver: authentication "
        "failed, invalid user ID or password [", password, "]"));
  };
}

TEST(AuthTokensTest, AWrongPasswordNamesTheUserOnly) {
  int calls = 0;
  AuthTokens tokens({"app", "hunter2"}, RefuseEachCall(&calls));
  auto token = GetToken(tokens);
  EXPECT_TRUE(absl::IsUnauthenticated(token.status())) << token.status();
  EXPECT_NE(token.status().message().find("\"app\""), absl::string_view::npos);
  EXPECT_EQ(token.status().message().find("hunter2"), absl::string_view::npos)
      << token.status();
  EXPECT_FALSE(tokens.Cached().has_value());
}

TEST(AuthTokensTest, ARefusedUserIsNotAskedForAgainDuringTheHoldOff) {
  int calls = 0;
  AuthTokens held({"app", "hunter2"}, RefuseEachCall(&calls),
                  std::chrono::hours(1));
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(absl::IsUnauthenticated(GetToken(held).status()));
  }
  EXPECT_EQ(calls, 1);

  calls = 0;
  AuthTokens not_held({"app", "hunter2"}, RefuseEachCall(&calls),
                      std::chrono::milliseconds(0));
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(absl::IsUnauthenticated(GetToken(not_held).status()));
  }
  EXPECT_EQ(calls, 3);
}

TEST(AuthTokensTest, ThreadsThatWaitedShareARefusalInsteadOfEachTrying) {
  int calls = 0;
  AuthTokens* self = nullptr;
  auto refuse = RefuseEachCall(&calls);
  AuthTokens tokens({"app", "hunter2"},
                    [&](const std::string& user, const std::string& password,
                        std::chrono::steady_clock::time_point deadline) {
                      if (calls == 0) AwaitWaiters(*self, 7);
                      return refuse(user, password, deadline);
                    });
  self = &tokens;
  for (const auto& answer : GetOnEightThreads(tokens)) {
    EXPECT_TRUE(absl::IsUnauthenticated(answer.status())) << answer.status();
  }
  EXPECT_EQ(calls, 1);
}

TEST(AuthTokensTest, AfterAnotherFailureEachWaiterTriesItself) {
  std::atomic<int> calls{0};
  AuthTokens* self = nullptr;
  AuthTokens tokens({"app", "secret"},
                    [&](const std::string&, const std::string&,
                        std::chrono::steady_clock::time_point)
                        -> absl::StatusOr<std::string> {
                      if (++calls > 1) return std::string("token");
                      AwaitWaiters(*self, 7);
                      return absl::DeadlineExceededError("too slow");
                    });
  self = &tokens;
  int failed = 0;
  for (const auto& answer : GetOnEightThreads(tokens)) {
    if (!answer.ok()) ++failed;
  }
  // Only the first caller sees its own failure; the next gets a token that
  // the rest share.
  EXPECT_EQ(failed, 1);
  EXPECT_EQ(calls.load(), 2);
}

TEST(AuthTokensTest, NewestGenerationCountsEveryTokenMade) {
  int calls = 0;
  AuthTokens tokens({"app", "secret"},
                    [&](const std::string&, const std::string&,
                        std::chrono::steady_clock::time_point) {
                      return absl::StrCat("token-", ++calls);
                    });
  EXPECT_EQ(tokens.newest_generation(), 0u);
  auto first = GetToken(tokens);
  ASSERT_TRUE(first.ok());
  tokens.Invalidate(*first);
  auto second = GetToken(tokens);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(tokens.newest_generation(), second->generation);
  EXPECT_EQ(tokens.newest_generation(), 2u);
}

TEST(AuthTokensTest, StaleTokenAnswersAreRecognised) {
  EXPECT_TRUE(IsStaleToken(absl::UnauthenticatedError(
      "etcd Range at x: etcdserver: invalid auth token")));
  EXPECT_TRUE(IsStaleToken(absl::InvalidArgumentError(
      "etcd Txn at x: etcdserver: revision of auth store is old")));
  EXPECT_FALSE(IsStaleToken(
      absl::PermissionDeniedError("etcd Txn at x: etcdserver: permission denied")));
  EXPECT_TRUE(IsRefusedWatch("etcdserver: permission denied"));
  EXPECT_FALSE(IsRefusedWatch("etcdserver: mvcc: required revision has been compacted"));
}

}  // namespace
}  // namespace etcdisc::internal
