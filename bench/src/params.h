// Every --param `cvbench run` accepts: the suites' knobs (here) with the launchers' and the VM
// launchers' (their own layers declare them), checked before anything starts.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "cvb/launcher/params.h"

namespace cvb::bench {

// The knobs the suites and the sweep read.
std::vector<launcher::ParamSpec> SuiteParams();
// SuiteParams + launcher::ProcessLauncherParams + vmdriver::VmParams.
std::vector<launcher::ParamSpec> AllParams();
// Refuses an unknown key or a bad value, naming the key.
Result<void> CheckRunParams(const std::map<std::string, std::string>& params);

}  // namespace cvb::bench
