// Writes Prometheus' text exposition format (0.0.4): metric families with
// their # HELP and # TYPE lines, samples with escaped labels, histograms.
// Every name gets the prefix etcdisc_.
#ifndef ETCDISC_UTIL_PROMETHEUS_WRITER_H_
#define ETCDISC_UTIL_PROMETHEUS_WRITER_H_

#include <string>
#include <utility>
#include <vector>

#include "etcdisc/metrics.h"

namespace etcdisc::internal {

using Labels = std::vector<std::pair<std::string, std::string>>;

// Not thread-safe: one writer per text.
class PrometheusWriter {
 public:
  // Starts a metric family; its # HELP and # TYPE lines are written with its
  // first sample, so that a family without samples leaves no trace.
  void Family(const std::string& name, const char* type, const char* help);
  void Sample(const std::string& name, const Labels& labels, double value);
  // A histogram's _bucket (cumulative, with le), _sum and _count samples.
  void Histogram(const std::string& name, const Labels& labels,
                 const HistogramSnapshot& h);
  std::string Take() { return std::move(text_); }

 private:
  std::string text_;
  std::string header_;  // Of the family started, until its first sample.
};

}  // namespace etcdisc::internal

#endif  // ETCDISC_UTIL_PROMETHEUS_WRITER_H_
