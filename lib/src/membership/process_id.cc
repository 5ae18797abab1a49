#include "membership/process_id.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include <fstream>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "util/proc_files.h"

namespace etcdisc::internal {
namespace {

std::string FirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return std::string(absl::StripAsciiWhitespace(line));
}

std::string BootId() { return FirstLine("/proc/sys/kernel/random/boot_id"); }

// The inode of the PID namespace: "pid:[4026531836]" -> "4026531836".
std::string PidNamespace() {
  char buf[64];
  const ssize_t n = readlink("/proc/self/ns/pid", buf, sizeof(buf) - 1);
  if (n <= 0) return "";
  absl::string_view link(buf, static_cast<size_t>(n));
  if (!absl::ConsumePrefix(&link, "pid:[") ||
      !absl::ConsumeSuffix(&link, "]")) {
    return "";
  }
  return std::string(link);
}

// Field 22 of /proc/<pid>/stat (start time after boot, in clock ticks), or
// "ended" for a zombie not yet reaped by its parent; empty when the file
// cannot be read (no such process, or /proc hides it from this user).
std::string StartTime(const std::string& pid) {
  const std::string stat = ReadSmallFile(absl::StrCat("/proc/", pid, "/stat"));
  std::vector<absl::string_view> fields = StatFields(stat);
  if (fields.size() <= 22 - 3) return "";
  if (fields[0] == "Z" || fields[0] == "X") return "ended";
  return std::string(fields[22 - 3]);
}

struct Parts {
  std::string boot, pid_namespace, pid, start;
};

bool Split(absl::string_view id, Parts* out) {
  std::vector<std::string> parts = absl::StrSplit(id, ':');
  if (parts.size() != 4) return false;
  *out = Parts{parts[0], parts[1], parts[2], parts[3]};
  return true;
}

}  // namespace

std::string ThisProcessId() {
  const std::string pid = absl::StrCat(getpid());
  return absl::StrCat(BootId(), ":", PidNamespace(), ":", pid, ":",
                      StartTime(pid));
}

ProcessState JudgeProcess(absl::string_view id) {
  Parts theirs;
  int pid = 0;
  if (!Split(id, &theirs) || theirs.boot.empty() ||
      theirs.pid_namespace.empty() || theirs.start.empty() ||
      !absl::SimpleAtoi(theirs.pid, &pid) || pid <= 0) {
    return ProcessState::kElsewhere;
  }
  if (theirs.boot != BootId() || theirs.pid_namespace != PidNamespace()) {
    return ProcessState::kElsewhere;
  }
  // Gone only when the kernel says so: no such PID, or the PID now names a
  // process started at another time, or a zombie. A process this user may
  // not see (EPERM, a /proc mounted with hidepid) is not judged.
  if (::kill(pid, 0) != 0 && errno == ESRCH) return ProcessState::kGone;
  const std::string start = StartTime(theirs.pid);
  if (start.empty()) return ProcessState::kElsewhere;
  return start == theirs.start ? ProcessState::kRunning : ProcessState::kGone;
}

int ProcessIdPid(absl::string_view id) {
  Parts parts;
  int pid = 0;
  if (!Split(id, &parts) || !absl::SimpleAtoi(parts.pid, &pid)) return 0;
  return pid;
}

}  // namespace etcdisc::internal
