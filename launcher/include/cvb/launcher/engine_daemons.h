// The daemons the Docker and containerd launchers drive (docker.h, containerd.h): cvbench's own
// dockerd and containerd, started by scripts/dockerd-start and scripts/containerd-start under an
// instance name (default "cvbench"), never the host's. This file knows where each instance keeps
// its sockets and state (the scripts' layout), how to tell that a daemon answers without running a
// client, how long to wait for one that went away, and how to start one that is down.
//
// A daemon that dies in the middle of a sweep is a fault to report, not to hide: the launchers do
// not restart it. The entry in flight fails with the client's error; the next start waits for the
// daemon to answer again up to daemon_wait_ms (--param, default 60 s: a restart by the scripts
// takes ~4 s here), then fails; once a wait has run out, later starts probe once and fail at once
// while it stays down (so a dead daemon costs a sweep one wait, not one per repetition).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "cvb/common/result.h"

namespace cvb::launcher {

// The scripts' paths for one instance name (scripts/dockerd-start's and containerd-start's
// headers).
struct EngineInstance {
  std::string name = "cvbench";

  std::string docker_exec_root() const { return "/run/" + name + "-docker"; }
  std::string docker_socket() const { return docker_exec_root() + "/docker.sock"; }
  std::string docker_host() const { return "unix://" + docker_socket(); }
  std::string docker_pidfile() const { return docker_exec_root() + "/docker.pid"; }
  std::string docker_data_root() const { return "/var/lib/" + name + "/docker"; }
  // The containerd namespace dockerd keeps its containers in.
  std::string docker_namespace() const { return name + "-docker"; }
  std::string containerd_state() const { return "/run/" + name + "-containerd"; }
  std::string containerd_socket() const { return containerd_state() + "/containerd.sock"; }
  std::string containerd_pidfile() const { return containerd_state() + "/containerd.pid"; }
  // The runc root and fifo directory ctr is given (the script makes both).
  std::string ctr_runc_root() const { return containerd_state() + "/runc"; }
  std::string ctr_fifo_dir() const { return containerd_state() + "/fifo"; }
  // The io.containerd.runc.v2 shim's bundle of a task: config.json (what the runtime got),
  // init.pid, shim.pid, log.json (the runtime's --log).
  std::string task_bundle(const std::string& ns, const std::string& id) const {
    return containerd_state() + "/io.containerd.runtime.v2.task/" + ns + "/" + id;
  }
  // The host condition the scripts applied (private mount namespace without cgroup2 on hybrid
  // hosts), as they wrote it; "unknown" when not there.
  std::string HostCondition() const;
};

// The instance name from --param engine_name (default "cvbench").
EngineInstance EngineInstanceFrom(const std::map<std::string, std::string>& params);

// scripts/ of this checkout: $CVB_SCRIPTS_DIR when set (tests), else the source tree cvbench was
// built from.
std::string EngineScriptsDir();

// A process id from a pid file whose process still runs under that command name, else -1.
pid_t LivePidFromFile(const std::string& pidfile, const std::string& comm);

// Whether something accepts connections on the unix socket (containerd's gRPC socket).
bool SocketAccepts(const std::string& path);
// dockerd's API answers GET /_ping with "OK" on its socket (no client spawned: ~1 ms).
Result<void> DockerPing(const std::string& socket, std::chrono::milliseconds timeout);

// Waits for a daemon to answer before a start: see the header comment. Thread-safe (fleets start
// instances from several threads).
class DaemonWait {
 public:
  // probe: Ok when the daemon answers. what: "dockerd (cvbench)" for messages.
  DaemonWait(std::string what, std::function<Result<void>()> probe, int64_t wait_ms);
  // Ok at once when the daemon answers; otherwise waits (polling every 200 ms) up to wait_ms, or
  // probes once when an earlier wait already ran out and the daemon has not answered since.
  Result<void> Ready();
  const std::string& what() const { return what_; }
  int64_t wait_ms() const { return wait_ms_; }

 private:
  std::string what_;
  std::function<Result<void>()> probe_;
  int64_t wait_ms_;
  std::mutex mu_;
  bool gave_up_ = false;
};

// What a dead cvbench (owner) left in the engines that run now (any instance name: every
// /run/<name>-docker/docker.sock and /run/<name>-containerd/containerd.sock that answers): Docker
// containers cvb-docker-<rt>-<owner>-<k> and image tags localhost/cvb-bench-<rt>-<owner>:*,
// containerd namespaces cvb-<rt>-<owner> (tasks, containers, images, the namespace) and ctr's
// cgroups /sys/fs/cgroup/*/cvb-<rt>-<owner>. One line per thing removed or not removed.
// An engine that is down holds nothing running; its stopped containers wait for the next reap.
std::vector<std::string> ReapEngineLeftovers(pid_t owner);

// Runs one of the scripts (argv[0] a name under EngineScriptsDir()); its output in the error.
Result<std::string> RunEngineScript(const std::vector<std::string>& argv,
                                    std::chrono::milliseconds timeout);

}  // namespace cvb::launcher
