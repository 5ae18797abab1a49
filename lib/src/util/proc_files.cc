#include "util/proc_files.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_split.h"

namespace etcdisc::internal {

std::string ReadSmallFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<absl::string_view> StatFields(absl::string_view stat) {
  const size_t close = stat.rfind(')');
  if (close == absl::string_view::npos) return {};
  return absl::StrSplit(stat.substr(close + 1), absl::ByAnyChar(" \n"),
                        absl::SkipEmpty());
}

}  // namespace etcdisc::internal
