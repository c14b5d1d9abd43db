// A cgroup mount as the container sees it (cgroup_mount.h): its own cgroup directories, bound
// under a tmpfs on v1 and hybrid hosts, read-only when the mount is, never the host's tree.
#include <gtest/gtest.h>
#include <linux/mount.h>
#include <sys/mount.h>

#include "cgroup/manager.h"
#include "cgroup_mount.h"
#include "cvb/runtime/spec.h"
#include "mounts.h"

namespace cvb::runtime {
namespace {

// This host: separate cpu and cpuacct, blkio, a cgroup2 mount with no controllers.
const char kHybrid[] =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "37 31 0:34 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
// cpu and cpuacct co-mounted, as on most systemd hosts.
const char kComounted[] =
    "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n";
const char kV2[] = "30 23 0:27 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw\n";

std::vector<PlannedMount> Plan(const char* mountinfo, const std::vector<std::string>& leaves,
                               std::vector<std::string> options = {"nosuid", "noexec", "nodev",
                                                                   "relatime", "ro"},
                               bool cgroup_ns = false) {
  Spec spec;
  spec.mounts = {{"/proc", "proc", "proc", {}},
                 {"/sys/fs/cgroup", "cgroup", "cgroup", std::move(options)}};
  auto planned = PlanMounts(spec);
  EXPECT_TRUE(planned.ok());
  cgroup::Host host = cgroup::ParseHost(mountinfo, "0::/\n");
  ExpandCgroupMounts(*planned, host, leaves, cgroup_ns);
  return *planned;
}

// "kind source -> destination" lines, with the flags and attributes that matter here.
std::vector<std::string> Describe(const std::vector<PlannedMount>& planned) {
  std::vector<std::string> out;
  for (const auto& m : planned) {
    std::string line = m.kind == kMountSymlink    ? "symlink "
                       : m.kind == kMountReadOnly ? "readonly "
                       : m.options.bind           ? "bind "
                                                  : "mount " + m.fstype + " ";
    line += m.source + " -> " + m.destination;
    if (m.options.bind && (m.options.attr_set & MOUNT_ATTR_RDONLY)) line += " ro";
    if (m.options.bind && m.options.recursive) line += " rec";
    if (!m.options.bind && m.kind == kMountFs && (m.options.flags & MS_RDONLY)) line += " ro";
    out.push_back(line);
  }
  return out;
}

TEST(CgroupMount, HybridHostBindsTheContainersOwnV1DirectoriesReadOnly) {
  auto planned = Plan(kHybrid, {"/sys/fs/cgroup/memory/process_api/abc/cvrun-x",
                                "/sys/fs/cgroup/pids/cvrun-x", "/sys/fs/cgroup/cpu/cvrun-x",
                                "/sys/fs/cgroup/cpuacct/cvrun-x", "/sys/fs/cgroup/unified/cvrun-x"});
  EXPECT_EQ(Describe(planned),
            (std::vector<std::string>{
                "mount proc proc -> /proc",
                "mount tmpfs cgroup -> /sys/fs/cgroup",  // writable until the binds are in
                "bind /sys/fs/cgroup/cpu/cvrun-x -> /sys/fs/cgroup/cpu ro rec",
                "bind /sys/fs/cgroup/cpuacct/cvrun-x -> /sys/fs/cgroup/cpuacct ro rec",
                "bind /sys/fs/cgroup/memory/process_api/abc/cvrun-x -> /sys/fs/cgroup/memory ro rec",
                "bind /sys/fs/cgroup/pids/cvrun-x -> /sys/fs/cgroup/pids ro rec",
                "readonly cgroup -> /sys/fs/cgroup",
            }));
  // No blkio (no directory of the container's: only the host's tree there), no unified.
  const PlannedMount& tmpfs = planned[1];
  EXPECT_EQ(tmpfs.data, "mode=755");
  EXPECT_EQ(tmpfs.options.flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC),
            static_cast<unsigned long>(MS_NOSUID | MS_NODEV | MS_NOEXEC));
  for (const auto& m : planned) EXPECT_EQ(m.spec_index, &m == &planned[0] ? 0u : 1u);
  EXPECT_EQ(planned[2].options.attr_set & (MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC),
            static_cast<uint64_t>(MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC));
}

TEST(CgroupMount, CoMountedControllersGetSymlinks) {
  auto planned = Plan(kComounted, {"/sys/fs/cgroup/cpu,cpuacct/c", "/sys/fs/cgroup/memory/c"});
  EXPECT_EQ(Describe(planned),
            (std::vector<std::string>{
                "mount proc proc -> /proc",
                "mount tmpfs cgroup -> /sys/fs/cgroup",
                "bind /sys/fs/cgroup/cpu,cpuacct/c -> /sys/fs/cgroup/cpu,cpuacct ro rec",
                "symlink cpu,cpuacct -> /sys/fs/cgroup/cpu",
                "symlink cpu,cpuacct -> /sys/fs/cgroup/cpuacct",
                "bind /sys/fs/cgroup/memory/c -> /sys/fs/cgroup/memory ro rec",
                "readonly cgroup -> /sys/fs/cgroup",
            }));
}

// A read-write cgroup mount (docker run --privileged): writable binds, no read-only seal.
TEST(CgroupMount, ReadWriteWhenTheMountSaysSo) {
  auto planned = Plan(kComounted, {"/sys/fs/cgroup/memory/c"}, {"nosuid", "noexec", "nodev"});
  EXPECT_EQ(Describe(planned), (std::vector<std::string>{
                                   "mount proc proc -> /proc",
                                   "mount tmpfs cgroup -> /sys/fs/cgroup",
                                   "bind /sys/fs/cgroup/memory/c -> /sys/fs/cgroup/memory rec",
                               }));
}

TEST(CgroupMount, V2WithoutACgroupNamespaceBindsTheContainersDirectory) {
  auto planned = Plan(kV2, {"/sys/fs/cgroup/user.slice/cvrun-x"});
  EXPECT_EQ(Describe(planned),
            (std::vector<std::string>{
                "mount proc proc -> /proc",
                "bind /sys/fs/cgroup/user.slice/cvrun-x -> /sys/fs/cgroup ro rec",
            }));
}

TEST(CgroupMount, V2WithACgroupNamespaceMountsCgroup2) {
  auto planned = Plan(kV2, {"/sys/fs/cgroup/cvrun-x"}, {"ro"}, /*cgroup_ns=*/true);
  EXPECT_EQ(Describe(planned), (std::vector<std::string>{
                                   "mount proc proc -> /proc",
                                   "mount cgroup2 cgroup2 -> /sys/fs/cgroup ro",
                               }));
}

}  // namespace
}  // namespace cvb::runtime
