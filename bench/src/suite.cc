#include "suite.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "cvb/common/clock.h"
#include "cvb/common/file.h"
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

LargestN::LargestN(const std::string& spec) {
  for (const auto& item : Split(spec, ',')) {
    size_t eq = item.find('=');
    if (eq != std::string::npos)
      max_n_[Trim(item.substr(0, eq))] = std::atoi(item.c_str() + eq + 1);
  }
}

int LargestN::For(const LauncherSlot& slot) const {
  if (auto it = max_n_.find(slot.display_name); it != max_n_.end()) return it->second;
  if (auto it = max_n_.find(slot.launcher->Name()); it != max_n_.end()) return it->second;
  return std::numeric_limits<int>::max();
}

std::vector<int> CountsUpTo(const std::vector<int>& counts, int largest) {
  std::vector<int> out;
  bool beyond = false;
  for (int n : counts) {
    if (n <= largest)
      out.push_back(n);
    else
      beyond = true;
  }
  if (beyond && std::find(out.begin(), out.end(), largest) == out.end()) out.push_back(largest);
  std::sort(out.begin(), out.end());
  return out;
}

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

int RepetitionsFor(const LauncherSlot& slot, int repetitions, const SuiteOptions& options) {
  auto it = options.params.find("repetitions_max");
  if (it == options.params.end()) return std::max(1, repetitions);
  std::map<std::string, int> caps;
  for (const auto& item : Split(it->second, ',')) {
    size_t eq = item.find('=');
    if (eq != std::string::npos) caps[Trim(item.substr(0, eq))] = std::atoi(item.c_str() + eq + 1);
  }
  int cap = repetitions;
  if (auto by_slot = caps.find(slot.display_name); by_slot != caps.end())
    cap = by_slot->second;
  else if (auto by_launcher = caps.find(slot.launcher->Name()); by_launcher != caps.end())
    cap = by_launcher->second;
  return std::max(1, std::min(repetitions, cap));
}

std::map<std::string, std::function<std::unique_ptr<Suite>()>> SuiteFactories() {
  return {
      {"startup", MakeStartupSuite},     {"density", MakeDensitySuite},
      {"scaleout", MakeScaleoutSuite},   {"throughput", MakeThroughputSuite},
      {"isolation", MakeIsolationSuite},
  };
}

}  // namespace cvb::bench
