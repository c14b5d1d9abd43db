// The cgroup v2 device program in the real kernel, as root: a cgroup2 directory made for the test
// (on a hybrid host in /sys/fs/cgroup/unified, which accepts BPF_CGROUP_DEVICE programs whatever
// controllers it holds), the program attached, a forked child moved into the directory, and what
// the child can open checked from the child. The directory and the program are removed after.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "cgroup/bpf_device.h"
#include "cgroup/manager.h"
#include "cvb/common/file.h"
#include "sys/sys.h"

namespace cvb::runtime::cgroup {
namespace {

// A cgroup2 directory that detaches what is attached to it and goes away with the test.
class ScratchCgroup {
 public:
  explicit ScratchCgroup(const std::string& name) {
    auto host = DetectHost(sys::RealSys());
    if (!host.ok() || host->unified_mount.empty()) return;
    path_ = host->unified_mount + "/" + name + "-" + std::to_string(getpid());
    if (::mkdir(path_.c_str(), 0755) != 0) path_.clear();
  }
  ~ScratchCgroup() {
    if (path_.empty()) return;
    auto detached = DetachDevicePrograms(path_);
    EXPECT_TRUE(detached.ok()) << detached.error().message();
    auto left = AttachedDevicePrograms(path_);
    EXPECT_TRUE(left.ok() && left->empty()) << "programs left on " << path_;
    for (int i = 0; i < 500 && ::rmdir(path_.c_str()) != 0 && errno == EBUSY; ++i) usleep(2000);
    EXPECT_FALSE(PathExists(path_)) << path_ << " left behind";
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Forks a child, moves it into dir, and has it open each path with its flags; returns the
// child's errno per open (0: opened).
std::vector<int> OpensFromInside(const std::string& dir,
                                 const std::vector<std::pair<const char*, int>>& opens) {
  int go[2], report[2];
  if (pipe2(go, O_CLOEXEC) != 0 || pipe2(report, O_CLOEXEC) != 0) return {};
  pid_t pid = fork();
  if (pid == 0) {
    char c;
    if (read(go[0], &c, 1) != 1) _exit(2);
    for (const auto& [path, flags] : opens) {
      int fd = ::open(path, flags | O_CLOEXEC);
      int result = fd >= 0 ? 0 : errno;
      if (fd >= 0) ::close(fd);
      if (write(report[1], &result, sizeof result) != sizeof result) _exit(3);
    }
    _exit(0);
  }
  ::close(go[0]);
  ::close(report[1]);
  std::vector<int> results;
  auto moved = sys::RealSys().WriteFile(dir + "/cgroup.procs", std::to_string(pid));
  EXPECT_TRUE(moved.ok()) << moved.error().message();
  if (moved.ok() && write(go[1], "g", 1) == 1) {
    int r;
    while (read(report[0], &r, sizeof r) == sizeof r) results.push_back(r);
  }
  ::close(go[1]);
  ::close(report[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return results;
}

TEST(BpfDeviceProgram, DenyAllAllowNullHoldsForAProcessInTheCgroup) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (bpf(), cgroup2 directories)";
  ScratchCgroup cg("cvrun-it-bpfdev");
  if (cg.path().empty()) GTEST_SKIP() << "no writable cgroup2 mount on this host";
  std::vector<DeviceRule> rules = {DeviceRule{false, "a", {}, {}, "rwm"},
                                   DeviceRule{true, "c", 1, 3, "rwm"}};
  const std::vector<std::pair<const char*, int>> opens = {{"/dev/null", O_RDWR},
                                                          {"/dev/zero", O_RDONLY}};
  // Control: before the program, both open.
  EXPECT_EQ(OpensFromInside(cg.path(), opens), (std::vector<int>{0, 0}));
  auto attached = AttachDeviceProgram(cg.path(), DeviceProgram(rules));
  ASSERT_TRUE(attached.ok()) << attached.error().message();
  auto ids = AttachedDevicePrograms(cg.path());
  ASSERT_TRUE(ids.ok()) << ids.error().message();
  EXPECT_EQ(ids->size(), 1u);
  EXPECT_EQ(OpensFromInside(cg.path(), opens), (std::vector<int>{0, EPERM}));
  // This process is not in the directory: the program does not touch it.
  int zero = ::open("/dev/zero", O_RDONLY | O_CLOEXEC);
  EXPECT_GE(zero, 0);
  if (zero >= 0) ::close(zero);
}

// Each access bit decided on its own, in the kernel too: "deny w" after "allow rwm" on /dev/null
// lets a read-only open through and stops an O_RDWR one.
TEST(BpfDeviceProgram, AccessBitsAreDecidedOneByOne) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (bpf(), cgroup2 directories)";
  ScratchCgroup cg("cvrun-it-bpfbits");
  if (cg.path().empty()) GTEST_SKIP() << "no writable cgroup2 mount on this host";
  std::vector<DeviceRule> rules = {DeviceRule{false, "a", {}, {}, "rwm"},
                                   DeviceRule{true, "c", 1, 3, "rwm"},
                                   DeviceRule{false, "c", 1, 3, "w"}};
  ASSERT_TRUE(AttachDeviceProgram(cg.path(), DeviceProgram(rules)).ok());
  EXPECT_EQ(OpensFromInside(cg.path(), {{"/dev/null", O_RDONLY}, {"/dev/null", O_RDWR}}),
            (std::vector<int>{0, EPERM}));
}

// What cvrun gives the benchmark bundle (deny all + the appended defaults) loads and passes the
// kernel's verifier as it is.
TEST(BpfDeviceProgram, TheBundlesRulesLoad) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (bpf(), cgroup2 directories)";
  ScratchCgroup cg("cvrun-it-bpfload");
  if (cg.path().empty()) GTEST_SKIP() << "no writable cgroup2 mount on this host";
  Device kvm{"c", "/dev/kvm", 10, 232, {}, {}, {}};
  auto rules = DeviceRules({DeviceRule{false, "a", {}, {}, "rwm"}}, {kvm});
  // /dev/kmsg (c 1:11) is not among the default nodes.
  const std::vector<std::pair<const char*, int>> opens = {
      {"/dev/null", O_RDWR}, {"/dev/full", O_RDONLY}, {"/dev/kmsg", O_RDONLY}};
  ASSERT_EQ(OpensFromInside(cg.path(), opens), (std::vector<int>{0, 0, 0}));  // control
  auto attached = AttachDeviceProgram(cg.path(), DeviceProgram(rules));
  ASSERT_TRUE(attached.ok()) << attached.error().message();
  EXPECT_EQ(OpensFromInside(cg.path(), opens), (std::vector<int>{0, 0, EPERM}));
}

}  // namespace
}  // namespace cvb::runtime::cgroup
