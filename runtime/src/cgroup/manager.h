// Cgroup management behind one small interface. Three managers:
//   V1     one directory per needed v1 hierarchy (memory, pids, devices, freezer, cpu, cpuacct
//          always; cpuset, blkio, net_cls, net_prio, hugetlb when the config sets them; co-mounted
//          controllers share one directory), the process joins by writing cgroup.procs after clone.
//   V2     one directory in the unified hierarchy, controllers enabled in the ancestors'
//          cgroup.subtree_control, the process joins at clone time (clone3 CLONE_INTO_CGROUP).
//   Hybrid limits through V1; a controller-less unified directory joined at clone time gives
//          cgroup.kill and a single place to list the container's processes.
// All file access goes through sys::Sys so that tests can check the plan with FakeSys.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cvb/common/result.h"
#include "cvb/runtime/spec.h"
#include "sys/sys.h"

namespace cvb::runtime::cgroup {

struct V1Hierarchy {
  std::string mount;                     // /sys/fs/cgroup/memory
  std::string root;                      // mountinfo's root field (cgroup namespaces)
  std::vector<std::string> controllers;  // {"cpu", "cpuacct"}
  std::string self;                      // our own cgroup in it, from /proc/self/cgroup
};

struct Host {
  enum class Mode { kNone, kV1, kV2, kHybrid } mode = Mode::kNone;
  std::string unified_mount;  // where cgroup2 is mounted, "" when it is not
  std::string unified_root;
  std::string unified_self;   // "0::" line of /proc/self/cgroup
  std::vector<V1Hierarchy> v1;

  const V1Hierarchy* FindV1(const std::string& controller) const;
};

const char* ModeName(Host::Mode mode);
// Pure: from the text of /proc/self/mountinfo and /proc/self/cgroup.
Host ParseHost(const std::string& mountinfo, const std::string& proc_self_cgroup);
Result<Host> DetectHost(sys::Sys& sys);

// Joins mount + (relative? caller's cgroup (minus the mount's root) : "") + path, normalised.
std::string ResolvePath(const std::string& mount, const std::string& mount_root,
                        const std::string& self, const std::string& cgroups_path);
// The cgroupsPath a container gets when the spec has none.
std::string DefaultCgroupsPath(const std::string& id);

class Manager {
 public:
  virtual ~Manager() = default;
  // Makes the directories (remembering which it made) and writes the limits.
  virtual Result<void> Create(const Resources& resources) = 0;
  // A cgroup2 directory fd for clone3(CLONE_INTO_CGROUP), or -1.
  virtual int CloneIntoFd() const = 0;
  // Moves pid into every directory that CloneIntoFd did not cover.
  virtual Result<void> AddProcess(pid_t pid) = 0;
  // `cvrun update`: writes the limits into the directories the container already has (a manager
  // from OpenManager). A field whose controller the container was not created with, or that
  // cannot change on a live container, is refused naming the field.
  virtual Result<void> Update(const Resources& resources) = 0;

  // Leaf directories (one per hierarchy), and every directory made, in creation order; both
  // go into the state file so that delete needs no manager.
  const std::vector<std::string>& leaves() const { return leaves_; }
  const std::vector<std::string>& created() const { return created_; }

 protected:
  // mkdir -p that records what it made; on_create runs after each new directory.
  Result<void> MakePath(sys::Sys& sys, const std::string& mount, const std::string& path,
                        const std::function<Result<void>(const std::string&)>& on_create = {});

  std::vector<std::string> leaves_;
  std::vector<std::string> created_;
};

std::unique_ptr<Manager> MakeV1(sys::Sys& sys, const Host& host, const std::string& cgroups_path);
std::unique_ptr<Manager> MakeV2(sys::Sys& sys, const Host& host, const std::string& cgroups_path,
                                bool apply_limits = true);
std::unique_ptr<Manager> MakeHybrid(sys::Sys& sys, const Host& host,
                                    const std::string& cgroups_path);
// The manager for this host's mode.
Result<std::unique_ptr<Manager>> MakeManager(sys::Sys& sys, const Host& host,
                                             const std::string& cgroups_path);

// The manager of an existing container, from the leaves in its state file (no directory is made).
std::unique_ptr<Manager> OpenV1(sys::Sys& sys, const Host& host,
                                const std::vector<std::string>& leaves);
std::unique_ptr<Manager> OpenV2(sys::Sys& sys, const Host& host,
                                const std::vector<std::string>& leaves);
Result<std::unique_ptr<Manager>> OpenManager(sys::Sys& sys, const Host& host,
                                             const std::vector<std::string>& leaves);

// Operations on a container's cgroups after create, from the leaves in its state file.
// Processes in any leaf, deduplicated.
std::vector<pid_t> Pids(sys::Sys& sys, const std::vector<std::string>& leaves);
// Sends sig to every process (cgroup.kill for SIGKILL where there is one).
void KillAll(sys::Sys& sys, const std::vector<std::string>& leaves, int sig);
// Removes the made directories, deepest first, waiting (up to timeout_ms) for dying processes
// to leave. Missing directories are fine (idempotent); a parent directory that other cgroups
// now live in is left to them.
Result<void> Remove(sys::Sys& sys, const std::vector<std::string>& created, int timeout_ms = 2000);

// The device rules a container's cgroup gets: the spec's linux.resources.devices in order, then
// (when there are any) the nodes cvrun itself makes in /dev and "m" for every c/b device (as runc
// and crun append them), then linux.devices (the config asked for those nodes).
std::vector<DeviceRule> DeviceRules(const std::vector<DeviceRule>& spec_rules,
                                    const std::vector<Device>& linux_devices);
// "c 10:232 rw", "a *:* rwm": the v1 devices.allow / devices.deny line.
std::string DeviceRuleLine(const DeviceRule& rule);

// v2 conversions, exposed for tests.
uint64_t SharesToWeight(uint64_t shares);

}  // namespace cvb::runtime::cgroup
