// Checks text in Prometheus' exposition format (0.0.4) line by line.
#ifndef ETCDISC_TEST_SUPPORT_EXPOSITION_H_
#define ETCDISC_TEST_SUPPORT_EXPOSITION_H_

#include <string>

#include "gtest/gtest.h"

namespace etcdisc::testing {

// Every line is a # HELP, a # TYPE (gauge, counter or histogram) following
// the HELP of its family, or a sample of the family last typed (histograms'
// _bucket/_sum/_count included) with a value that parses as a number; no
// family is typed twice and no series (name and labels) repeats. `samples`,
// if given, gets the number of sample lines.
::testing::AssertionResult IsExposition(const std::string& text,
                                        int* samples = nullptr);

}  // namespace etcdisc::testing

#endif  // ETCDISC_TEST_SUPPORT_EXPOSITION_H_
