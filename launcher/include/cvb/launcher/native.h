// The baseline: cvb-workload started on the host with posix_spawn, no isolation at all.
#pragma once

#include "cvb/launcher/launcher.h"

namespace cvb::launcher {

Result<std::unique_ptr<Launcher>> MakeNativeLauncher(const LauncherConfig& config);

}  // namespace cvb::launcher
