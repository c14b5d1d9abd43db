// Timeline: host-side timestamps of an instance's phases. Every mark is CLOCK_MONOTONIC ns; the
// first mark is "launch" (the start call). Counters are "<mark>_ms" since launch, plus durations
// (for example "teardown_ms") and figures the launcher reports from elsewhere (a runtime's own
// phase log, a VM's boot steps).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cvb::launcher {

class Timeline {
 public:
  // Marks a phase end now (or at ns). The first mark should be "launch".
  void Mark(const std::string& name);
  void MarkAt(const std::string& name, int64_t mono_ns);
  // A duration or figure that is not a point on the launch timeline, in milliseconds.
  void SetExtra(const std::string& name_ms, double value) { extras_[name_ms] = value; }

  std::optional<int64_t> At(const std::string& name) const;
  // Milliseconds from "launch" to the mark, if both exist.
  std::optional<double> SinceLaunchMs(const std::string& name) const;
  const std::vector<std::pair<std::string, int64_t>>& marks() const { return marks_; }
  const std::map<std::string, double>& extras() const { return extras_; }
  // {"<mark>_ms": since launch} for every mark but launch, then the extras.
  std::map<std::string, double> Counters() const;

 private:
  std::vector<std::pair<std::string, int64_t>> marks_;
  std::map<std::string, double> extras_;
};

}  // namespace cvb::launcher
