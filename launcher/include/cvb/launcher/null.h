// The harness's own cost, measured: a launcher that starts nothing. Its instance records the same
// timeline marks as native's (launch, create, first_line, ready, exit, teardown_ms) at once, so a
// startup entry of `null` is what the harness's bookkeeping (virtual calls, allocations, clock
// reads, timeline marks) adds to every launch figure. scripts/check-regression divides it by
// native's launch-to-exit, the smallest startup figure, and fails above 1%.
#pragma once

#include "cvb/launcher/launcher.h"

namespace cvb::launcher {

Result<std::unique_ptr<Launcher>> MakeNullLauncher(const LauncherConfig& config);

}  // namespace cvb::launcher
