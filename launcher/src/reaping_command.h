// Helper programs (OCI runtimes, podman) that the launchers run to completion while their
// containers' processes are re-parented to us: what is shared by the OCI and podman launchers.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "cvb/common/result.h"
#include "cvb/common/subprocess.h"

namespace cvb::launcher {

// Spawns argv with options and waits for it to exit, reaping the orphans re-parented to us
// meanwhile: runtimes' helpers (runsc's sandbox and gofer) exit while `delete` or `kill` runs and
// runsc waits for them to vanish, which zombies never do; podman leaves conmon's intermediate
// processes and `podman container cleanup` exit commands. Kills the command after timeout
// (ETIMEDOUT naming the command). Its exit status is returned as it is: judging it is the
// caller's business.
Result<ExitStatus> RunReapingOrphans(const std::vector<std::string>& argv,
                                     const SpawnOptions& options,
                                     std::chrono::milliseconds timeout);

}  // namespace cvb::launcher
