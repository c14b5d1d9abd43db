// The engines the Docker and containerd end-to-end tests drive: a containerd (and a dockerd on
// it) of the test binary's own, started once per binary through scripts/containerd-start and
// scripts/dockerd-start under the instance name "cvrun-it-<pid>" (its own roots, sockets, bridge
// and cgroup parent; no iptables), with the runtimes under test registered; an image built from
// the test rootfs (busybox + cvb-probe) by scripts/oci-archive and loaded as an image; and a
// "faulty" cvrun: a wrapper that breaks one step on request, so that every check is seen to fail
// once. Stopped and purged at the end, then the host is checked for what the engines left.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "cvb/common/subprocess.h"

namespace cvb::runtime::testenv {

struct EngineEnv {
  // Empty when the engines run; otherwise why the tests skip (not root, not installed) or why
  // the set-up failed (the tests then fail with it).
  std::string skip_reason;
  std::string setup_error;

  std::string name;            // instance name: cvrun-it-<pid>
  std::string dir;             // TestDir()/engines: archive, fault file, wrapper, logs
  std::string docker_host;     // unix:///run/<name>-docker/docker.sock ("" without dockerd)
  std::string docker_exec_root;
  std::string containerd_socket;
  std::string containerd_state;
  std::string cgroup_parent;   // dockerd's cgroup parent: "<name>-docker"
  std::string image;           // localhost/cvrun-it-e2e:<pid>
  std::string faulty_cvrun;    // the wrapper (see SetFault)
  bool with_docker = false;

  // Runs /usr/bin/docker (the daemon's own 20.10 client) against this instance.
  RunOutput Docker(const std::vector<std::string>& args,
                   std::chrono::milliseconds timeout = std::chrono::seconds(60)) const;
  // Runs ctr against this instance's containerd, namespace ns.
  RunOutput Ctr(const std::string& ns, const std::vector<std::string>& args,
                std::chrono::milliseconds timeout = std::chrono::seconds(60)) const;
  // Runs any command (script(1) for a pty, ...) with a deadline; output captured.
  static RunOutput Command(const std::vector<std::string>& argv,
                           std::chrono::milliseconds timeout = std::chrono::seconds(60));

  // The fault the wrapper injects from now on: "" none; "fail:<cmd>" (exit 1 with
  // "injected fault: <cmd>" on stderr and in the runtime's json log), "noop:<cmd>" (exit 0 and do
  // nothing), "nolimit:create" (drops the memory limit from the bundle's config.json),
  // "mute:create" (the container's stdout goes to /dev/null).
  void SetFault(const std::string& fault) const;
};

// Starts the engines (once; with_docker: dockerd too) and returns them. The first caller's
// with_docker wins. Thread-unsafe, as gtest's set-up is.
const EngineEnv& Engines(bool with_docker);
// Stops and purges what Engines started; returns what was left on the host afterwards (cgroups,
// mounts, bridges, daemons, state and socket directories, processes), empty when clean.
std::vector<std::string> StopEngines();

// The runtime binary a test names: "cvrun" (this build), "runc", "crun", "cvrun-faulty".
std::string RuntimePath(const std::string& runtime);

// The init's cgroup in a v1 hierarchy ("memory") or the cgroup2 one (""): the path relative to
// the hierarchy's mount, from /proc/<pid>/cgroup.
std::string CgroupOf(pid_t pid, const std::string& controller);
// /sys/fs/cgroup/<controller><CgroupOf(pid)>/<file>, trimmed, or "<unreadable: ...>".
std::string CgroupFile(pid_t pid, const std::string& controller, const std::string& file);
bool ProcessAlive(pid_t pid);

}  // namespace cvb::runtime::testenv
