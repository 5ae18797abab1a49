// Aligned text tables for the CLI's human output.
#ifndef ETCDISC_TOOLS_TABLE_H_
#define ETCDISC_TOOLS_TABLE_H_

#include <cstdio>
#include <string>
#include <vector>

namespace etcdisc::cli {

// Columns padded to their widest cell, two spaces apart. Not thread-safe.
class Table {
 public:
  explicit Table(std::vector<std::string> header);
  void AddRow(std::vector<std::string> row);
  void Print(FILE* out) const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace etcdisc::cli

#endif  // ETCDISC_TOOLS_TABLE_H_
