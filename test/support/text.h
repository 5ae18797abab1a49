// Small checks on text that many tests make.
#ifndef ETCDISC_TEST_SUPPORT_TEXT_H_
#define ETCDISC_TEST_SUPPORT_TEXT_H_

#include "absl/strings/string_view.h"

namespace etcdisc::testing {

// Whether `part` occurs in `text`.
inline bool Contains(absl::string_view text, absl::string_view part) {
  return text.find(part) != absl::string_view::npos;
}

}  // namespace etcdisc::testing

#endif  // ETCDISC_TEST_SUPPORT_TEXT_H_
