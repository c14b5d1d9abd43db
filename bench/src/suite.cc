#include "suite.h"

#include <algorithm>
#include <cstdio>

#include "cvb/common/clock.h"
#include "throughput.h"

namespace cvb::bench {

namespace {
std::string Duration(int64_t ns) {
  int64_t s = ns / 1'000'000'000;
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", long(s / 3600), long(s % 3600 / 60));
  else
    std::snprintf(buf, sizeof buf, "%ldm%02lds", long(s / 60), long(s % 60));
  return buf;
}
}  // namespace

void SweepState::Progress(const std::string& what) {
  int64_t now = MonotonicNs();
  if (done_runs == 0 || suite_start_ns == 0) suite_start_ns = now;
  ++done_runs;
  // The time left, from the mean time of the runs done so far: entries differ (N = 1000 vs 1),
  // so it is a rough guide that gets better as the suite goes.
  std::string eta;
  if (done_runs > 1) {
    int64_t per = (now - suite_start_ns) / (done_runs - 1);
    eta = " (" + Duration(now - suite_start_ns) + " so far, about " +
          Duration(per * (total_runs - done_runs + 1)) + " left)";
  }
  std::fprintf(stderr, "[%d/%d] %s%s\n", done_runs, total_runs, what.c_str(), eta.c_str());
}

void SweepState::Fail(benchmark::State& state, const std::string& message) {
  ++failures;
  std::fprintf(stderr, "cvbench: %s\n", message.c_str());
  state.SkipWithError(message.c_str());
}

benchmark::internal::Benchmark* Measured(benchmark::internal::Benchmark* entry, int repetitions,
                                         benchmark::TimeUnit unit) {
  return entry->UseManualTime()
      ->Unit(unit)
      ->Iterations(1)
      ->Repetitions(repetitions)
      ->ComputeStatistics(
          "min", [](const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); })
      ->ComputeStatistics("max", [](const std::vector<double>& v) {
        return *std::max_element(v.begin(), v.end());
      });
}

std::map<std::string, std::function<std::unique_ptr<Suite>()>> SuiteFactories() {
  return {
      {"startup", MakeStartupSuite},
      {"density", MakeDensitySuite},
      {"scaleout", MakeScaleoutSuite},
      {"throughput", MakeThroughputSuite},
      {"isolation", MakeIsolationSuite},
  };
}

}  // namespace cvb::bench
