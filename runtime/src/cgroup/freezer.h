// Pausing a container: the cgroup freezer. v1 (and hybrid hosts, whose controllers are v1): the
// freezer hierarchy's freezer.state, written FROZEN / THAWED and read back until the kernel reports
// the new state (FREEZING means some task has not stopped yet). v2: cgroup.freeze, written 1 / 0,
// and cgroup.events' "frozen" line read back until it agrees.
// File access goes through sys::Sys so that the protocol is unit-tested with FakeSys.
#pragma once

#include <string>
#include <vector>

#include "cvb/common/result.h"
#include "sys/sys.h"

namespace cvb::runtime::cgroup {

enum class FreezerState { kThawed, kFreezing, kFrozen };

struct Freezer {
  std::string dir;  // the cgroup directory holding freezer.state or cgroup.freeze
  bool v2 = false;
};

// The container's freezer among its leaf directories (state.json's cgroup_leaves). cgroup_mode is
// the state's "v1", "v2" or "hybrid"; hybrid hosts use the v1 freezer. Fails, naming the mode,
// when no leaf has one (a container created before cvrun joined the freezer hierarchy).
Result<Freezer> FindFreezer(sys::Sys& sys, const std::vector<std::string>& leaves,
                            const std::string& cgroup_mode);

Result<FreezerState> ReadFreezerState(sys::Sys& sys, const Freezer& freezer);

// Asks for the state and waits (polling every millisecond, up to timeout_ms) until the kernel
// reports it. A freeze that does not complete in time is undone (thawed) and fails.
Result<void> Freeze(sys::Sys& sys, const Freezer& freezer, int timeout_ms = 5000);
Result<void> Thaw(sys::Sys& sys, const Freezer& freezer, int timeout_ms = 5000);

// After a SIGKILL to a paused container: thaws its freezer, if it has one and it is not thawed,
// so that the frozen tasks run into the signal and die. Best effort (kill and delete go on).
void ThawIfFrozen(sys::Sys& sys, const std::vector<std::string>& leaves,
                  const std::string& cgroup_mode);

}  // namespace cvb::runtime::cgroup
