// Cluster membership's part of the end-to-end benchmark: a member killed
// -9 and seen down by another (and its cleanup run), and Join's latency.
#ifndef ETCDISC_BENCHMARKS_MEMBERSHIP_BENCHMARK_H_
#define ETCDISC_BENCHMARKS_MEMBERSHIP_BENCHMARK_H_

#include <string>

namespace etcdisc::bench {

// Helper role `member ENDPOINTS CLUSTER NODE TTL_MS`: joins as NODE, prints
// "READY <revision>", and holds the membership until killed. As an
// observer (NODE "observer"), it also prints "<ns> U <node>@<revision>" and
// "<ns> D <node>@<revision>" for its view's ups and downs, and
// "<ns> C <node>@<revision>" when its OnNodeDown callback runs.
int RoleMember(const std::string& endpoints, const std::string& cluster,
               const std::string& node, int ttl_ms);

// Appends the membership section to `report` and writes the CDF data of
// its plot in `out_dir`.
void MembershipBenchmarks(const std::string& endpoints, int kills,
                          int samples, const std::string& out_dir,
                          std::string* report);

}  // namespace etcdisc::bench

#endif  // ETCDISC_BENCHMARKS_MEMBERSHIP_BENCHMARK_H_
