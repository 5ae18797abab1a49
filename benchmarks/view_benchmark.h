// The live views' part of the end-to-end benchmark: a change seen by a
// view's OnChange against the raw watch floor, reading a view against a Get,
// and 1,000 views in one process.
#ifndef ETCDISC_BENCHMARKS_VIEW_BENCHMARK_H_
#define ETCDISC_BENCHMARKS_VIEW_BENCHMARK_H_

#include <string>

namespace etcdisc::bench {

// Helper role `view ENDPOINTS SERVICE[,SERVICE...]`: a ServiceView of each
// service on one client, printing "<ns> N <uuid>" and "<ns> D <uuid>" for the
// hosts each OnChange call adds and removes, after
// "READY <watch streams> <keep-alive streams> <watchers> <threads>" once
// every view is ready.
int RoleView(const std::string& endpoints, const std::string& services);

// Appends the views' section to `report`, and writes the CDF data of its
// plot in `out_dir`. Needs the services the Gets and Scale sections wrote:
// get10, get1000 and svc-0 ... svc-999.
// Returns the p50 of a change -> OnChange over the raw watch floor's.
double ViewBenchmarks(const std::string& endpoints, int samples,
                      const std::string& out_dir, std::string* report);

}  // namespace etcdisc::bench

#endif  // ETCDISC_BENCHMARKS_VIEW_BENCHMARK_H_
