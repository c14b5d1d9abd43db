#include "cgroup_mount.h"

#include <linux/mount.h>
#include <sys/mount.h>

namespace cvb::runtime {
namespace {

std::string Basename(const std::string& path) { return path.substr(path.rfind('/') + 1); }

bool Under(const std::string& path, const std::string& dir) {
  return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
         path[dir.size()] == '/';
}

// A recursive bind of a host directory at dest_rel, with the cgroup mount's flags as attributes.
PlannedMount Bind(const PlannedMount& cg, const std::string& host_dir, const std::string& dest) {
  PlannedMount b;
  b.spec_index = cg.spec_index;
  b.source = host_dir;
  b.destination = dest;
  b.dest_rel = dest.substr(1);
  std::vector<std::string> options = {"rbind"};
  const unsigned long f = cg.options.flags;
  if (f & MS_RDONLY) options.push_back("ro");
  if (f & MS_NOSUID) options.push_back("nosuid");
  if (f & MS_NODEV) options.push_back("nodev");
  if (f & MS_NOEXEC) options.push_back("noexec");
  b.options = ParseMountOptions(options);
  b.options.propagation = cg.options.propagation;
  b.source_is_dir = true;
  return b;
}

std::vector<PlannedMount> Expand(const PlannedMount& cg, const cgroup::Host& host,
                                 const std::vector<std::string>& leaves, bool cgroup_ns) {
  std::vector<PlannedMount> out;
  const bool ro = cg.options.flags & MS_RDONLY;
  if (host.mode == cgroup::Host::Mode::kV2) {
    if (cgroup_ns) {
      PlannedMount m = cg;
      m.cgroup = false;
      m.fstype = "cgroup2";
      m.source = "cgroup2";
      m.data.clear();
      out.push_back(m);
      return out;
    }
    for (const auto& leaf : leaves)
      if (Under(leaf, host.unified_mount)) out.push_back(Bind(cg, leaf, cg.destination));
    return out;
  }
  // v1 and hybrid: a tmpfs holding one bind per hierarchy the container has a directory in.
  PlannedMount tmpfs = cg;
  tmpfs.cgroup = false;
  tmpfs.fstype = "tmpfs";
  tmpfs.source = "cgroup";
  tmpfs.data = "mode=755";
  tmpfs.options.flags = (cg.options.flags & ~static_cast<unsigned long>(MS_RDONLY)) | MS_NOSUID |
                        MS_NODEV | MS_NOEXEC;
  out.push_back(tmpfs);
  for (const auto& h : host.v1) {
    std::string dir;
    for (const auto& leaf : leaves)
      if (Under(leaf, h.mount)) dir = leaf;
    if (dir.empty()) continue;
    std::string name = Basename(h.mount);
    out.push_back(Bind(cg, dir, cg.destination + "/" + name));
    for (const auto& controller : h.controllers) {
      if (controller == name) continue;
      PlannedMount link;
      link.kind = kMountSymlink;
      link.spec_index = cg.spec_index;
      link.source = name;  // relative: cpu -> cpu,cpuacct
      link.destination = cg.destination + "/" + controller;
      link.dest_rel = link.destination.substr(1);
      out.push_back(link);
    }
  }
  if (ro) {
    PlannedMount seal;
    seal.kind = kMountReadOnly;
    seal.spec_index = cg.spec_index;
    seal.source = "cgroup";
    seal.destination = cg.destination;
    seal.dest_rel = cg.dest_rel;
    out.push_back(seal);
  }
  return out;
}

}  // namespace

void ExpandCgroupMounts(std::vector<PlannedMount>& planned, const cgroup::Host& host,
                        const std::vector<std::string>& leaves, bool cgroup_ns) {
  std::vector<PlannedMount> out;
  for (auto& p : planned) {
    if (!p.cgroup) {
      out.push_back(std::move(p));
      continue;
    }
    for (auto& m : Expand(p, host, leaves, cgroup_ns)) out.push_back(std::move(m));
  }
  planned = std::move(out);
}

}  // namespace cvb::runtime
