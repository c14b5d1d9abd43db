// The workload started by an engine: `podman run -d --runtime <rt>` (podman 4, rootful), so
// that a figure includes what an engine adds to a container: conmon, the monitor podman leaves
// beside every container, and podman's own work per start and stop. Launcher names follow the
// variant spelling of the VM launchers ("qemu/kernel:distro"): "podman/runtime:crun",
// "podman/runtime:cvrun".
//
// Each launcher has a podman store of its own under the sweep's work dir
// (<work>/podman/<runtime>/: root, rr (the runroot), tmp, containers.conf), so the host's podman
// containers and images are never touched and a dead cvbench's store is found by the leftover
// reaper (leftovers.h). Prepare imports the benchmark image's rootfs there once as a local image
// (no registry); the launcher's destructor removes every container, the image, its cgroup parent
// and the store.
//
// Per instance: `podman run -d --log-driver passthrough` with the write end of the workload pipe
// as podman's stdout (conmon hands it to the container: the READY line comes straight to cvbench,
// as with the OCI launcher, and no log file is written), `--cgroup-parent
// /cvb-podman-<runtime>-<pid>-0` (the reaper's cgroup naming, so a dead sweep's containers and
// conmons are found even without podman), the bundle's memory limit, read-only root and hostname.
// HostPids() is the container's processes and its conmon.
#pragma once

#include <string>
#include <vector>

#include "cvb/launcher/launcher.h"

namespace cvb::launcher {

// "podman/runtime:crun" -> "crun"; "" for other names.
std::string PodmanRuntimeOf(const std::string& launcher_name);

// Where a launcher keeps its podman store: <work_dir>/podman/<runtime>.
std::string PodmanStoreDir(const std::string& work_dir, const std::string& runtime);

// podman's global arguments for a store directory: --root, --runroot, --tmpdir under it. With
// CONTAINERS_CONF=<store>/containers.conf in the environment (PodmanEnv) this is the whole
// configuration podman reads.
std::vector<std::string> PodmanStoreArgs(const std::string& store_dir);
std::vector<std::string> PodmanEnv(const std::string& store_dir);

// The containers.conf every store gets: cgroupfs (podman's cgroups under the cgroup parent the
// launcher names), file events (no journald here), no network by default, rlimits as the bundle's.
std::string PodmanContainersConf();

// "podman" in PATH; the launcher factory for one runtime ("crun", "cvrun").
Result<std::unique_ptr<Launcher>> MakePodmanLauncher(const LauncherConfig& config);

// Names registered for podman: podman/runtime:cvrun, podman/runtime:crun.
std::vector<std::string> PodmanLauncherNames();

}  // namespace cvb::launcher
