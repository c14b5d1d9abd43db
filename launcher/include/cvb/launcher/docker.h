// The workload started by Docker: `docker run -d --runtime <rt>` against cvbench's own dockerd
// (engine_daemons.h: scripts/dockerd-start, instance name --param engine_name, default
// "cvbench"), so that a figure includes what Docker adds to a container: dockerd's and
// containerd's work per start and stop, and the containerd-shim-runc-v2 Docker leaves beside
// every container. Names: "docker/runtime:runc" (Docker's default runtime), "docker/runtime:crun",
// "docker/runtime:cvrun"; each with "/net:host" for throughput's net mode on the host's network
// instead of Docker's default bridge (Felter et al. 2014 measured the difference).
//
// Prepare starts the daemons through the script (idempotent: a running one is left as it is,
// the runtime registered), makes the benchmark image an image with scripts/oci-archive and
// `docker load`s it under a tag of this launcher's own (localhost/cvb-bench-<rt>-<pid>:<hash>),
// and measures the daemons' own memory once (the engine's fixed cost: the context key
// "daemons_rss_kib", never added to an instance's cost). The destructor removes every container
// of this launcher and its image tag. The daemons stay up, as libvirtd does (--stop --purge of
// the scripts ends them).
//
// Per instance: `docker run -d` with Docker's defaults (its seccomp profile, capabilities,
// masked paths, json-file log) plus the bundle's memory limit, a read-only root (no tmpfs added)
// and the hostname cvb; --network none unless the workload needs a network (then Docker's bridge
// with the workload's port published on the bridge's address, or --network host).
// The READY line: Docker has no passthrough log driver, so the workload's stdout reaches cvbench
// the way it reaches a Docker user: through the shim and dockerd into the json-file log
// (`docker logs`), which cvbench follows (docker_log.h); a line is stamped when cvbench has it
// whole. dockerd's own stamp of the line goes beside it as "ready_in_log_ms" (since launch):
// the READY line is usually in the log before `docker run -d` returns, so ready_ms is bounded
// below by start_ms (the client's round trip), and ready_in_log_ms says by how much.
// HostPids() is the container's processes and its shim.
#pragma once

#include <string>
#include <vector>

#include "cvb/launcher/launcher.h"

namespace cvb::launcher {

struct DockerLauncherName {
  std::string runtime;         // runc, crun, cvrun
  std::string net = "bridge";  // bridge (Docker's default) or host
};
// "docker/runtime:crun/net:host" -> {crun, host}; an error for other names.
Result<DockerLauncherName> ParseDockerLauncherName(const std::string& name);

Result<std::unique_ptr<Launcher>> MakeDockerLauncher(const LauncherConfig& config);

// Names registered for Docker: docker/runtime:{runc,crun,cvrun}[/net:host].
std::vector<std::string> DockerLauncherNames();

}  // namespace cvb::launcher
