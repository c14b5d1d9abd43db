// The launcher interface: every way cvbench runs the workload (a native process, an OCI runtime
// binary, a libvirt domain, a bare QEMU) implements Launcher and Instance, so a suite measures
// them all the same way.
//
// Life of one measurement:
//   launcher->Check()            can this host run it at all? (binary present, daemon up)
//   launcher->Prepare(image)     once per sweep: bundles, initramfs, daemons; not timed
//   inst = launcher->Start(req)  marks "launch" (t0) first, then the launcher's own phases
//   inst->WaitReady(timeout)     marks "ready" when the workload's READY line reaches the host
//   inst->WaitExit(timeout)      marks "exit"; or inst->Stop(timeout) for an idle workload
//   inst->Teardown()             records "teardown_ms" (a duration); the destructor tears down too
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cvb/common/proc.h"
#include "cvb/common/result.h"
#include "cvb/common/subprocess.h"
#include "cvb/image/image.h"
#include "cvb/launcher/timeline.h"
#include "cvb/workload/protocol.h"

namespace cvb::launcher {

// An instance fingerprint: key -> value (fingerprint.h says which keys and how they are read).
using Fingerprint = std::map<std::string, std::string>;

// What to run inside the instance: `cvb-workload <mode> <args...>`.
struct WorkloadRequest {
  std::string mode = "ready";
  std::vector<std::string> args;
  // The instance gets a network the host can reach (veth for containers, tap for VMs; native:
  // the host's loopback, or a veth pair with native_over_veth).
  bool needs_network = false;
  // Native only, with needs_network: the workload runs in a network namespace of its own joined
  // to the host by a veth pair, exactly as a container's, instead of on the host's loopback.
  // "Native over veth" is the network path without containment, so a container's net ratio
  // splits into the path (native veth / native loopback) and containment (container / native
  // veth). Other launchers always use their own path and ignore it.
  bool native_over_veth = false;
  // The instance gets a scratch volume at /data (bind mount for containers, virtio-blk for VMs).
  bool needs_disk = false;
  // Memory limit for the instance (cgroup for containers, guest RAM for VMs); 0 = default.
  uint64_t memory_bytes = 0;
};

// One running (or finished) workload.
class Instance {
 public:
  virtual ~Instance() = default;

  // Waits for the READY line; marks "ready". Fails with ETIMEDOUT, or when the workload exits
  // first (the message carries what it printed).
  virtual Result<void> WaitReady(std::chrono::milliseconds timeout) = 0;
  // Waits for the workload to exit by itself; marks "exit"; RESULT lines are collected.
  virtual Result<ExitStatus> WaitExit(std::chrono::milliseconds timeout) = 0;
  // Asks the workload to stop (SIGTERM to it), waits up to timeout, then kills; marks "exit".
  virtual Result<void> Stop(std::chrono::milliseconds timeout) = 0;
  // Removes what Start made (container state, cgroups, domain, taps); records "teardown_ms".
  // Idempotent. The destructor calls it when it was not called.
  virtual Result<void> Teardown() = 0;

  // Host processes whose memory is the instance's cost (container init + monitor, QEMU, ...).
  virtual std::vector<pid_t> HostPids() = 0;
  // Memory charged to the instance's cgroup, where it has one.
  virtual std::optional<uint64_t> CgroupMemoryBytes() { return std::nullopt; }
  // The kernel part of it (slab, stacks, page tables charged to the cgroup), where the
  // hierarchy reports it (v1 memory.kmem.usage_in_bytes, v2 memory.stat "kernel").
  virtual std::optional<uint64_t> CgroupKmemBytes() { return std::nullopt; }
  // Address on which the host reaches a server inside the instance (net mode), or "".
  virtual std::string NetworkAddress() const { return ""; }
  // What the host sees of the configuration this instance got (fingerprint.h), read while it
  // runs (after READY, before Stop). Not timed: never called inside a measured launch.
  virtual Result<Fingerprint> HostFingerprint() {
    return Fingerprint{{"host_view", "not recorded by this launcher"}};
  }

