// Member records and process identities, without etcd.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "membership/member_record.h"
#include "membership/process_id.h"

namespace etcdisc::internal {
namespace {

constexpr char kPrefix[] = "/p/clusters/chat/nodes/";

KeyValue At(const std::string& node, const std::string& value) {
  KeyValue kv;
  kv.key = kPrefix + node;
  kv.value = value;
  kv.create_revision = 7;
  kv.mod_revision = 9;
  return kv;
}

TEST(MemberRecordTest, ARecordReadsBackAsWritten) {
  MemberRecord record;
  record.member.node = "ignored: the key names the node";
  record.member.hostname = "web-1";
  record.member.since = std::chrono::system_clock::time_point(
      std::chrono::milliseconds(1764460800123));
  record.member.meta = {{"zone", "eu \"1\""}, {"port", "3000"}};
  record.process = "boot:1:2:3";
  const std::string json = EncodeMember(record);
  EXPECT_NE(json.find(R"("since":"2025-11-30T00:00:00.123Z")"),
            std::string::npos)
      << json;
  auto back = MemberFromKeyValue(kPrefix, At("node1", json));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->member.node, "node1");
  EXPECT_EQ(back->member.revision, 7);
  EXPECT_EQ(back->member.hostname, "web-1");
  EXPECT_EQ(back->member.since, record.member.since);
  EXPECT_EQ(back->member.meta, record.member.meta);
  EXPECT_EQ(back->process, "boot:1:2:3");
}

TEST(MemberRecordTest, UnknownAndMissingFieldsAreTolerated) {
  auto back = MemberFromKeyValue(kPrefix, At("n", R"({"future":[1,2]})"));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->member.node, "n");
  EXPECT_TRUE(back->member.meta.empty());
  EXPECT_TRUE(back->process.empty());
}

TEST(MemberRecordTest, MalformedRecordsAreRefusedNamingTheKey) {
  for (const std::string& value :
       {std::string("{not json"), std::string("[]"),
        std::string(R"({"meta":"x"})"), std::string(R"({"meta":{"k":1}})"),
        std::string(R"({"hostname":3})"), std::string(R"({"since":"yesterday"})")}) {
    auto back = MemberFromKeyValue(kPrefix, At("n", value));
    ASSERT_FALSE(back.ok()) << value;
    EXPECT_NE(back.status().message().find(std::string(kPrefix) + "n"),
              std::string::npos)
        << back.status();
  }
  KeyValue deeper = At("n/extra", "{}");
  EXPECT_FALSE(MemberFromKeyValue(kPrefix, deeper).ok());
  KeyValue elsewhere = At("n", "{}");
  elsewhere.key = "/other/n";
  EXPECT_FALSE(MemberFromKeyValue(kPrefix, elsewhere).ok());
}

TEST(MemberRecordTest, MetaAndClusterNamesAreChecked) {
  EXPECT_TRUE(ValidateMeta({{"k", "v"}}).ok());
  EXPECT_FALSE(ValidateMeta({{"", "v"}}).ok());
  EXPECT_FALSE(ValidateMeta({{std::string(65, 'k'), "v"}}).ok());
  EXPECT_FALSE(ValidateMeta({{"k", std::string(5000, 'v')}}).ok());
  EXPECT_EQ(*ClusterName(""), "default");
  EXPECT_EQ(*ClusterName("chat"), "chat");
  EXPECT_FALSE(ClusterName("a/b").ok());
}

TEST(ProcessIdTest, ThisProcessIsRunningAndAnEndedOneIsGone) {
  const std::string self = ThisProcessId();
  EXPECT_EQ(JudgeProcess(self), ProcessState::kRunning) << self;
  EXPECT_EQ(ProcessIdPid(self), getpid());

  // A child's id, taken by the child itself, judged after it ended.
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const std::string id = ThisProcessId();
    (void)!write(pipe_fds[1], id.data(), id.size());
    _exit(0);
  }
  close(pipe_fds[1]);
  char buf[256];
  const ssize_t n = read(pipe_fds[0], buf, sizeof(buf));
  close(pipe_fds[0]);
  ASSERT_GT(n, 0);
  const std::string theirs(buf, static_cast<size_t>(n));
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_EQ(JudgeProcess(theirs), ProcessState::kGone) << theirs;
}

TEST(ProcessIdTest, IdsFromElsewhereOrUnreadableAreNotJudged) {
  const std::string self = ThisProcessId();
  const std::string other_boot =
      "00000000-0000-0000-0000-000000000000" + self.substr(self.find(':'));
  EXPECT_EQ(JudgeProcess(other_boot), ProcessState::kElsewhere);
  EXPECT_EQ(JudgeProcess(""), ProcessState::kElsewhere);
  EXPECT_EQ(JudgeProcess("a:b:c"), ProcessState::kElsewhere);
  EXPECT_EQ(JudgeProcess("a:b:-1:4"), ProcessState::kElsewhere);
}

}  // namespace
}  // namespace etcdisc::internal
