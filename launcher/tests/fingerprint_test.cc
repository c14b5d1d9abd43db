// The host view of the fingerprint against a fake /proc and /sys/fs/cgroup tree in a temp dir,
// then the real process (whose namespaces are all "host" when compared with itself).
#include "cvb/launcher/fingerprint.h"

#include <gtest/gtest.h>
#include <net/if.h>
#include <unistd.h>

#include "cvb/common/file.h"

namespace cvb::launcher {
namespace {

class FakeProcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cvb-fingerprint-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    src_.proc_root = root_ + "/proc";
    src_.cgroup_root = root_ + "/cgroup";
    src_.reference = "1";
    src_.interface_flags =
        [this](pid_t pid,
               const std::vector<std::string>& names) -> Result<std::map<std::string, unsigned>> {
      asked_pid_ = pid;
      asked_names_ = names;
      return std::map<std::string, unsigned>{{"lo", IFF_UP | IFF_LOOPBACK | IFF_RUNNING},
                                             {"eth0", 0}};
    };
    src_.device_programs = [this](const std::string& dir) -> Result<uint32_t> {
      asked_dir_ = dir;
      return 1u;
    };
    // The reference process (cvbench): host namespaces, the host's cgroups.
    Ns("1", {{"net", "net:[4026531992]"},
             {"user", "user:[4026531837]"},
             {"pid", "pid:[4026531836]"},
             {"mnt", "mnt:[4026531841]"}});
    File("proc/1/status", "Name:\tcvbench\n");
    File("proc/1/cgroup", "7:devices:/\n6:memory:/process_api/1\n4:cpu,cpuacct:/\n0::/\n");
    // The instance: own net, pid, mnt namespaces; the host's user namespace.
    Ns("42", {{"net", "net:[4026532500]"},
              {"user", "user:[4026531837]"},
              {"pid", "pid:[4026532501]"},
              {"mnt", "mnt:[4026532502]"}});
    File("proc/42/status",
         "Name:\tcvb-workload\nNoNewPrivs:\t1\nSeccomp:\t2\nSeccomp_filters:\t1\n"
         "CapEff:\t00000000a80425fb\nCapBnd:\t00000000a80425fb\n");
    File("proc/42/limits",
         "Limit                     Soft Limit           Hard Limit           Units     \n"
         "Max open files            1024                 1024                 files     \n");
    File("proc/42/mountinfo",
         "1 0 0:1 / / rw - overlay x rw\n2 1 0:2 / /proc rw - proc p rw\n"
         "3 1 0:3 / /dev rw - tmpfs t rw\n");
    File("proc/42/uid_map", "         0          0 4294967295\n");
    File("proc/42/gid_map", "         0          0 4294967295\n");
    File("proc/42/net/dev",
         "Inter-|   Receive\n face |bytes    packets\n    lo: 0 0\n  eth0: 0 0\n");
    File("cgroup/memory/cvb-crun-1/memory.limit_in_bytes", "1073741824\n");
    File("cgroup/devices/cvb-crun-1/devices.list", "c 1:3 rwm\nc *:* m\nb *:* m\n");
    File("cgroup/cpu,cpuacct/cpu.shares", "1024\n");
    File("cgroup/cpu,cpuacct/cpu.cfs_quota_us", "-1\n");
    File("cgroup/pids/cgroup.procs", "");
    File("proc/42/cgroup",
         "7:devices:/cvb-crun-1\n6:memory:/cvb-crun-1\n4:cpu,cpuacct:/\n3:pids:/\n"
         "0::/cvb-crun-1\n");
  }
  void TearDown() override { ASSERT_TRUE(RemoveTree(root_)); }

  void File(const std::string& rel, const std::string& text) {
    std::string path = root_ + "/" + rel;
    ASSERT_TRUE(MakeDirs(path.substr(0, path.rfind('/'))));
    ASSERT_TRUE(WriteFile(path, text));
  }
  void Ns(const std::string& pid, const std::map<std::string, std::string>& links) {
    std::string dir = root_ + "/proc/" + pid + "/ns";
    ASSERT_TRUE(MakeDirs(dir));
    for (const auto& [type, target] : links)
      ASSERT_EQ(::symlink(target.c_str(), (dir + "/" + type).c_str()), 0);
  }

