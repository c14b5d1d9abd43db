#include "cgroup/manager.h"

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <functional>
#include <sstream>

#include "cvb/common/file.h"

namespace cvb::runtime::cgroup {

const V1Hierarchy* Host::FindV1(const std::string& controller) const {
  for (const auto& h : v1)
    if (std::find(h.controllers.begin(), h.controllers.end(), controller) != h.controllers.end())
      return &h;
  return nullptr;
}

const char* ModeName(Host::Mode mode) {
  switch (mode) {
    case Host::Mode::kV1: return "v1";
    case Host::Mode::kV2: return "v2";
    case Host::Mode::kHybrid: return "hybrid";
    default: return "none";
  }
}

Host ParseHost(const std::string& mountinfo, const std::string& proc_self_cgroup) {
  Host host;
  std::map<std::string, std::string> self;  // controller (or "" for v2) -> path
  std::istringstream cg(proc_self_cgroup);
  for (std::string line; std::getline(cg, line);) {
    auto a = line.find(':');
    auto b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    std::string controllers = line.substr(a + 1, b - a - 1);
    std::string path = line.substr(b + 1);
    if (controllers.empty()) self[""] = path;
    for (const auto& c : Split(controllers, ',')) self[c] = path;
  }
  std::istringstream mi(mountinfo);
  bool root_is_cgroup2 = false;
  for (std::string line; std::getline(mi, line);) {
    // id parent major:minor root mountpoint options [optional...] - fstype source superoptions
    auto dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    auto left = Split(line.substr(0, dash), ' ');
    auto right = Split(line.substr(dash + 3), ' ');
    if (left.size() < 5 || right.size() < 3) continue;
    const std::string& root = left[3];
    const std::string& mountpoint = left[4];
    const std::string& fstype = right[0];
    if (fstype == "cgroup2") {
      if (mountpoint == "/sys/fs/cgroup") root_is_cgroup2 = true;
      if (host.unified_mount.empty() || mountpoint == "/sys/fs/cgroup") {
        host.unified_mount = mountpoint;
        host.unified_root = root;
        host.unified_self = self.count("") ? self[""] : "/";
      }
    } else if (fstype == "cgroup") {
      V1Hierarchy h;
      h.mount = mountpoint;
      h.root = root;
      for (const auto& opt : Split(right[2], ',')) {
        static const char* const kKnown[] = {"cpu",     "cpuacct", "cpuset",     "memory",
                                             "devices", "freezer", "blkio",      "pids",
                                             "net_cls", "net_prio", "perf_event", "hugetlb",
                                             "rdma",    "misc"};
        for (const char* k : kKnown)
          if (opt == k) h.controllers.push_back(opt);
      }
      if (h.controllers.empty()) continue;  // name=systemd and friends
      h.self = self.count(h.controllers[0]) ? self[h.controllers[0]] : "/";
      host.v1.push_back(std::move(h));
    }
  }
  if (root_is_cgroup2) host.mode = Host::Mode::kV2;
  else if (!host.v1.empty() && !host.unified_mount.empty()) host.mode = Host::Mode::kHybrid;
  else if (!host.v1.empty()) host.mode = Host::Mode::kV1;
  else if (!host.unified_mount.empty()) host.mode = Host::Mode::kV2;
  return host;
}

Result<Host> DetectHost(sys::Sys& sys) {
  CVB_ASSIGN_OR_RETURN(std::string mountinfo, sys.ReadFile("/proc/self/mountinfo"));
  CVB_ASSIGN_OR_RETURN(std::string self, sys.ReadFile("/proc/self/cgroup"));
  return ParseHost(mountinfo, self);
}

std::string ResolvePath(const std::string& mount, const std::string& mount_root,
                        const std::string& self, const std::string& cgroups_path) {
  std::string rel;
  if (cgroups_path.empty() || cgroups_path[0] != '/') {
    std::string own = self;
    // Inside a cgroup namespace /proc/self/cgroup is relative to the namespace's root, which is
    // what the mount shows too; outside it, strip the mount's root.
    if (mount_root != "/" && own.compare(0, mount_root.size(), mount_root) == 0)
      own = own.substr(mount_root.size());
    rel = own + "/" + cgroups_path;
  } else {
    rel = cgroups_path;
  }
  std::string out = mount;
  for (const auto& part : Split(rel, '/')) {
    if (part == "." || part == "..") continue;  // never climb out of the hierarchy
    out += "/" + part;
  }
  return out;
}

std::string DefaultCgroupsPath(const std::string& id) { return "cvrun-" + id; }

Result<void> Manager::MakePath(sys::Sys& sys, const std::string& mount, const std::string& path,
                               const std::function<Result<void>(const std::string&)>& on_create) {
  // Leaf first: usually only it is missing, and one mkdir is the whole cost.
  auto made = sys.MakeDir(path, 0755);
  if (!made.ok() && made.error().err == ENOENT && path.size() > mount.size()) {
    std::string parent = path.substr(0, path.rfind('/'));
    if (parent.size() > mount.size()) {
      CVB_TRY(MakePath(sys, mount, parent, on_create));
      leaves_.pop_back();  // the parent is not a leaf
    }
    made = sys.MakeDir(path, 0755);
  }
  if (made.ok()) {
    created_.push_back(path);
    if (on_create) CVB_TRY(on_create(path));
  } else if (made.error().err != EEXIST) {
    return made.error().wrap("cgroup");
  }
  leaves_.push_back(path);
  return Ok();
}

Result<std::unique_ptr<Manager>> MakeManager(sys::Sys& sys, const Host& host,
                                             const std::string& cgroups_path) {
  switch (host.mode) {
    case Host::Mode::kV1: return MakeV1(sys, host, cgroups_path);
    case Host::Mode::kV2: return MakeV2(sys, host, cgroups_path);
    case Host::Mode::kHybrid: return MakeHybrid(sys, host, cgroups_path);
    default: return Failure("cgroup: no cgroup filesystem is mounted under /sys/fs/cgroup");
  }
}

Result<std::unique_ptr<Manager>> OpenManager(sys::Sys& sys, const Host& host,
                                             const std::vector<std::string>& leaves) {
  switch (host.mode) {
    case Host::Mode::kV1:
    case Host::Mode::kHybrid:  // limits live in v1; the unified directory has none
      return OpenV1(sys, host, leaves);
    case Host::Mode::kV2: return OpenV2(sys, host, leaves);
    default: return Failure("cgroup: no cgroup filesystem is mounted under /sys/fs/cgroup");
  }
}

std::vector<pid_t> Pids(sys::Sys& sys, const std::vector<std::string>& leaves) {
  std::vector<pid_t> pids;
  for (const auto& leaf : leaves) {
    auto text = sys.ReadFile(leaf + "/cgroup.procs");
    if (!text.ok()) continue;
    for (const auto& line : Split(*text, '\n')) {
      pid_t pid = static_cast<pid_t>(std::atoi(line.c_str()));
      if (pid > 0 && std::find(pids.begin(), pids.end(), pid) == pids.end()) pids.push_back(pid);
    }
  }
  std::sort(pids.begin(), pids.end());
  return pids;
}

void KillAll(sys::Sys& sys, const std::vector<std::string>& leaves, int sig) {
  if (sig == SIGKILL) {
    for (const auto& leaf : leaves)
      if (sys.Exists(leaf + "/cgroup.kill") && sys.WriteFile(leaf + "/cgroup.kill", "1").ok())
        return;
  }
  for (pid_t pid : Pids(sys, leaves)) (void)sys.Kill(pid, sig);
}

Result<void> Remove(sys::Sys& sys, const std::vector<std::string>& created, int timeout_ms) {
  for (auto it = created.rbegin(); it != created.rend(); ++it) {
    // A parent this container made (mkdir -p of its cgroupsPath) may hold other containers'
    // cgroups by now: containerd gives every task of a namespace /<namespace>/<id>, and tasks
    // created at once share the parent the first of them made. Busy, it is theirs too: left.
    bool parent = std::any_of(created.begin(), created.end(), [&](const std::string& other) {
      return other.size() > it->size() && other.compare(0, it->size() + 1, *it + "/") == 0;
    });
    int waited = 0;
    for (;;) {
      auto r = sys.RemoveDir(*it);
      if (r.ok() || r.error().err == ENOENT) break;
      if (parent && r.error().err == EBUSY) break;
      // EBUSY: processes that were just killed have not left yet.
      if (r.error().err != EBUSY || waited >= timeout_ms) return r.error().wrap("cgroup");
      sys.SleepMs(2);
      waited += 2;
    }
  }
  return Ok();
}

std::vector<DeviceRule> DeviceRules(const std::vector<DeviceRule>& spec_rules,
                                    const std::vector<Device>& linux_devices) {
  std::vector<DeviceRule> rules = spec_rules;
  if (rules.empty()) return rules;
  auto allow = [&](const char* type, std::optional<int64_t> major, std::optional<int64_t> minor,
                   const char* access) {
    rules.push_back(DeviceRule{true, type, major, minor, access});
  };
  allow("c", std::nullopt, std::nullopt, "m");
  allow("b", std::nullopt, std::nullopt, "m");
  // The nodes of the default /dev (mounts.cc PlanDevices), /dev/pts/* and /dev/ptmx.
  for (auto [major, minor] : std::initializer_list<std::pair<int, int>>{
           {1, 3}, {1, 5}, {1, 7}, {1, 8}, {1, 9}, {5, 0}, {5, 2}})
    allow("c", major, minor, "rwm");
  allow("c", 136, std::nullopt, "rwm");
  for (const auto& d : linux_devices)
    if (d.type == "c" || d.type == "b" || d.type == "u")
      allow(d.type == "b" ? "b" : "c", d.major, d.minor, "rwm");
  return rules;
}

std::string DeviceRuleLine(const DeviceRule& rule) {
  if (rule.type == "a") return "a *:* rwm";
  auto num = [](const std::optional<int64_t>& v) { return v ? std::to_string(*v) : "*"; };
  return rule.type + " " + num(rule.major) + ":" + num(rule.minor) + " " + rule.access;
}

uint64_t SharesToWeight(uint64_t shares) {
  // The mapping runc and crun use: [2, 262144] -> [1, 10000].
  if (shares == 0) return 0;
  if (shares < 2) shares = 2;
  if (shares > 262144) shares = 262144;
  return 1 + ((shares - 2) * 9999) / 262142;
}

}  // namespace cvb::runtime::cgroup