  const Timeline& timeline() const { return timeline_; }
  Timeline& timeline() { return timeline_; }
  // The READY line's fields (the workload's own clocks) once ready.
  const std::optional<workload::Message>& ready_message() const { return ready_; }
  // RESULT lines in arrival order (and the FINGERPRINT line of the fingerprint mode).
  const std::vector<workload::Message>& results() const { return results_; }
  // Everything else the workload printed (for error messages).
  const std::vector<std::string>& output() const { return output_; }

  MemoryUsage HostMemory() { return ReadProcessesMemory(HostPids()); }

 protected:
  Timeline timeline_;
  std::optional<workload::Message> ready_;
  std::vector<workload::Message> results_;
  std::vector<std::string> output_;
};

// A way of running the workload.
class Launcher {
 public:
  virtual ~Launcher() = default;

  // Name used in benchmark entries ("native", "crun", "libvirt").
  virtual std::string Name() const = 0;
  // "native", "container" or "vm".
  virtual std::string Kind() const = 0;
  // Can this host run it? Errors name what is missing (binary, daemon, device).
  virtual Result<void> Check() = 0;
  // Once per sweep, not timed: builds bundles or boot artefacts from the image, starts daemons.
  virtual Result<void> Prepare(const image::Image& image) = 0;
  // Whether the launcher can run this request here; why not otherwise.
  virtual Result<void> Supports(const WorkloadRequest& request) const {
    (void)request;
    return Ok();
  }
  // Starts one instance. Marks "launch" before doing anything else.
  virtual Result<std::unique_ptr<Instance>> Start(const WorkloadRequest& request) = 0;
  // Conditions and versions that go into the results' context, keys without the launcher prefix
  // (for example {"version": "crun 1.8.1", "condition": "private mount namespace ..."}).
  virtual std::map<std::string, std::string> Conditions() const = 0;
};

// Options every launcher factory receives.
struct LauncherConfig {
  std::string name;          // registry name asked for
  std::string work_dir;      // scratch directory of this sweep (state, per-instance files)
  std::string kernel;        // VM kernel profile: "distro" or "minimal"
  std::map<std::string, std::string> params;  // launcher-specific knobs from the command line
  // <out>/instances/<launcher>: where the launcher records exactly what each runtime got
  // (config.json, QEMU argv, domain XML; artefacts.h); "" records nothing.
  std::string artefacts_dir;
  // Confinement profile of a bundle launcher (image/confinement.h): "docker-default" (the
  // default) or "spec-default"; empty for launchers that confine by their own defaults.
  std::string profile;
};

using LauncherFactory = std::function<Result<std::unique_ptr<Launcher>>(const LauncherConfig&)>;

// Launchers by name. The bench binary registers every built-in family at start-up.
class Registry {
 public:
  // kind: "native", "container" or "vm" as the launcher's Kind() will say; known before any
  // launcher is made, so process-wide conditions can be set up first.
  // dimension: what one launcher is run once per value of, each its own slot: "kernel" (VM
  // kernel profiles: qemu/kernel:distro), "profile" (the bundle's confinement profile:
  // cvrun/profile:spec-default), or "" (one slot).
  void Register(const std::string& name, const std::string& kind, LauncherFactory factory,
                const std::string& dimension = "");
  void Register(const std::string& name, LauncherFactory factory) {
    Register(name, "unknown", std::move(factory));
  }
  bool Has(const std::string& name) const { return factories_.count(name) != 0; }
  std::string KindOf(const std::string& name) const;
  std::string DimensionOf(const std::string& name) const;
  std::vector<std::string> Names() const;
  // Error naming the launcher when it is unknown.
  Result<std::unique_ptr<Launcher>> Make(const LauncherConfig& config) const;

 private:
  std::map<std::string, LauncherFactory> factories_;
  std::map<std::string, std::string> kinds_;
  std::map<std::string, std::string> dimensions_;
};

// native, crun, runc, runsc, cvrun (cvrun is found beside the running executable), and
// podman/runtime:cvrun, podman/runtime:crun (podman.h).
void RegisterProcessLaunchers(Registry& registry);

}  // namespace cvb::launcher
