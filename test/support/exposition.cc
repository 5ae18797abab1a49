#include "support/exposition.h"

#include <map>
#include <set>
#include <cstdlib>
#include <sstream>

namespace etcdisc::testing {
namespace {

// A sample's family: its name, less a histogram's suffix when only the
// shorter name is a family.
std::string FamilyOf(std::string name,
                     const std::map<std::string, std::string>& types) {
  for (const std::string suffix : {"_bucket", "_sum", "_count"}) {
    if (!types.count(name) && name.size() > suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      name.resize(name.size() - suffix.size());
    }
  }
  return name;
}

bool IsNumber(const std::string& text) {
  if (text == "+Inf" || text == "-Inf" || text == "NaN") return true;
  char* end = nullptr;
  std::strtod(text.c_str(), &end);
  return !text.empty() && end == text.c_str() + text.size();
}

}  // namespace

::testing::AssertionResult IsExposition(const std::string& text,
                                        int* samples) {
  std::istringstream lines(text);
  std::map<std::string, std::string> types;  // Family -> TYPE.
  std::set<std::string> series;              // Name and labels.
  std::string line, last_help, family_now;
  int count = 0;
  auto bad = [&](const char* why) {
    return ::testing::AssertionFailure() << why << ": \"" << line << "\"";
  };
  while (std::getline(lines, line)) {
    if (line.empty()) return bad("an empty line");
    if (line.rfind("# HELP ", 0) == 0) {
      last_help = line.substr(7, line.find(' ', 7) - 7);
      continue;
    }
    if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream fields(line.substr(7));
      std::string name, type;
      fields >> name >> type;
      if (name != last_help) return bad("TYPE without its HELP");
      if (type != "gauge" && type != "counter" && type != "histogram") {
        return bad("an unknown type");
      }
      if (!types.emplace(name, type).second) return bad("a family typed twice");
      family_now = name;
      continue;
    }
    if (line[0] == '#') return bad("a comment of another kind");
    ++count;
    const size_t space = line.rfind(' ');
    if (space == std::string::npos) return bad("a sample without a value");
    if (!series.insert(line.substr(0, space)).second) {
      return bad("a series twice");
    }
    const std::string family =
        FamilyOf(line.substr(0, line.find_first_of("{ ")), types);
    if (!types.count(family)) return bad("a sample of no family");
    if (family != family_now) return bad("a sample outside its family");
    const size_t open = line.find('{');
    if (open != std::string::npos && open < space &&
        line[space - 1] != '}') {
      return bad("labels not closed before the value");
    }
    if (!IsNumber(line.substr(space + 1))) return bad("a value not a number");
  }
  if (samples != nullptr) *samples = count;
  return ::testing::AssertionSuccess();
}

}  // namespace etcdisc::testing
