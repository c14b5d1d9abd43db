// cgroup v2: one directory in the unified hierarchy, joined at clone time.
#include <algorithm>
#include <cerrno>

#include "cgroup/bpf_device.h"
#include "cgroup/manager.h"
#include "cvb/common/file.h"

namespace cvb::runtime::cgroup {
namespace {

class V2 : public Manager {
 public:
  V2(sys::Sys& sys, const Host& host, std::string cgroups_path, bool apply_limits)
      : sys_(sys), host_(host), cgroups_path_(std::move(cgroups_path)),
        apply_limits_(apply_limits) {}

  Result<void> Create(const Resources& res) override {
    if (host_.unified_mount.empty()) return Failure("cgroup: cgroup2 is not mounted");
    if (apply_limits_) CVB_TRY(Refusals(res));
    std::string leaf =
        ResolvePath(host_.unified_mount, host_.unified_root, host_.unified_self, cgroups_path_);
    std::vector<std::string> controllers = apply_limits_ ? Controllers(res) : std::vector<std::string>{};
    if (!controllers.empty()) CVB_TRY(EnableControllers(leaf, controllers));
    CVB_TRY(MakePath(sys_, host_.unified_mount, leaf));
    if (apply_limits_) CVB_TRY(WriteLimits(leaf, res));
    // Before the init is cloned into the directory: its first mknod in /dev is already checked.
    if (apply_limits_ && !res.devices.empty()) {
      auto attached = sys_.AttachDeviceProgram(leaf, DeviceProgram(res.devices));
      if (!attached.ok()) return attached.error().wrap("linux.resources.devices");
    }
    auto fd = sys_.OpenDir(leaf);
    if (!fd.ok()) return fd.error().wrap("cgroup");
    fd_ = std::move(*fd);
    return Ok();
  }

  // The fake hands out no fd; then AddProcess does the joining.
  int CloneIntoFd() const override { return fd_.get(); }

  Result<void> AddProcess(pid_t pid) override {
    if (fd_.valid()) return Ok();
    for (const auto& leaf : leaves_)
      CVB_TRY(sys_.WriteFile(leaf + "/cgroup.procs", std::to_string(pid)));
    return Ok();
  }

  // An existing container: its one directory in the unified hierarchy.
  void Open(const std::vector<std::string>& leaves) {
    for (const auto& leaf : leaves)
      if (leaf.compare(0, host_.unified_mount.size() + 1, host_.unified_mount + "/") == 0)
        leaves_ = {leaf};
  }

  Result<void> Update(const Resources& res) override {
    if (leaves_.empty()) return Failure("cgroup v2: the container has no cgroup directory");
    if (!res.devices.empty())
      return Failure(
          "linux.resources.devices: cvrun does not change the device rules of an existing "
          "container");
    CVB_TRY(Refusals(res));
    std::vector<std::string> controllers = Controllers(res);
    if (!controllers.empty()) CVB_TRY(EnableControllers(leaves_[0], controllers));
    return WriteLimits(leaves_[0], res);
  }

