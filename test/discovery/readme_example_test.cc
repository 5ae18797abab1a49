// Runs the README's example against a real etcd and checks what it prints.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "gtest/gtest.h"
#include "support/etcd_test.h"

namespace etcdisc {
namespace {

using ::etcdisc::testing::EtcdTest;

class ReadmeExampleTest : public EtcdTest {};

TEST_F(ReadmeExampleTest, RegistersFindsAndStopsAHost) {
  const std::string command = "ETCD_HOSTS=" + cluster().endpoints() + " " +
                              ETCDISC_README_EXAMPLE_PATH + " 2>&1";
  FILE* out = ::popen(command.c_str(), "r");
  ASSERT_NE(out, nullptr);
  std::string text;
  char buffer[512];
  while (std::fgets(buffer, sizeof(buffer), out) != nullptr) text += buffer;
  const int status = ::pclose(out);
  EXPECT_EQ(status, 0) << text;
  EXPECT_NE(text.find("new host "), std::string::npos) << text;
  EXPECT_NE(text.find("-10.0.0.7\n"), std::string::npos) << text;
  EXPECT_NE(text.find("call http://10.0.0.7:8080/health\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("host down "), std::string::npos) << text;
}

}  // namespace
}  // namespace etcdisc
