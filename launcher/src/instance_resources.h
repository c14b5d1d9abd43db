// What a container or native instance gets for the network and disk modes, each an RAII owner so
// that nothing outlives the instance, whichever way it ends (including a failed start).
//   ContainerNetwork: a named network namespace /run/netns/cvb-n<i>-p<owner pid> holding one end
//     of a veth pair (cvb-vc<i>, lo up), the other end cvb-vh<i> on the host; a private /30 from
//     10.213.128.0/17 (the VM taps use 10.213.0.0/18).
//   ScratchDir: a per-instance directory on the host's disk (default /var/tmp/cvbench), the
//     container's /data volume or the native run's CVB_DATA_DIR.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>

#include "cvb/common/result.h"

namespace cvb::launcher {

class ContainerNetwork {
 public:
  ContainerNetwork() = default;
  ContainerNetwork(ContainerNetwork&& o) noexcept;
  ContainerNetwork& operator=(ContainerNetwork&& o) noexcept;
  ContainerNetwork(const ContainerNetwork&) = delete;
  ContainerNetwork& operator=(const ContainerNetwork&) = delete;
  ~ContainerNetwork() { (void)Remove(); }

  // Creates the namespace, the veth pair and the addresses; on any failure removes what it made.
  static Result<ContainerNetwork> Create();
  // Deletes the veth pair and the namespace (its bind mount and file). Idempotent.
  Result<void> Remove();

  bool active() const { return index_ >= 0; }
  std::string netns_name() const;
  std::string netns_path() const { return "/run/netns/" + netns_name(); }
  std::string host_interface() const;
  std::string container_interface() const;
  std::string host_ip() const;
  std::string container_ip() const;

 private:
  int index_ = -1;
  pid_t owner_ = 0;  // the cvbench that made it (leftovers.h)
};

class ScratchDir {
 public:
  ScratchDir() = default;
  ScratchDir(ScratchDir&& o) noexcept
      : path_(std::move(o.path_)), base_(std::move(o.base_)), overlay_(o.overlay_) {
    o.path_.clear();
    o.base_.clear();
    o.overlay_ = false;
  }
  ScratchDir& operator=(ScratchDir&& o) noexcept;
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir() { (void)Remove(); }

  // <root>/<name>, created empty (mode 0700).
  static Result<ScratchDir> Create(const std::string& root, const std::string& name);
  // <root>/<name>/merged: an overlayfs over an empty lower directory with its upper and work
  // directories beside it on the host disk - what an engine's writable container layer is. The
  // mount lives in this process's mount namespace, which the runtimes share.
  static Result<ScratchDir> CreateOverlay(const std::string& root, const std::string& name);
  Result<void> Remove();
  // The directory the workload writes in.
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::string base_;  // what Remove() deletes
  bool overlay_ = false;
};

// Everything an instance owns for network and disk; released after the runtime's delete.
struct InstanceResources {
  ContainerNetwork net;
  ScratchDir disk;
  // Removes both, reporting the first error.
  Result<void> Release() {
    auto n = net.Remove();
    auto d = disk.Remove();
    return n ? d : n;
  }
};

// The launchers' scratch root for disk measurements: --param scratch_dir=DIR, default
// /var/tmp/cvbench (a disk filesystem on Debian, unlike /run and often /tmp).
std::string ScratchRoot(const std::map<std::string, std::string>& params);

}  // namespace cvb::launcher
