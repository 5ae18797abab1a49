// Reading Linux's /proc: small files whole, and the fields of a
// /proc/<pid>/stat line.
#ifndef ETCDISC_UTIL_PROC_FILES_H_
#define ETCDISC_UTIL_PROC_FILES_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace etcdisc::internal {

// The whole of a small file; empty when it cannot be read.
std::string ReadSmallFile(const std::string& path);

// The fields of a /proc/<pid>/stat line from field 3 (the state) on: the
// command name (field 2) is in parentheses and may hold anything, so they
// start after the last ')'. Empty when there is none. stat(5)'s field N is
// element N - 3; the views point into `stat`.
std::vector<absl::string_view> StatFields(absl::string_view stat);

}  // namespace etcdisc::internal

#endif  // ETCDISC_UTIL_PROC_FILES_H_
