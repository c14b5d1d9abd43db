// cgroup v1: one directory per hierarchy the container needs.
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>

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
    // The hierarchies users need (ps/kill, device rules, pause, stats, limits) always; the rest
    // only when the config sets them. A field that needs a controller this host lacks is refused
    // here, naming the field.
    struct Want {
      const char* controller;
      const char* field;  // "" when the hierarchy is joined for its own sake
    };
    std::vector<Want> wanted = {{"memory", ""},  {"pids", ""}, {"devices", ""},
                                {"freezer", ""}, {"cpu", ""},  {"cpuacct", ""}};
    if (res.memory) wanted[0].field = "linux.resources.memory";
    if (res.pids_limit) wanted[1].field = "linux.resources.pids";
    if (!res.devices.empty()) wanted[2].field = "linux.resources.devices";
    if (res.cpu && (res.cpu->shares || res.cpu->quota || res.cpu->period))
      wanted[4].field = "linux.resources.cpu";
    if (res.cpu && (!res.cpu->cpus.empty() || !res.cpu->mems.empty()))
      wanted.push_back({"cpuset", "linux.resources.cpu"});
    if (res.block_io) wanted.push_back({"blkio", "linux.resources.blockIO"});
    if (res.network && res.network->class_id)
      wanted.push_back({"net_cls", "linux.resources.network.classID"});
    if (res.network && !res.network->priorities.empty())
      wanted.push_back({"net_prio", "linux.resources.network.priorities"});
    if (!res.hugepage_limits.empty())
      wanted.push_back({"hugetlb", "linux.resources.hugepageLimits"});
    if (!res.unified.empty())
      return Failure("linux.resources.unified: needs cgroup v2, this host is v1");
    for (const auto& w : wanted) {
      const V1Hierarchy* h = host_.FindV1(w.controller);
      if (!h) {
        if (*w.field)
          return Failure(std::string(w.field) + ": the " + w.controller +
                         " controller is not mounted as cgroup v1 on this host");
        continue;
      }
      std::string path = ResolvePath(h->mount, h->root, h->self, cgroups_path_);
      dirs_[w.controller] = path;
      // Co-mounted controllers (cpu,cpuacct) share one directory: one mkdir, one join.
      if (std::find(leaves_.begin(), leaves_.end(), path) != leaves_.end()) continue;
      bool is_cpuset = std::string(w.controller) == "cpuset";
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

  // An existing container's directories: each leaf under a hierarchy's mount serves that
  // hierarchy's controllers.
  void Open(const std::vector<std::string>& leaves) {
    for (const auto& h : host_.v1)
      for (const auto& leaf : leaves)
        if (leaf.compare(0, h.mount.size() + 1, h.mount + "/") == 0) {
          for (const auto& c : h.controllers) dirs_[c] = leaf;
          leaves_.push_back(leaf);
        }
  }

  Result<void> Update(const Resources& res) override {
    if (!res.devices.empty())
      return Failure(
          "linux.resources.devices: cvrun does not change the device rules of an existing "
          "container (rewriting them live would deny devices in use while they are rebuilt)");
    if (!res.unified.empty())
      return Failure("linux.resources.unified: needs cgroup v2, this host is v1");
    const bool cpu_bw = res.cpu && (res.cpu->shares || res.cpu->quota || res.cpu->period);
    const bool cpuset = res.cpu && (!res.cpu->cpus.empty() || !res.cpu->mems.empty());
    struct Need {
      bool wanted;
      const char* controller;
      const char* field;
    } needs[] = {
        {res.memory.has_value(), "memory", "linux.resources.memory"},
        {res.pids_limit.has_value(), "pids", "linux.resources.pids"},
        {cpu_bw, "cpu", "linux.resources.cpu"},
        {cpuset, "cpuset", "linux.resources.cpu.cpus/mems"},
        {res.block_io.has_value(), "blkio", "linux.resources.blockIO"},
        {res.network && res.network->class_id, "net_cls", "linux.resources.network.classID"},
        {res.network && !res.network->priorities.empty(), "net_prio",
         "linux.resources.network.priorities"},
        {!res.hugepage_limits.empty(), "hugetlb", "linux.resources.hugepageLimits"},
    };
    for (const auto& n : needs)
      if (n.wanted && !dirs_.count(n.controller))
        return Failure(std::string(n.field) + ": the container has no " + n.controller +
                       " cgroup (its config did not ask for one at create); cvrun does not move "
                       "a live container into a new hierarchy");
    return WriteLimits(res);
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

  // Writes file in controller's directory, refusing `field` when the host's kernel has no
  // such file (the controller exists but this knob does not, e.g. blkio.weight without CFQ/BFQ).
  Result<void> WriteKnob(const std::string& controller, const std::string& file,
                         const std::string& value, const std::string& field) {
    std::string path = dirs_[controller] + "/" + file;
    if (!sys_.Exists(path))
      return Failure(field + ": this host's " + controller + " cgroup has no " + file);
    auto r = sys_.WriteFile(path, value);
    if (!r.ok()) return r.error().wrap(field);
    return Ok();
  }

  Result<void> WriteDevices(const std::vector<DeviceRule>& rules) {
    const std::string field = "linux.resources.devices";
    for (size_t i = 0; i < rules.size(); ++i) {
      const DeviceRule& r = rules[i];
      std::string line = DeviceRuleLine(r);
      auto w =
          sys_.WriteFile(dirs_["devices"] + (r.allow ? "/devices.allow" : "/devices.deny"), line);
      if (!w.ok()) return w.error().wrap(field + " \"" + line + "\"");
    }
    return Ok();
  }

  Result<void> WriteLimits(const Resources& res) {
    if (!res.devices.empty()) CVB_TRY(WriteDevices(res.devices));
    if (res.memory) {
      MemoryResources m = *res.memory;
      std::string memsw = dirs_["memory"] + "/memory.memsw.limit_in_bytes";
      if (m.swap && !sys_.Exists(memsw))
        return Failure("linux.resources.memory.swap: swap accounting is off on this host");
      // As runc: no memory limit (-1) with swap not given lifts memory+swap too; otherwise the
      // kernel refuses an unlimited memory above the memory+swap limit still in force.
      if (m.limit == -1 && !m.swap && sys_.Exists(memsw)) m.swap = -1;
      // The kernel keeps memory <= memory+swap at every write: raising both past the current
      // memory+swap limit (an update) has to write memsw first, lowering them memory first.
      bool swap_first = false;
      if (m.swap && m.limit) {
        auto current = sys_.ReadFile(memsw);
        uint64_t now = current.ok() ? std::strtoull(current->c_str(), nullptr, 10) : UINT64_MAX;
        swap_first = static_cast<uint64_t>(*m.limit) > now;  // -1 (no limit) is the largest
      }
      if (swap_first)
        CVB_TRY(Write("memory", "memory.memsw.limit_in_bytes", IntString(*m.swap)));
      if (m.limit) CVB_TRY(Write("memory", "memory.limit_in_bytes", IntString(*m.limit)));
      if (m.reservation)
        CVB_TRY(Write("memory", "memory.soft_limit_in_bytes", IntString(*m.reservation)));
      if (m.swap && !swap_first)
        CVB_TRY(Write("memory", "memory.memsw.limit_in_bytes", IntString(*m.swap)));
      if (m.swappiness)
        CVB_TRY(Write("memory", "memory.swappiness", std::to_string(*m.swappiness)));
      if (m.kernel_tcp)
        CVB_TRY(WriteKnob("memory", "memory.kmem.tcp.limit_in_bytes", IntString(*m.kernel_tcp),
                          "linux.resources.memory.kernelTCP"));
      if (m.disable_oom_killer)
        CVB_TRY(WriteKnob("memory", "memory.oom_control", *m.disable_oom_killer ? "1" : "0",
                          "linux.resources.memory.disableOOMKiller"));
    }
    if (res.block_io) {
      const BlockIo& io = *res.block_io;
      const std::string f = "linux.resources.blockIO";
      auto dev = [](const BlockIoDevice& d) {
        return std::to_string(d.major) + ":" + std::to_string(d.minor);
      };
      if (io.weight)
        CVB_TRY(WriteKnob("blkio", "blkio.weight", std::to_string(*io.weight), f + ".weight"));
      if (io.leaf_weight)
        CVB_TRY(WriteKnob("blkio", "blkio.leaf_weight", std::to_string(*io.leaf_weight),
                          f + ".leafWeight"));
      for (size_t i = 0; i < io.weight_device.size(); ++i) {
        const auto& d = io.weight_device[i];
        std::string where = f + ".weightDevice[" + std::to_string(i) + "]";
        if (d.weight)
          CVB_TRY(WriteKnob("blkio", "blkio.weight_device",
                            dev(d) + " " + std::to_string(*d.weight), where));
        if (d.leaf_weight)
          CVB_TRY(WriteKnob("blkio", "blkio.leaf_weight_device",
                            dev(d) + " " + std::to_string(*d.leaf_weight), where));
      }
      struct Throttle {
        const std::vector<BlockIoDevice>* list;
        const char* file;
        const char* key;
      } throttles[] = {
          {&io.throttle_read_bps, "blkio.throttle.read_bps_device", "throttleReadBpsDevice"},
          {&io.throttle_write_bps, "blkio.throttle.write_bps_device", "throttleWriteBpsDevice"},
          {&io.throttle_read_iops, "blkio.throttle.read_iops_device", "throttleReadIOPSDevice"},
          {&io.throttle_write_iops, "blkio.throttle.write_iops_device", "throttleWriteIOPSDevice"}};
      for (const auto& t : throttles)
        for (size_t i = 0; i < t.list->size(); ++i)
          CVB_TRY(WriteKnob("blkio", t.file,
                            dev((*t.list)[i]) + " " + std::to_string((*t.list)[i].rate),
                            f + "." + t.key + "[" + std::to_string(i) + "]"));
    }
    if (res.network) {
      if (res.network->class_id)
        CVB_TRY(WriteKnob("net_cls", "net_cls.classid", std::to_string(*res.network->class_id),
                          "linux.resources.network.classID"));
      for (size_t i = 0; i < res.network->priorities.size(); ++i) {
        const auto& [name, prio] = res.network->priorities[i];
        CVB_TRY(WriteKnob("net_prio", "net_prio.ifpriomap", name + " " + std::to_string(prio),
                          "linux.resources.network.priorities[" + std::to_string(i) + "]"));
      }
    }
    for (size_t i = 0; i < res.hugepage_limits.size(); ++i) {
      const auto& h = res.hugepage_limits[i];
      CVB_TRY(WriteKnob("hugetlb", "hugetlb." + h.page_size + ".limit_in_bytes",
                        std::to_string(h.limit),
                        "linux.resources.hugepageLimits[" + std::to_string(i) + "]"));
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

std::unique_ptr<Manager> OpenV1(sys::Sys& sys, const Host& host,
                                const std::vector<std::string>& leaves) {
  auto v1 = std::make_unique<V1>(sys, host, "");
  v1->Open(leaves);
  return v1;
}

}  // namespace cvb::runtime::cgroup
