#include "util/prometheus_writer.h"

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace etcdisc::internal {
namespace {

// A label value with \\, " and newlines escaped.
std::string Escape(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

// Enough digits for any count, and bounds such as 0.025 written as such.
std::string Number(double v) { return absl::StrFormat("%.15g", v); }

}  // namespace

void PrometheusWriter::Family(const std::string& name, const char* type,
                              const char* help) {
  header_ = absl::StrCat("# HELP etcdisc_", name, " ", help, "\n",
                         "# TYPE etcdisc_", name, " ", type, "\n");
}

void PrometheusWriter::Sample(const std::string& name, const Labels& labels,
                              double value) {
  text_ += header_;
  header_.clear();
  absl::StrAppend(&text_, "etcdisc_", name);
  if (!labels.empty()) {
    text_ += '{';
    for (size_t i = 0; i < labels.size(); ++i) {
      absl::StrAppend(&text_, i ? "," : "", labels[i].first, "=\"",
                      Escape(labels[i].second), "\"");
    }
    text_ += '}';
  }
  absl::StrAppend(&text_, " ", Number(value), "\n");
}

void PrometheusWriter::Histogram(const std::string& name, const Labels& labels,
                                 const HistogramSnapshot& h) {
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= h.bounds.size(); ++i) {
    if (i < h.counts.size()) cumulative += h.counts[i];
    Labels with_le = labels;
    with_le.emplace_back("le", i < h.bounds.size() ? Number(h.bounds[i])
                                                   : std::string("+Inf"));
    Sample(name + "_bucket", with_le, static_cast<double>(cumulative));
  }
  Sample(name + "_sum", labels, h.sum);
  Sample(name + "_count", labels, static_cast<double>(cumulative));
}

}  // namespace etcdisc::internal
