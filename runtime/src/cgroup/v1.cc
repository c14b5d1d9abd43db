// cgroup v1: one directory per hierarchy the container needs.
#include <cerrno>

#include "cgroup/manager.h"
#include "cvb/common/file.h"

namespace cvb::runtime::cgroup {
namespace {

std::string IntString(int64_t v) { return std::to_string(v); }

class V1 : public Manager {
 public:
  V1(sys::Sys& sys, const Host& host, std::string cgroups_path)
      : sys_(sys), host_(host), cgroups_path_(std::move(cgroups_path)) {}

  Result<void> Create(const Resources& res) override {
    // memory and pids always (accounting, ps, kill); cpu and cpuset only when asked for, since
    // every hierarchy joined costs a mkdir and a write on the start path.
    std::vector<std::pair<std::string, bool>> wanted = {{"memory", false}, {"pids", false}};
    if (res.memory) wanted[0].second = true;
    if (res.pids_limit) wanted[1].second = true;
    bool cpu = res.cpu && (res.cpu->shares || res.cpu->quota || res.cpu->period);
    bool cpuset = res.cpu && (!res.cpu->cpus.empty() || !res.cpu->mems.empty());
    if (cpu) wanted.push_back({"cpu", true});
    if (cpuset) wanted.push_back({"cpuset", true});
    if (!res.unified.empty())
      return Failure("linux.resources.unified: needs cgroup v2, this host is v1");
    for (const auto& [controller, required] : wanted) {
      const V1Hierarchy* h = host_.FindV1(controller);
      if (!h) {
        if (required) return Failure("cgroup: v1 controller " + controller + " is not mounted");
        continue;
      }
      std::string path = ResolvePath(h->mount, h->root, h->self, cgroups_path_);
      dirs_[controller] = path;
      bool is_cpuset = controller == "cpuset";
      CVB_TRY(MakePath(sys_, h->mount, path, [&](const std::string& made) -> Result<void> {
        // A new v1 cpuset is empty and refuses tasks: inherit the parent's.
        if (!is_cpuset) return Ok();
        std::string parent = made.substr(0, made.rfind('/'));
        for (const char* f : {"cpuset.cpus", "cpuset.mems"}) {
          CVB_ASSIGN_OR_RETURN(std::string v, sys_.ReadFile(parent + "/" + f));
          CVB_TRY(sys_.WriteFile(made + "/" + f, Trim(v)));
        }
        return Ok();
      }));
    }
    return WriteLimits(res);
  }

  int CloneIntoFd() const override { return -1; }

  Result<void> AddProcess(pid_t pid) override {
    std::string text = std::to_string(pid);
    for (const auto& leaf : leaves_) CVB_TRY(sys_.WriteFile(leaf + "/cgroup.procs", text));
    return Ok();
  }

 private:
  Result<void> Write(const std::string& controller, const std::string& file,
                     const std::string& value) {
    auto it = dirs_.find(controller);
    if (it == dirs_.end()) return Failure("cgroup: v1 controller " + controller + " missing");
    auto r = sys_.WriteFile(it->second + "/" + file, value);
    if (!r.ok()) return r.error().wrap("cgroup v1");
    return Ok();
  }

  Result<void> WriteLimits(const Resources& res) {
    if (res.memory) {
      const auto& m = *res.memory;
      if (m.limit) CVB_TRY(Write("memory", "memory.limit_in_bytes", IntString(*m.limit)));
      if (m.reservation)
        CVB_TRY(Write("memory", "memory.soft_limit_in_bytes", IntString(*m.reservation)));
      if (m.swap) {
        std::string file = dirs_["memory"] + "/memory.memsw.limit_in_bytes";
        if (!sys_.Exists(file))
          return Failure("linux.resources.memory.swap: swap accounting is off on this host");
        CVB_TRY(Write("memory", "memory.memsw.limit_in_bytes", IntString(*m.swap)));
      }
      if (m.swappiness)
        CVB_TRY(Write("memory", "memory.swappiness", std::to_string(*m.swappiness)));
    }
    if (res.pids_limit)
      CVB_TRY(Write("pids", "pids.max", *res.pids_limit > 0 ? IntString(*res.pids_limit) : "max"));
    if (res.cpu) {
      const auto& c = *res.cpu;
      if (c.shares) CVB_TRY(Write("cpu", "cpu.shares", std::to_string(*c.shares)));
      if (c.period) CVB_TRY(Write("cpu", "cpu.cfs_period_us", std::to_string(*c.period)));
      if (c.quota) CVB_TRY(Write("cpu", "cpu.cfs_quota_us", IntString(*c.quota)));
      if (!c.cpus.empty()) CVB_TRY(Write("cpuset", "cpuset.cpus", c.cpus));
      if (!c.mems.empty()) CVB_TRY(Write("cpuset", "cpuset.mems", c.mems));
    }
    return Ok();
  }

  sys::Sys& sys_;
  const Host& host_;
  std::string cgroups_path_;
  std::map<std::string, std::string> dirs_;
};

}  // namespace

std::unique_ptr<Manager> MakeV1(sys::Sys& sys, const Host& host, const std::string& cgroups_path) {
  return std::make_unique<V1>(sys, host, cgroups_path);
}

}  // namespace cvb::runtime::cgroup
