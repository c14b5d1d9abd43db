#include "suite.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "cvb/common/clock.h"
#include "cvb/common/file.h"
#include "throughput.h"

namespace cvb::bench {

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
