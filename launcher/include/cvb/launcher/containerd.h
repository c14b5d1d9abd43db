// The workload started by containerd without Docker: `ctr run -d --runc-binary <rt>` against
// cvbench's own containerd (engine_daemons.h: scripts/containerd-start, --param engine_name,
// default "cvbench"), through containerd's io.containerd.runc.v2 shim, one per task. Names:
// "containerd/runtime:runc", "containerd/runtime:crun", "containerd/runtime:cvrun".
//
// Prepare starts containerd through the script (idempotent), makes the benchmark image an image
// with scripts/oci-archive and `ctr images import`s it into a namespace of this launcher's own
// (cvb-<rt>-<pid>), and measures containerd's memory once (context "daemons_rss_kib"). The
// destructor kills and deletes every task and container of that namespace, the image, its
// snapshots and content, then the namespace. containerd stays up (containerd-start --stop).
//
// Per instance: ctr's default spec (Docker's capabilities and masked paths) with --seccomp
// (containerd's default profile, Docker's): the docker-default confinement the bare runtimes get
// by default (image/confinement.h), so these launchers have no profile dimension; docker/ ones
// neither: Docker's own default is docker-default. Plus the bundle's memory limit, a read-only
// root (--read-only) and no network
// (ctr's default: a network namespace with lo only). The workload's stdout goes to a file the shim
// writes (--log-uri file://), which cvbench follows like Docker's log (docker_log.h, plain
// format); a line is stamped when cvbench has it whole. HostPids() is the task's processes and
// its shim (the bundle's init.pid; the shim is the init's parent).
#pragma once

#include <string>
#include <vector>

#include "cvb/launcher/launcher.h"

namespace cvb::launcher {

// "containerd/runtime:crun" -> "crun"; "" for other names.
std::string ContainerdRuntimeOf(const std::string& launcher_name);

Result<std::unique_ptr<Launcher>> MakeContainerdLauncher(const LauncherConfig& config);

// containerd/runtime:{runc,crun,cvrun}.
std::vector<std::string> ContainerdLauncherNames();

}  // namespace cvb::launcher
