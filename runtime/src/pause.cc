// Runtime::Pause / Resume: the container's freezer (cgroup/freezer.h).
#include "cgroup/freezer.h"
#include "cvb/runtime/container.h"
#include "sys/sys.h"

namespace cvb::runtime {

Result<void> Runtime::Pause(const std::string& id) {
  CVB_ASSIGN_OR_RETURN(State state, store_.Load(id));
  Status status = store_.StatusOf(state);
  if (status != Status::kRunning)
    return Failure("container " + id + " is " + StatusName(status) +
                   ": only a running container can be paused");
  CVB_ASSIGN_OR_RETURN(auto freezer,
                       cgroup::FindFreezer(sys::RealSys(), state.cgroup_leaves, state.cgroup_mode));
  auto frozen = cgroup::Freeze(sys::RealSys(), freezer);
  if (!frozen.ok()) return frozen.error().wrap("container " + id);
  return Ok();
}

Result<void> Runtime::Resume(const std::string& id) {
  CVB_ASSIGN_OR_RETURN(State state, store_.Load(id));
  Status status = store_.StatusOf(state);
  if (status != Status::kPaused)
    return Failure("container " + id + " is " + StatusName(status) +
                   ": only a paused container can be resumed");
  CVB_ASSIGN_OR_RETURN(auto freezer,
                       cgroup::FindFreezer(sys::RealSys(), state.cgroup_leaves, state.cgroup_mode));
  auto thawed = cgroup::Thaw(sys::RealSys(), freezer);
  if (!thawed.ok()) return thawed.error().wrap("container " + id);
  return Ok();
}

}  // namespace cvb::runtime
