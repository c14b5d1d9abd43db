// The sweep runner behind `cvbench run`: validates the request, builds the image, prepares the
// launchers, runs each suite through Google Benchmark and writes <out>/<suite>.json.
#pragma once

#include <string>
#include <vector>

#include "cvb/launcher/launcher.h"
#include "suite.h"

namespace cvb::bench {

struct SweepConfig {
  std::vector<std::string> suites;
  std::vector<std::string> launchers;
  std::vector<std::string> kernels = {"distro"};  // VM kernel profiles
  std::string out_dir;
  SuiteOptions suite_options;
  bool warmup = true;
  // Continue the run recorded in out_dir: its partial suite files get their missing repetitions
  // (same git sha, image, launchers and parameters, or refused naming what differs).
  bool resume = false;
};

// Exit codes: 0 success; 1 a run failed (results are still written); 2 bad request or a launcher
// that cannot work (unknown suite or launcher, image build, Check or Prepare failed), with a
// one-line message on stderr; kExitLauncherUnavailable: a launcher's binary (or emulator) is not
// installed on this host, with a line "cvbench: unavailable-launcher: <name>" on stderr.
constexpr int kExitLauncherUnavailable = 3;
// A suite file could not be written (a full disk): the run stopped, the file keeps every
// repetition recorded before, and the message names the path.
constexpr int kExitResultsUnwritable = 4;
int RunSweep(const SweepConfig& config, launcher::Registry& registry);

// The registry with every built-in launcher family.
launcher::Registry BuiltinRegistry();

}  // namespace cvb::bench
