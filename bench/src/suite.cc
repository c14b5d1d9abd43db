#include "suite.h"

#include <algorithm>
#include <cstdio>

#include "throughput.h"

namespace cvb::bench {

void SweepState::Progress(const std::string& what) {
  std::fprintf(stderr, "[%d/%d] %s\n", ++done_runs, total_runs, what.c_str());
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
      ->ComputeStatistics("min",
                          [](const std::vector<double>& v) {
                            return *std::min_element(v.begin(), v.end());
                          })
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
