// The fixture of the etcdisc CLI's end-to-end tests: the binary run against
// the test's etcd.
#ifndef ETCDISC_TEST_TOOLS_CLI_FIXTURE_H_
#define ETCDISC_TEST_TOOLS_CLI_FIXTURE_H_

#include <map>
#include <string>
#include <vector>

#include "discovery/json.h"
#include "gtest/gtest.h"
#include "support/discovery_test.h"
#include "support/process.h"
#include "support/text.h"

namespace etcdisc::testing {

inline std::string Field(const internal::JsonValue& object,
                         const std::string& name) {
  const internal::JsonValue* v = object.Find(name);
  return v == nullptr ? "<absent>" : v->text;
}

class CliTest : public DiscoveryTest {
 protected:
  std::vector<std::string> Cli(std::vector<std::string> args) {
    args.insert(args.begin(), ETCDISC_CLI_PATH);
    return args;
  }
  // Runs the CLI with ETCD_HOSTS pointing at the test's etcd.
  ProcessResult Run(std::vector<std::string> args) {
    return RunProcess(Cli(std::move(args)), Env());
  }
  std::map<std::string, std::string> Env() {
    return {{"ETCD_HOSTS", cluster().endpoints()}};
  }
  internal::JsonValue ParseOrFail(const std::string& text) {
    auto parsed = internal::ParseJson(text);
    EXPECT_TRUE(parsed.ok()) << parsed.status() << " in: " << text;
    return parsed.ok() ? *parsed : internal::JsonValue{};
  }
};

}  // namespace etcdisc::testing

#endif  // ETCDISC_TEST_TOOLS_CLI_FIXTURE_H_
