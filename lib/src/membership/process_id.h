// Names a process so that another process can later tell whether it still
// runs: by kernel boot, PID namespace, PID and start time.
#ifndef ETCDISC_MEMBERSHIP_PROCESS_ID_H_
#define ETCDISC_MEMBERSHIP_PROCESS_ID_H_

#include <string>

#include "absl/strings/string_view.h"

namespace etcdisc::internal {

// "<boot id>:<PID namespace>:<PID>:<start time in clock ticks>" of this
// process; empty parts where /proc does not tell (then no other process can
// judge it: see JudgeProcess).
std::string ThisProcessId();

enum class ProcessState {
  kRunning,    // On this machine, in this PID namespace, still running.
  kGone,       // On this machine, in this PID namespace, and no longer
               // running (its PID is free, taken by a later process, or a
               // zombie's).
  kElsewhere,  // Another machine, boot or namespace, or not judged (a
               // process this user may not see).
};

// Judges the process `id` (from ThisProcessId) from here.
ProcessState JudgeProcess(absl::string_view id);

// The PID in `id`, or 0.
int ProcessIdPid(absl::string_view id);

}  // namespace etcdisc::internal

#endif  // ETCDISC_MEMBERSHIP_PROCESS_ID_H_
