// Mount planning (parent side, unit-testable): spec mounts → flags, data, propagation and the
// attributes to set after a bind; the child (child.cc) only executes the plan.
#pragma once

#include <string>
#include <vector>

#include "child.h"
#include "cvb/common/result.h"
#include "cvb/runtime/spec.h"

namespace cvb::runtime {

struct MountOptions {
  unsigned long flags = 0;        // MS_* for mount(2)
  unsigned long propagation = 0;  // MS_PRIVATE|MS_REC ...
  uint64_t attr_set = 0;          // MOUNT_ATTR_* to set on a bind mount afterwards
  uint64_t attr_clr = 0;          // ... and to clear (MOUNT_ATTR__ATIME when atime is set)
  uint64_t rec_attr_set = 0;      // rro, rnosuid ...: set with AT_RECURSIVE after any mount
  uint64_t rec_attr_clr = 0;
  std::vector<std::string> unsupported;  // options cvrun refuses (idmap, ridmap)
  std::string data;               // the rest, comma-joined (mode=755,size=65536k)
  bool bind = false;
  bool recursive = false;
};

// Splits OCI mount options into flags, propagation and filesystem data.
MountOptions ParseMountOptions(const std::vector<std::string>& options);

// How ParseMountOptions treats one option: applied (a flag, propagation, recursive attribute,
// atime mode or bind), ignored (engine options that change nothing here), refused, or passed
// to the filesystem as data.
enum class MountOptionKind { kApplied, kIgnored, kRefused, kData };
MountOptionKind ClassifyMountOption(const std::string& option);
// Every option of the applied kind, from the tables ParseMountOptions reads (features lists it).
std::vector<std::string> AppliedMountOptions();

struct PlannedMount {
  int32_t kind = kMountFs;  // ChildMountKind
  size_t spec_index = 0;    // the spec's mounts[i] this comes from (errors name it)
  bool cgroup = false;      // a "cgroup" mount: ExpandCgroupMounts (cgroup_mount.h) plans it
  std::string source;
  std::string fstype;
  std::string data;
  std::string destination;  // as in the spec, cleaned
  std::string dest_rel;     // relative to the rootfs
  MountOptions options;
  bool source_is_dir = true;
  bool dev_tmpfs = false;
};

// "/a//b/./c/" → "a/b/c". ".." components are kept: they are resolved inside the rootfs by
// openat2(RESOLVE_IN_ROOT) and cannot climb out of it.
std::string RelativeInRoot(const std::string& path);

// Plans every spec mount; checks bind sources exist (errors name mounts[i].source). A "cgroup"
// (or "cgroup2") mount stays a placeholder (`cgroup`) until the container's cgroups exist:
// ExpandCgroupMounts (cgroup_mount.h) replaces it.
Result<std::vector<PlannedMount>> PlanMounts(const Spec& spec);

// Points the child's array at the planned strings (which must outlive it).
std::vector<ChildMount> ToChildMounts(const std::vector<PlannedMount>& planned);

// The standard devices of a default /dev plus linux.devices.
struct PlannedDevice {
  std::string name;  // under /dev
  std::string dir_rel;  // "dev" or "dev/<subdir>": resolved in the rootfs (RESOLVE_IN_ROOT)
  std::string base;     // the node's name in dir_rel
  mode_t mode;
  dev_t dev;
  uid_t uid;
  gid_t gid;
  std::string host_path;
};
std::vector<PlannedDevice> PlanDevices(const Spec& spec);

}  // namespace cvb::runtime
