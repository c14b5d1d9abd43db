#include "cgroup/freezer.h"

#include "cvb/common/file.h"

namespace cvb::runtime::cgroup {
namespace {

// v2: cgroup.events holds "populated 1\nfrozen 0\n".
Result<bool> V2Frozen(sys::Sys& sys, const std::string& dir) {
  CVB_ASSIGN_OR_RETURN(std::string events, sys.ReadFile(dir + "/cgroup.events"));
  for (const auto& line : Split(events, '\n'))
    if (line.rfind("frozen ", 0) == 0) return Trim(line.substr(7)) == "1";
  return Failure("cgroup v2: " + dir + "/cgroup.events has no \"frozen\" line");
}

// Writes the request, then polls until `reached` or the time is up. v1 gets the request again
// on every poll: a task that forked while the cgroup was FREEZING is only caught by a new write.
Result<void> Transition(sys::Sys& sys, const Freezer& f, bool freeze, int timeout_ms) {
  const std::string file = f.dir + (f.v2 ? "/cgroup.freeze" : "/freezer.state");
  const std::string value = f.v2 ? (freeze ? "1" : "0") : (freeze ? "FROZEN" : "THAWED");
  const FreezerState want = freeze ? FreezerState::kFrozen : FreezerState::kThawed;
  for (int waited = 0;; ++waited) {
    if (waited == 0 || !f.v2) {
      auto w = sys.WriteFile(file, value);
      if (!w.ok()) return w.error().wrap(freeze ? "pause" : "resume");
    }
    CVB_ASSIGN_OR_RETURN(FreezerState now, ReadFreezerState(sys, f));
    if (now == want) return Ok();
    if (waited >= timeout_ms) break;
    sys.SleepMs(1);
  }
  if (freeze) (void)sys.WriteFile(file, f.v2 ? "0" : "THAWED");  // never leave it half frozen
  return Failure(std::string(freeze ? "pause" : "resume") + ": " + file + " did not reach " +
                 (freeze ? "frozen" : "thawed") + " within " + std::to_string(timeout_ms) + " ms");
}

}  // namespace

Result<Freezer> FindFreezer(sys::Sys& sys, const std::vector<std::string>& leaves,
                            const std::string& cgroup_mode) {
  const bool v2 = cgroup_mode == "v2";
  const char* file = v2 ? "/cgroup.freeze" : "/freezer.state";
  for (const auto& leaf : leaves)
    if (sys.Exists(leaf + file)) return Freezer{leaf, v2};
  return Failure("no freezer among the container's cgroups (" + std::string(file + 1) +
                 " in none of them; cgroup mode \"" + cgroup_mode + "\")");
}

Result<FreezerState> ReadFreezerState(sys::Sys& sys, const Freezer& f) {
  if (f.v2) {
    CVB_ASSIGN_OR_RETURN(std::string want, sys.ReadFile(f.dir + "/cgroup.freeze"));
    CVB_ASSIGN_OR_RETURN(bool frozen, V2Frozen(sys, f.dir));
    if (Trim(want) == "1") return frozen ? FreezerState::kFrozen : FreezerState::kFreezing;
    // Thawing: the kernel may still report frozen for a moment.
    return frozen ? FreezerState::kFreezing : FreezerState::kThawed;
  }
  CVB_ASSIGN_OR_RETURN(std::string text, sys.ReadFile(f.dir + "/freezer.state"));
  std::string s = Trim(text);
  if (s == "FROZEN") return FreezerState::kFrozen;
  if (s == "FREEZING") return FreezerState::kFreezing;
  if (s == "THAWED") return FreezerState::kThawed;
  return Failure(f.dir + "/freezer.state: unexpected \"" + s + "\"");
}

Result<void> Freeze(sys::Sys& sys, const Freezer& freezer, int timeout_ms) {
  return Transition(sys, freezer, true, timeout_ms);
}

Result<void> Thaw(sys::Sys& sys, const Freezer& freezer, int timeout_ms) {
  return Transition(sys, freezer, false, timeout_ms);
}

void ThawIfFrozen(sys::Sys& sys, const std::vector<std::string>& leaves,
                  const std::string& cgroup_mode) {
  auto freezer = FindFreezer(sys, leaves, cgroup_mode);
  if (!freezer.ok()) return;
  auto state = ReadFreezerState(sys, *freezer);
  if (state.ok() && *state != FreezerState::kThawed) (void)Thaw(sys, *freezer);
}

}  // namespace cvb::runtime::cgroup