  std::string root_;
  ProcFingerprintSources src_;
  pid_t asked_pid_ = 0;
  std::vector<std::string> asked_names_;
  std::string asked_dir_;
};

TEST_F(FakeProcTest, ReadsEveryFieldOfTheHostView) {
  auto fp = ReadProcessFingerprint(42, src_);
  ASSERT_TRUE(fp) << fp.error().message();
  Fingerprint& f = *fp;
  EXPECT_EQ(f["ns.net"], "own");
  EXPECT_EQ(f["ns.pid"], "own");
  EXPECT_EQ(f["ns.mnt"], "own");
  EXPECT_EQ(f["ns.user"], "host");
  EXPECT_EQ(f.count("ns.uts"), 0u) << "a namespace type the kernel lacks is left out";
  EXPECT_EQ(f["cap.eff"], "00000000a80425fb");
  EXPECT_EQ(f["cap.bnd"], "00000000a80425fb");
  EXPECT_EQ(f["no_new_privs"], "1");
  EXPECT_EQ(f["seccomp"], "2 (filter)");
  EXPECT_EQ(f["seccomp_filters"], "1");
  EXPECT_EQ(f["rlimit.open_files"], "1024/1024");
  EXPECT_EQ(f["mounts"], "3");
  EXPECT_EQ(f["uid_map"], "0 0 4294967295");
  EXPECT_EQ(f["gid_map"], "0 0 4294967295");
  EXPECT_EQ(f["cgroup.devices"], "own");
  EXPECT_EQ(f["cgroup.memory"], "own");
  EXPECT_EQ(f["cgroup.cpu,cpuacct"], "host");
  EXPECT_EQ(f["cgroup.unified"], "own");
  EXPECT_EQ(f["limit.memory"], "1073741824");
  EXPECT_EQ(f["limit.cpu_shares"], "1024");
  EXPECT_EQ(f["limit.cpu_quota_us"], "-1");
  EXPECT_EQ(f["limit.pids"], "max (root cgroup)");
  EXPECT_EQ(f["devices.list"], "b *:* m;c *:* m;c 1:3 rwm");
  EXPECT_EQ(f.count("devices.v2_programs"), 0u) << "no cgroup2 mount in this tree";
  EXPECT_EQ(f["net.interfaces"], "lo,eth0");
  EXPECT_EQ(f["net.lo"], "up");
  EXPECT_EQ(f["net.eth0"], "down");
  EXPECT_EQ(asked_pid_, 42);
  EXPECT_EQ(asked_names_, (std::vector<std::string>{"lo", "eth0"}));
}

TEST_F(FakeProcTest, MissingFilesAreRecordedAsUnreadableNotDropped) {
  ASSERT_TRUE(RemoveTree(root_ + "/proc/42/limits"));
  ASSERT_TRUE(RemoveTree(root_ + "/proc/42/uid_map"));
  ASSERT_TRUE(RemoveTree(root_ + "/cgroup/devices"));
  File("proc/42/status", "Name:\tx\nSeccomp:\t0\n");
  src_.interface_flags =
      [](pid_t, const std::vector<std::string>&) -> Result<std::map<std::string, unsigned>> {
    return Error{EPERM, "setns"};
  };
  auto fp = ReadProcessFingerprint(42, src_);
  ASSERT_TRUE(fp) << fp.error().message();
  Fingerprint& f = *fp;
  EXPECT_EQ(f["rlimit"].rfind("unreadable: ", 0), 0u) << f["rlimit"];
  EXPECT_EQ(f["uid_map"].rfind("unreadable: ", 0), 0u) << f["uid_map"];
  EXPECT_EQ(f["cap.eff"].rfind("unreadable: ", 0), 0u) << f["cap.eff"];
  EXPECT_EQ(f["seccomp"], "0 (disabled)");
  EXPECT_EQ(f["net.lo"].rfind("unreadable: ", 0), 0u) << f["net.lo"];
  EXPECT_NE(f["devices.list"].find("no devices hierarchy mounted"), std::string::npos)
      << f["devices.list"];
  EXPECT_EQ(f["cgroup.devices"], "own");
}

