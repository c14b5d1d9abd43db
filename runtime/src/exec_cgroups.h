// Where `cvrun exec` puts its joining process: every cgroup directory the container's init was
// placed in (state.cgroup_leaves: one per v1 hierarchy, plus the cgroup2 one), through sys::Sys
// so that the plan is unit-tested with FakeSys.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "cvb/common/result.h"
#include "sys/sys.h"

namespace cvb::runtime {

// Writes pid into <leaf>/cgroup.procs of every leaf, in order; the first failure is returned,
// naming the directory.
Result<void> JoinCgroups(sys::Sys& sys, const std::vector<std::string>& leaves, pid_t pid);

}  // namespace cvb::runtime
