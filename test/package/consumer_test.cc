// Installs etcdisc into a temporary prefix, builds the examples/consumer
// projects against it (CMake package and pkg-config; etcdisc alone, and
// etcdisc_grpc over it), and runs them against a real etcd.
#include <stdlib.h>

#include <string>

#include "gtest/gtest.h"
#include "support/discovery_test.h"
#include "support/process.h"

namespace etcdisc {
namespace {

using ::etcdisc::testing::DiscoveryTest;
using ::etcdisc::testing::ProcessResult;
using ::etcdisc::testing::RunProcess;
using std::chrono::minutes;

class ConsumerTest : public DiscoveryTest {};

TEST_F(ConsumerTest, ProjectsBuiltAgainstTheInstalledEtcdiscRegisterAndFind) {
  char work_template[] = "/tmp/etcdisc-consumer-XXXXXX";
  ASSERT_NE(::mkdtemp(work_template), nullptr);
  const std::string work = work_template;
  ProcessResult built = RunProcess(
      {ETCDISC_BUILD_CONSUMERS, ETCDISC_BUILD_DIR, ETCDISC_SOURCE_DIR, work},
      {}, minutes(10));
  ASSERT_EQ(built.exit_code, 0) << built.out << built.err;

  for (const std::string name :
       {"cmake-consumer", "pkgconfig-consumer", "cmake-grpc-consumer",
        "pkgconfig-grpc-consumer"}) {
    SCOPED_TRACE(name);
    ProcessResult run = RunProcess({work + "/" + name, name},
                                   {{"ETCD_HOSTS", cluster().endpoints()}});
    EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
    EXPECT_NE(run.out.find("found " + name + " "), std::string::npos)
        << run.out;
    // It stopped its registration: etcd holds no host of it any more.
    auto hosts = discovery().Get(name);
    ASSERT_TRUE(hosts.ok()) << hosts.status();
    EXPECT_FALSE(hosts->All().ok());
  }
  RunProcess({"/bin/rm", "-rf", work});
}

}  // namespace
}  // namespace etcdisc
