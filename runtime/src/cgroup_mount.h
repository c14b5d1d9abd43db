// A "cgroup" mount of the spec (Docker and runc's default config put one on /sys/fs/cgroup, ro)
// as runc makes it: the container's own cgroups, so that a process can read its limits
// (memory.limit_in_bytes, pids.max, cpu.cfs_quota_us: JVMs, Go, nginx size themselves by them),
// and never the host's cgroup tree.
//   v1 and hybrid hosts: a tmpfs (mode 755, nosuid/nodev/noexec) at the destination; each v1
//     hierarchy the container has a directory in, that directory bound at <destination>/<name of
//     the hierarchy's mount point> ("memory", "cpu,cpuacct"), with the mount's options (ro,
//     nosuid, ...), recursively; co-mounted controllers as symlinks (cpu -> cpu,cpuacct); then
//     the tmpfs made read-only when the mount is. `..` of a bound directory is the tmpfs, not the
//     parent cgroup. Hierarchies cvrun made no directory in (blkio without blockIO settings,
//     name=systemd, ...) are not shown: their only directory would be the caller's, i.e. the
//     host's tree (runc joins every hierarchy and shows all). The hybrid host's cgroup2 mount is
//     not shown either (as runc).
//   v2 hosts: with a cgroup namespace, cgroup2 mounted (the namespace's root is the container's
//     cgroup); without one, the container's directory bound at the destination (runc mounts the
//     whole cgroup2 tree then).
#pragma once

#include <string>
#include <vector>

#include "cgroup/manager.h"
#include "mounts.h"

namespace cvb::runtime {

// Replaces each placeholder PlanMounts left for a cgroup mount (`cgroup`) by the mounts above.
// leaves: the container's directories (Manager::leaves()); cgroup_ns: the config has a new
// cgroup namespace.
void ExpandCgroupMounts(std::vector<PlannedMount>& planned, const cgroup::Host& host,
                        const std::vector<std::string>& leaves, bool cgroup_ns);

}  // namespace cvb::runtime