TEST_F(FakeProcTest, PureV2HostReadsTheOneHierarchyAndTheDeviceProgram) {
  File("proc/1/cgroup", "0::/\n");
  File("proc/42/cgroup", "0::/cvb-crun-1\n");
  File("cgroup/cvb-crun-1/memory.max", "max\n");
  File("cgroup/cvb-crun-1/pids.max", "4096\n");
  auto fp = ReadProcessFingerprint(42, src_);
  ASSERT_TRUE(fp) << fp.error().message();
  Fingerprint& f = *fp;
  EXPECT_EQ(f["cgroup.unified"], "own");
  EXPECT_EQ(f["limit.memory"], "max");
  EXPECT_EQ(f["limit.pids"], "4096");
  EXPECT_EQ(f["limit.cpu_quota_us"].rfind("unreadable: ", 0), 0u);
  EXPECT_EQ(f["devices.v2_programs"], "1");
  EXPECT_EQ(asked_dir_, root_ + "/cgroup/cvb-crun-1");
  EXPECT_EQ(f.count("devices.list"), 0u);
}

// A hybrid host: the v1 rules, and the programs on the instance's cgroup2 directory (the kernel
// runs those too), so a runtime that attaches one there is seen.
TEST_F(FakeProcTest, HybridHostReadsV1RulesAndTheUnifiedDirectorysPrograms) {
  ASSERT_TRUE(MakeDirs(root_ + "/cgroup/unified/cvb-crun-1"));
  auto fp = ReadProcessFingerprint(42, src_);
  ASSERT_TRUE(fp) << fp.error().message();
  Fingerprint& f = *fp;
  EXPECT_EQ(f["devices.list"], "b *:* m;c *:* m;c 1:3 rwm");
  EXPECT_EQ(f["devices.v2_programs"], "1");
  EXPECT_EQ(asked_dir_, root_ + "/cgroup/unified/cvb-crun-1");
}

TEST_F(FakeProcTest, AProcessThatIsGoneIsAnError) {
  auto fp = ReadProcessFingerprint(43, src_);
  ASSERT_FALSE(fp);
  EXPECT_NE(fp.error().message().find("43"), std::string::npos) << fp.error().message();
}

TEST(FingerprintTest, SelfReportIsPrefixed) {
  Fingerprint fp{{"ns.net", "own"}};
  std::vector<workload::Message> msgs{{"RESULT", {{"x", "1"}}},
                                      {"FINGERPRINT", {{"cap_eff", "0"}, {"net", "lo:up"}}}};
  EXPECT_TRUE(AddSelfReport(msgs, fp));
  EXPECT_EQ(fp["self.cap_eff"], "0");
  EXPECT_EQ(fp["self.net"], "lo:up");
  EXPECT_EQ(fp.count("self.x"), 0u);
  Fingerprint none;
  EXPECT_FALSE(AddSelfReport({{"RESULT", {{"x", "1"}}}}, none));
  EXPECT_TRUE(none.empty());
}

// The real /proc: this process compared with itself shares every namespace and cgroup.
TEST(FingerprintTest, OwnProcessIsHostEverywhere) {
  auto fp = ReadProcessFingerprint(::getpid());
  ASSERT_TRUE(fp) << fp.error().message();
  for (const auto& [k, v] : *fp) {
    if (k.rfind("ns.", 0) == 0 || k.rfind("cgroup.", 0) == 0) {
      EXPECT_EQ(v, "host") << k;
    }
  }
  EXPECT_EQ((*fp)["ns.net"], "host");
  EXPECT_NE((*fp)["mounts"], "0");
  EXPECT_NE((*fp)["net.interfaces"].find("lo"), std::string::npos);
  // Reading interface flags joins our own network namespace in a thread: lo is there.
  auto flags = InterfaceFlagsInNetns(::getpid(), {"lo"});
  if (::geteuid() != 0) GTEST_SKIP() << "setns needs root";
  ASSERT_TRUE(flags) << flags.error().message();
  EXPECT_TRUE(flags->count("lo"));
}

TEST(FingerprintTest, DeviceProgramsRefuseANonCgroup2Directory) {
  auto n = CgroupV2DevicePrograms("/tmp");
  ASSERT_FALSE(n);
  EXPECT_NE(n.error().message().find("not on cgroup2"), std::string::npos) << n.error().message();
}

}  // namespace
}  // namespace cvb::launcher
