// What a cvbench that died without cleaning up (SIGKILL, the OOM killer, a CI timeout) left on the
// host, found and removed by the next cvbench. Everything a sweep makes for containers carries
// its owner's pid:
//   /run/cvbench/<pid>/                 work dir: runtime state roots (state/<runtime>) and
//                                       bundles (run/<id>)
//   cvb-<runtime>-<pid>-<k>             container ids, their cgroup directory names (every
//                                       hierarchy) and their scratch directories
//                                       (<scratch root>/<id>)
//   /run/netns/cvb-n<i>-p<pid>          network namespaces; their host veth is cvb-vh<i>
//   /run/cvbench/<pid>/podman/<rt>/     podman launchers' stores (podman.h); their containers'
//                                       cgroups are under cvb-podman-<rt>-<pid>-0
// An owner counts as dead when no process has its pid (kill(pid, 0) fails with ESRCH). The VM
// side (QEMU processes and libvirt domains named after their owner) is reaped by vmdriver's
// Prepare.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "cvb/common/result.h"

namespace cvb::launcher {

struct LeftoverRoots {
  std::string work_root = "/run/cvbench";
  std::string netns_root = "/run/netns";
  std::string cgroup_root = "/sys/fs/cgroup";
  std::vector<std::string> scratch_roots = {"/var/tmp/cvbench"};
};

// Pids of dead owners that left a work dir or a network namespace behind (cheap: directory
// listings only).
std::vector<pid_t> DeadSweepOwners(const LeftoverRoots& roots = {});

// Removes everything the dead owners left, in dependency order: podman containers and images
// (`podman rm -a -f`, `rmi -a -f` in the dead sweep's store), containers (`<runtime> delete
// --force` against the dead sweep's state root), processes still in their cgroups (SIGKILL),
// the cgroup directories, network namespaces and veths, scratch directories, the work dir.
// Returns one line per thing removed; errors are lines too ("could not remove ...": the next
// cvbench tries again), so a half-removed leftover is never silent.
std::vector<std::string> ReapDeadSweeps(const LeftoverRoots& roots = {});

}  // namespace cvb::launcher
