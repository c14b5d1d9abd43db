// Runtime::Update: new limits for a live container, written into the cgroups it already has
// (cgroup::Manager::Update) and recorded in its state.
#include <nlohmann/json.hpp>

#include "cgroup/manager.h"
#include "cvb/runtime/container.h"
#include "sys/sys.h"

namespace cvb::runtime {

Result<void> Runtime::Update(const std::string& id, const std::string& resources_json) {
  CVB_ASSIGN_OR_RETURN(State state, store_.Load(id));
  Status status = store_.StatusOf(state);
  if (status == Status::kStopped || status == Status::kCreating)
    return Failure("container " + id + " is " + StatusName(status) +
                   ": only a created, running or paused container can be updated");
  CVB_ASSIGN_OR_RETURN(Resources resources, ParseResourcesJson(resources_json));
  CVB_ASSIGN_OR_RETURN(cgroup::Host host, cgroup::DetectHost(sys::RealSys()));
  CVB_ASSIGN_OR_RETURN(auto manager,
                       cgroup::OpenManager(sys::RealSys(), host, state.cgroup_leaves));
  auto applied = manager->Update(resources);
  if (!applied.ok()) return applied.error().wrap("update container " + id);
  nlohmann::json merged = state.resources_update.empty()
                              ? nlohmann::json::object()
                              : nlohmann::json::parse(state.resources_update, nullptr, false);
  if (!merged.is_object()) merged = nlohmann::json::object();
  merged.merge_patch(nlohmann::json::parse(resources_json));
  state.resources_update = merged.dump();
  return store_.Save(state);
}

}  // namespace cvb::runtime
