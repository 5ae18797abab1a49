// The etcdisc CLI's commands. Each takes the positional arguments left after
// flag parsing (argv[0] is the command) and returns the exit code.
#ifndef ETCDISC_TOOLS_COMMANDS_H_
#define ETCDISC_TOOLS_COMMANDS_H_

#include <string>
#include <vector>

#include "etcdisc/client.h"

namespace etcdisc::cli {

struct Command {
  const char* name;
  const char* synopsis;     // One line for `etcdisc --help`.
  const char* usage;        // Arguments, for `etcdisc COMMAND --help`.
  std::vector<std::string> flags;  // Its own flags, beside the common ones.
  const char* examples;     // Command lines with what they do, for --help.
  int (*run)(const std::vector<std::string>& args);
};

int RunRegister(const std::vector<std::string>& args);
int RunGet(const std::vector<std::string>& args);
int RunWatch(const std::vector<std::string>& args);
// watch --snapshot: prints (or --exec's) the whole host list on each change.
int RunWatchSnapshot(Client& client, const std::string& service);
int RunServices(const std::vector<std::string>& args);
int RunWait(const std::vector<std::string>& args);
int RunRun(const std::vector<std::string>& args);
int RunCluster(const std::vector<std::string>& args);
int RunFleet(const std::vector<std::string>& args);
int RunPick(const std::vector<std::string>& args);

const std::vector<Command>& Commands();

}  // namespace etcdisc::cli

#endif  // ETCDISC_TOOLS_COMMANDS_H_
