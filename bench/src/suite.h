// Suites: each turns the selected launchers into Google Benchmark entries named
// "<suite>/<launcher>[/<param>:<value>...]" with counters whose names carry their unit.
#pragma once

#include <benchmark/benchmark.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cvb/image/image.h"
#include "cvb/launcher/launcher.h"
#include "sweep_state.h"

namespace cvb::bench {

// One launcher as a suite sees it: a prepared Launcher plus the dimensions that name it.
struct LauncherSlot {
  std::string display_name;  // "crun", "libvirt/kernel:minimal"
  std::unique_ptr<launcher::Launcher> launcher;
};

struct SuiteOptions {
  int repetitions = 10;
  std::chrono::milliseconds ready_timeout{60'000};
  std::map<std::string, std::string> params;  // suite knobs from --param k=v
};

class Suite {
 public:
  virtual ~Suite() = default;
  virtual std::string Name() const = 0;
  virtual std::string Description() const = 0;
  // Registers the suite's benchmarks for these launchers; returns how many measured runs they
  // will make (for progress).
  virtual int Register(std::vector<LauncherSlot>& launchers, const SuiteOptions& options,
                       SweepState& state) = 0;
  // Adaptive sampling: once every planned repetition ran, a suite may ask for another round:
  // it extends the plan of some entries (ResultFile::ExtendPlan on state.results) and registers
  // their new repetitions (RegisterMeasured, adaptive); returns how many runs it registered, 0
  // when its rule is satisfied or its budget spent. The sweep runs rounds until it returns 0.
  virtual int NextRound(std::vector<LauncherSlot>& launchers, const SuiteOptions& options,
                        SweepState& state) {
    (void)launchers;
    (void)options;
    (void)state;
    return 0;
  }
  // After the last repetition, on the suite's result file as Google Benchmark wrote it: what
  // needs the whole run (throughput's ratios to native). An error is reported and the file is
  // kept as it was.
  virtual Result<void> Finish(nlohmann::json& results) {
    (void)results;
    return Ok();
  }
};

// Repetitions of one launcher's entries: `repetitions`, capped for the launchers named in
// --param repetitions_max ("qemu=3,libvirt/kernel:distro=2"; a slot's own name wins over its
// launcher's), so that the slowest instances (TCG guests) do not set the sweep's length while the
// fast ones keep the repetitions their intervals need. Never below 1.
int RepetitionsFor(const LauncherSlot& slot, int repetitions, const SuiteOptions& options);

// The largest N per launcher from "runsc=100,qemu=64,qemu/kernel:distro=32" (density_max_n,
// scaleout_max_n): an entry names the slot ("libvirt/kernel:minimal") or its launcher
// ("libvirt"); the slot's own wins; a launcher not named has no limit (INT_MAX).
class LargestN {
 public:
  explicit LargestN(const std::string& spec);
  int For(const LauncherSlot& slot) const;

 private:
  std::map<std::string, int> max_n_;
};

// The N of a launcher: the sweep's N up to its largest N, and the largest N itself when the sweep
// goes beyond it (N = 1, 10, 100 with a largest N of 64 measures 1, 10, 64): a capped launcher is
// still measured at the scale it is capped at.
std::vector<int> CountsUpTo(const std::vector<int>& counts, int largest);

// All suites by name.
std::map<std::string, std::function<std::unique_ptr<Suite>()>> SuiteFactories();

std::unique_ptr<Suite> MakeStartupSuite();
std::unique_ptr<Suite> MakeDensitySuite();
std::unique_ptr<Suite> MakeScaleoutSuite();
std::unique_ptr<Suite> MakeIsolationSuite();

}  // namespace cvb::bench
