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

TEST(AuthTokensTest, ManyThreadsShareOneAuthenticate) {
  std::atomic<int> calls{0};
  AuthTokens tokens({"app", "secret"},
                    [&](const std::string& user, const std::string& password,
                        std::chrono::steady_clock::time_point) {
                      EXPECT_EQ(user, "app");
                      EXPECT_EQ(password, "secret");
                      // Long enough for the other threads to arrive and wait.
                      std::this_thread::sleep_for(std::chrono::milliseconds(50));
                      return absl::StrCat("token-", ++calls);
                    });
  std::vector<std::thread> threads;
  std::atomic<int> got_first{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auto token = GetToken(tokens);
      if (token.ok() && token->value == "token-1") ++got_first;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(got_first.load(), 8);
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

TEST(AuthTokensTest, AWrongPasswordNamesTheUserOnly) {
  AuthTokens tokens({"app", "hunter2"},
                    [](const std::string&, const std::string&,
                       std::chrono::steady_clock::time_point)
                        -> absl::StatusOr<std::string> {
                      return absl::InvalidArgumentError(
                          "etcd Authenticate at http://h:2379: etcdserver: "
                          "authentication failed, invalid user ID or password");
                    });
  auto token = GetToken(tokens);
  EXPECT_TRUE(absl::IsUnauthenticated(token.status())) << token.status();
  EXPECT_NE(token.status().message().find("\"app\""), absl::string_view::npos);
  EXPECT_EQ(token.status().message().find("hunter2"), absl::string_view::npos);
  EXPECT_FALSE(tokens.Cached().has_value());
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