 private:
  static std::vector<std::string> Controllers(const Resources& res) {
    std::vector<std::string> out;
    auto add = [&](const std::string& c) {
      if (std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
    };
    if (res.memory) add("memory");
    if (res.pids_limit) add("pids");
    if (res.cpu && (res.cpu->shares || res.cpu->quota || res.cpu->period)) add("cpu");
    if (res.cpu && (!res.cpu->cpus.empty() || !res.cpu->mems.empty())) add("cpuset");
    if (res.block_io) add("io");
    if (!res.hugepage_limits.empty()) add("hugetlb");
    for (const auto& [file, value] : res.unified) {
      auto dot = file.find('.');
      if (dot != std::string::npos && file.compare(0, dot, "cgroup") != 0)
        add(file.substr(0, dot));
    }
    return out;
  }

  // What cgroup v2 cannot express: refused before anything is made.
  static Result<void> Refusals(const Resources& res) {
    if (res.network)
      return Failure("linux.resources.network: cgroup v2 has no net_cls/net_prio controller");
    if (res.memory && res.memory->kernel_tcp)
      return Failure("linux.resources.memory.kernelTCP: cgroup v2 has no TCP memory limit");
    if (res.memory && res.memory->disable_oom_killer.value_or(false))
      return Failure(
          "linux.resources.memory.disableOOMKiller: cgroup v2 cannot disable the OOM killer");
    if (res.block_io && res.block_io->leaf_weight)
      return Failure("linux.resources.blockIO.leafWeight: cgroup v2 has no leaf weight");
    return Ok();
  }

  // "+memory +pids" in cgroup.subtree_control of every ancestor of the leaf, from the top,
  // skipping the ones that have them already. Directories that do not exist yet are made first.
  Result<void> EnableControllers(const std::string& leaf, const std::vector<std::string>& wanted) {
    std::string parent = leaf.substr(0, leaf.rfind('/'));
    if (parent.size() > host_.unified_mount.size()) {
      // Make the ancestors now (MakePath below will find them and only make the leaf).
      std::string cur = host_.unified_mount;
      for (const auto& part : Split(parent.substr(cur.size()), '/')) {
        cur += "/" + part;
        auto made = sys_.MakeDir(cur, 0755);
        if (made.ok()) created_.push_back(cur);
        else if (made.error().err != EEXIST) return made.error().wrap("cgroup");
      }
    }
    std::string cur = host_.unified_mount;
    std::vector<std::string> chain = {cur};
    for (const auto& part : Split(parent.substr(std::min(parent.size(), cur.size())), '/'))
      chain.push_back(cur += "/" + part);
    for (const auto& dir : chain) {
      std::string have;
      if (auto r = sys_.ReadFile(dir + "/cgroup.subtree_control"); r.ok()) have = *r;
      auto enabled = Split(Trim(have), ' ');
      std::string add;
      for (const auto& c : wanted)
        if (std::find(enabled.begin(), enabled.end(), c) == enabled.end())
          add += (add.empty() ? "+" : " +") + c;
      if (add.empty()) continue;
      auto r = sys_.WriteFile(dir + "/cgroup.subtree_control", add);
      if (!r.ok()) {
        std::string hint = r.error().err == EBUSY
                               ? " (the cgroup has processes of its own; use an absolute "
                                 "linux.cgroupsPath outside it)"
                               : "";
        return r.error().wrap("cgroup v2: enable controllers" + hint);
      }
    }
    return Ok();
  }

  Result<void> Write(const std::string& leaf, const std::string& file, const std::string& value) {
    auto r = sys_.WriteFile(leaf + "/" + file, value);
    if (!r.ok()) return r.error().wrap("cgroup v2");
    return Ok();
  }

  // A write whose failure names the spec field.
  Result<void> WriteIo(const std::string& leaf, const std::string& file, const std::string& value,
                       const std::string& field) {
    if (!sys_.Exists(leaf + "/" + file))
      return Failure(field + ": this host's cgroup v2 has no " + file);
    auto r = sys_.WriteFile(leaf + "/" + file, value);
    if (!r.ok()) return r.error().wrap(field);
    return Ok();
  }

  Result<void> WriteLimits(const std::string& leaf, const Resources& res) {
    if (res.memory) {
      const auto& m = *res.memory;
      auto v = [](int64_t x) { return x < 0 ? std::string("max") : std::to_string(x); };
      if (m.limit) CVB_TRY(Write(leaf, "memory.max", v(*m.limit)));
      if (m.reservation) CVB_TRY(Write(leaf, "memory.low", v(*m.reservation)));
      if (m.swap) {
        // The spec's swap is memory + swap; v2's memory.swap.max is swap alone.
        std::string swap = "max";
        if (*m.swap >= 0 && m.limit && *m.limit > 0) swap = std::to_string(*m.swap - *m.limit);
        else if (*m.swap >= 0 && !m.limit) swap = std::to_string(*m.swap);
        CVB_TRY(Write(leaf, "memory.swap.max", swap));
      }
    }
    if (res.pids_limit)
      CVB_TRY(Write(leaf, "pids.max",
                    *res.pids_limit > 0 ? std::to_string(*res.pids_limit) : "max"));
    if (res.cpu) {
      const auto& c = *res.cpu;
      if (c.shares) CVB_TRY(Write(leaf, "cpu.weight", std::to_string(SharesToWeight(*c.shares))));
      if (c.quota || c.period) {
        std::string quota = c.quota && *c.quota > 0 ? std::to_string(*c.quota) : "max";
        CVB_TRY(Write(leaf, "cpu.max", quota + " " + std::to_string(c.period.value_or(100000))));
      }
      if (!c.cpus.empty()) CVB_TRY(Write(leaf, "cpuset.cpus", c.cpus));
      if (!c.mems.empty()) CVB_TRY(Write(leaf, "cpuset.mems", c.mems));
    }
    if (res.block_io) {
      const BlockIo& io = *res.block_io;
      // blkio weights [10, 1000] map onto io.weight [1, 10000] as runc and crun map them.
      auto weight = [](uint16_t w) { return std::to_string(1 + (uint64_t{w} - 10) * 9999 / 990); };
      auto dev = [](const BlockIoDevice& d) {
        return std::to_string(d.major) + ":" + std::to_string(d.minor);
      };
      if (io.weight)
        CVB_TRY(WriteIo(leaf, "io.weight", "default " + weight(*io.weight),
                        "linux.resources.blockIO.weight"));
      for (size_t i = 0; i < io.weight_device.size(); ++i) {
        std::string where = "linux.resources.blockIO.weightDevice[" + std::to_string(i) + "]";
        if (io.weight_device[i].leaf_weight)
          return Failure(where + ".leafWeight: cgroup v2 has no leaf weight");
        if (io.weight_device[i].weight)
          CVB_TRY(WriteIo(leaf, "io.weight",
                          dev(io.weight_device[i]) + " " + weight(*io.weight_device[i].weight),
                          where));
      }
      struct Throttle {
        const std::vector<BlockIoDevice>* list;
        const char* key;
        const char* field;
      } throttles[] = {{&io.throttle_read_bps, "rbps", "throttleReadBpsDevice"},
                       {&io.throttle_write_bps, "wbps", "throttleWriteBpsDevice"},
                       {&io.throttle_read_iops, "riops", "throttleReadIOPSDevice"},
                       {&io.throttle_write_iops, "wiops", "throttleWriteIOPSDevice"}};
      for (const auto& t : throttles)
        for (size_t i = 0; i < t.list->size(); ++i)
          CVB_TRY(WriteIo(
              leaf, "io.max",
              dev((*t.list)[i]) + " " + t.key + "=" + std::to_string((*t.list)[i].rate),
              std::string("linux.resources.blockIO.") + t.field + "[" + std::to_string(i) + "]"));
    }
    for (size_t i = 0; i < res.hugepage_limits.size(); ++i)
      CVB_TRY(WriteIo(leaf, "hugetlb." + res.hugepage_limits[i].page_size + ".max",
                      std::to_string(res.hugepage_limits[i].limit),
                      "linux.resources.hugepageLimits[" + std::to_string(i) + "]"));
    for (const auto& [file, value] : res.unified) {
      if (file.find('/') != std::string::npos || file.empty() || file[0] == '.')
        return Failure("linux.resources.unified." + file + ": invalid file name");
      CVB_TRY(Write(leaf, file, value));
    }
    return Ok();
  }

  sys::Sys& sys_;
  const Host& host_;
  std::string cgroups_path_;
  bool apply_limits_;
  UniqueFd fd_;
};

}  // namespace

std::unique_ptr<Manager> MakeV2(sys::Sys& sys, const Host& host, const std::string& cgroups_path,
                                bool apply_limits) {
  return std::make_unique<V2>(sys, host, cgroups_path, apply_limits);
}

std::unique_ptr<Manager> OpenV2(sys::Sys& sys, const Host& host,
                                const std::vector<std::string>& leaves) {
  auto v2 = std::make_unique<V2>(sys, host, "", true);
  v2->Open(leaves);
  return v2;
}

}  // namespace cvb::runtime::cgroup
