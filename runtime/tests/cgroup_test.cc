// Cgroup planning through FakeSys: which directories, which files and values, in which order.
#include <signal.h>

#include <gtest/gtest.h>

#include <cstring>

#include "cgroup/bpf_device.h"
#include "cgroup/manager.h"
#include "sys/sys.h"

namespace cvb::runtime::cgroup {
namespace {

const char kHybridMountinfo[] =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
const char kSelfCgroup[] =
    "9:name=systemd:/\n8:pids:/\n4:memory:/process_api/abc\n3:cpuset:/\n1:cpu:/\n0::/\n";
const char kV2Mountinfo[] = "30 23 0:27 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw\n";

TEST(CgroupHost, ParsesHybrid) {
  Host h = ParseHost(kHybridMountinfo, kSelfCgroup);
  EXPECT_EQ(h.mode, Host::Mode::kHybrid);
  EXPECT_EQ(h.unified_mount, "/sys/fs/cgroup/unified");
  ASSERT_NE(h.FindV1("memory"), nullptr);
  EXPECT_EQ(h.FindV1("memory")->self, "/process_api/abc");
  EXPECT_EQ(h.FindV1("cpu")->mount, "/sys/fs/cgroup/cpu");
  EXPECT_EQ(h.FindV1("systemd"), nullptr);
}

TEST(CgroupHost, ParsesV1WhenUnifiedIsUnmounted) {
  std::string mi = kHybridMountinfo;
  mi = mi.substr(0, mi.find("41 31"));
  EXPECT_EQ(ParseHost(mi, kSelfCgroup).mode, Host::Mode::kV1);
}

TEST(CgroupHost, ParsesV2) {
  Host h = ParseHost(kV2Mountinfo, "0::/user.slice/me\n");
  EXPECT_EQ(h.mode, Host::Mode::kV2);
  EXPECT_EQ(h.unified_mount, "/sys/fs/cgroup");
  EXPECT_EQ(h.unified_self, "/user.slice/me");
}

TEST(CgroupPath, RelativeNestsUnderTheCallerAbsoluteDoesNot) {
  EXPECT_EQ(ResolvePath("/sys/fs/cgroup/memory", "/", "/process_api/abc", "cvrun-x"),
            "/sys/fs/cgroup/memory/process_api/abc/cvrun-x");
  EXPECT_EQ(ResolvePath("/sys/fs/cgroup/memory", "/", "/process_api/abc", "/cvb/x"),
            "/sys/fs/cgroup/memory/cvb/x");
  EXPECT_EQ(ResolvePath("/sys/fs/cgroup", "/", "/", "../../etc/x"), "/sys/fs/cgroup/etc/x");
  EXPECT_EQ(ResolvePath("/sys/fs/cgroup", "/ns", "/ns/a", "b"), "/sys/fs/cgroup/a/b");
}

void AddV1Tree(sys::FakeSys& fs) {
  for (const char* c : {"cpu", "cpuacct", "cpuset", "memory", "pids"})
    fs.AddDir(std::string("/sys/fs/cgroup/") + c);
  fs.AddDir("/sys/fs/cgroup/memory/process_api/abc");
  fs.AddDir("/sys/fs/cgroup/unified");
  fs.AddFile("/sys/fs/cgroup/cpuset/cpuset.cpus", "0-1\n");
  fs.AddFile("/sys/fs/cgroup/cpuset/cpuset.mems", "0\n");
}

TEST(CgroupV1, MakesMemoryAndPidsAndWritesLimits) {
  sys::FakeSys fs;
  AddV1Tree(fs);
  std::string mi = kHybridMountinfo;
  Host host = ParseHost(mi.substr(0, mi.find("41 31")), kSelfCgroup);
  auto m = MakeV1(fs, host, "cvrun-x");
  Resources res;
  res.memory = MemoryResources{};
  res.memory->limit = 67108864;
  res.pids_limit = 32;
  ASSERT_TRUE(m->Create(res).ok());
  // memory, pids, cpu and cpuacct always (devices and freezer are not mounted in this tree).
  EXPECT_EQ(
      fs.calls,
      (std::vector<std::string>{
          "mkdir /sys/fs/cgroup/memory/process_api/abc/cvrun-x",
          "mkdir /sys/fs/cgroup/pids/cvrun-x",
          "mkdir /sys/fs/cgroup/cpu/cvrun-x",
          "mkdir /sys/fs/cgroup/cpuacct/cvrun-x",
          "write /sys/fs/cgroup/memory/process_api/abc/cvrun-x/memory.limit_in_bytes 67108864",
          "write /sys/fs/cgroup/pids/cvrun-x/pids.max 32",
      }));
  EXPECT_EQ(m->CloneIntoFd(), -1);
  fs.calls.clear();
  ASSERT_TRUE(m->AddProcess(42).ok());
  EXPECT_EQ(fs.calls, (std::vector<std::string>{
                          "write /sys/fs/cgroup/memory/process_api/abc/cvrun-x/cgroup.procs 42",
                          "write /sys/fs/cgroup/pids/cvrun-x/cgroup.procs 42",
                          "write /sys/fs/cgroup/cpu/cvrun-x/cgroup.procs 42",
                          "write /sys/fs/cgroup/cpuacct/cvrun-x/cgroup.procs 42"}));
  ASSERT_TRUE(Remove(fs, m->created()).ok());
  EXPECT_FALSE(fs.Exists("/sys/fs/cgroup/pids/cvrun-x"));
  EXPECT_FALSE(fs.Exists("/sys/fs/cgroup/memory/process_api/abc/cvrun-x"));
  EXPECT_TRUE(fs.Exists("/sys/fs/cgroup/memory/process_api/abc"));
}

TEST(CgroupV1, CpusetInheritsItsParentsCpusBeforeLimits) {
  sys::FakeSys fs;
  AddV1Tree(fs);
  Host host = ParseHost(kHybridMountinfo, kSelfCgroup);
  auto m = MakeV1(fs, host, "/cvb/y");
  Resources res;
  res.cpu = CpuResources{};
  res.cpu->cpus = "1";
  res.cpu->shares = 512;
  res.cpu->quota = 50000;
  res.cpu->period = 100000;
  ASSERT_TRUE(m->Create(res).ok()) << m->Create(res).error().message();
  auto has = [&](const std::string& call) {
    return std::find(fs.calls.begin(), fs.calls.end(), call) != fs.calls.end();
  };
  EXPECT_TRUE(has("write /sys/fs/cgroup/cpuset/cvb/cpuset.cpus 0-1"));
  EXPECT_TRUE(has("write /sys/fs/cgroup/cpuset/cvb/y/cpuset.cpus 0-1"));
  EXPECT_TRUE(has("write /sys/fs/cgroup/cpuset/cvb/y/cpuset.cpus 1"));
  EXPECT_TRUE(has("write /sys/fs/cgroup/cpu/cvb/y/cpu.shares 512"));
  EXPECT_TRUE(has("write /sys/fs/cgroup/cpu/cvb/y/cpu.cfs_quota_us 50000"));
  // Both levels were made by us, deepest removed first.
  EXPECT_EQ(m->created().front(), "/sys/fs/cgroup/memory/cvb");
  ASSERT_TRUE(Remove(fs, m->created()).ok());
  EXPECT_FALSE(fs.Exists("/sys/fs/cgroup/cpuset/cvb"));
}

TEST(CgroupV1, MissingControllerIsAnError) {
  sys::FakeSys fs;
  AddV1Tree(fs);
  Host host = ParseHost(kHybridMountinfo, kSelfCgroup);
  host.v1.erase(std::remove_if(host.v1.begin(), host.v1.end(),
                               [](const V1Hierarchy& h) { return h.mount == "/sys/fs/cgroup/pids"; }),
                host.v1.end());
  Resources res;
  res.pids_limit = 5;
  auto r = MakeV1(fs, host, "x")->Create(res);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(),
            "linux.resources.pids: the pids controller is not mounted as cgroup v1 on this host");
}

// This host's layout: devices, freezer and blkio too; cpu and cpuacct co-mounted (as on most
// systemd hosts); no net_cls, net_prio or hugetlb in v1.
const char kFullMountinfo[] =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
    "37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
    "38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n";

void AddFullTree(sys::FakeSys& fs) {
  for (const char* c : {"cpu,cpuacct", "memory", "devices", "freezer", "blkio", "pids"})
    fs.AddDir(std::string("/sys/fs/cgroup/") + c);
}

std::vector<DeviceRule> DenyAllAllowKvm() {
  return {DeviceRule{false, "a", std::nullopt, std::nullopt, "rwm"},
          DeviceRule{true, "c", 10, 232, "rw"}};
}

TEST(CgroupV1, JoinsTheHierarchiesUsersNeedOnceEachAndWritesDeviceRulesInOrder) {
  sys::FakeSys fs;
  AddFullTree(fs);
  Host host = ParseHost(kFullMountinfo, "0::/\n");
  auto m = MakeV1(fs, host, "cvrun-d");
  Resources res;
  res.devices = DenyAllAllowKvm();
  ASSERT_TRUE(m->Create(res).ok()) << m->Create(res).error().message();
  EXPECT_EQ(fs.calls, (std::vector<std::string>{
                          "mkdir /sys/fs/cgroup/memory/cvrun-d",
                          "mkdir /sys/fs/cgroup/pids/cvrun-d",
                          "mkdir /sys/fs/cgroup/devices/cvrun-d",
                          "mkdir /sys/fs/cgroup/freezer/cvrun-d",
                          "mkdir /sys/fs/cgroup/cpu,cpuacct/cvrun-d",  // once for both
                          "write /sys/fs/cgroup/devices/cvrun-d/devices.deny a *:* rwm",
                          "write /sys/fs/cgroup/devices/cvrun-d/devices.allow c 10:232 rw",
                      }));
  EXPECT_EQ(m->leaves().size(), 5u);
  ASSERT_TRUE(Remove(fs, m->created()).ok());
  EXPECT_FALSE(fs.Exists("/sys/fs/cgroup/devices/cvrun-d"));
}

TEST(CgroupV1, DeviceRulesAppendTheDefaultNodesAndLinuxDevices) {
  Device kvm;
  kvm.type = "c";
  kvm.path = "/dev/kvm";
  kvm.major = 10;
  kvm.minor = 232;
  auto rules = DeviceRules({DeviceRule{false, "a", std::nullopt, std::nullopt, "rwm"}}, {kvm});
  std::vector<std::string> lines;
  for (const auto& r : rules) lines.push_back((r.allow ? "allow " : "deny ") + DeviceRuleLine(r));
  EXPECT_EQ(lines,
            (std::vector<std::string>{
                "deny a *:* rwm", "allow c *:* m", "allow b *:* m", "allow c 1:3 rwm",
                "allow c 1:5 rwm", "allow c 1:7 rwm", "allow c 1:8 rwm", "allow c 1:9 rwm",
                "allow c 5:0 rwm", "allow c 5:2 rwm", "allow c 136:* rwm", "allow c 10:232 rwm"}));
  // No rules in the spec: nothing is added (the parent's rules stay).
  EXPECT_TRUE(DeviceRules({}, {kvm}).empty());
}

TEST(CgroupV1, RefusesWhatThisHostCannotApplyNamingTheField) {
  Host host = ParseHost(kFullMountinfo, "0::/\n");
  auto create = [&](const Resources& res) {
    sys::FakeSys fs;
    AddFullTree(fs);
    fs.AddFile("/sys/fs/cgroup/blkio/cvrun-r/blkio.throttle.read_bps_device", "");
    auto r = MakeV1(fs, host, "cvrun-r")->Create(res);
    return r.ok() ? std::string("ok") : r.error().message();
  };
  Resources weight;
  weight.block_io = BlockIo{};
  weight.block_io->weight = 500;
  EXPECT_EQ(create(weight),
            "linux.resources.blockIO.weight: this host's blkio cgroup has no blkio.weight");
  Resources throttle;
  throttle.block_io = BlockIo{};
  throttle.block_io->throttle_read_bps.push_back(BlockIoDevice{8, 0, {}, {}, 1048576});
  EXPECT_EQ(create(throttle), "ok");
  Resources huge;
  huge.hugepage_limits.push_back({"2MB", 1 << 21});
  EXPECT_EQ(create(huge),
            "linux.resources.hugepageLimits: the hugetlb controller is not mounted as cgroup v1 "
            "on this host");
  Resources net;
  net.network = NetworkResources{};
  net.network->class_id = 0x100001;
  EXPECT_EQ(create(net),
            "linux.resources.network.classID: the net_cls controller is not mounted as cgroup v1 "
            "on this host");
  Resources tcp;
  tcp.memory = MemoryResources{};
  tcp.memory->kernel_tcp = 1 << 20;
  EXPECT_EQ(create(tcp),
            "linux.resources.memory.kernelTCP: this host's memory cgroup has no "
            "memory.kmem.tcp.limit_in_bytes");
}

TEST(CgroupV1, DisableOomKillerAndKernelTcpAreWritten) {
  sys::FakeSys fs;
  AddFullTree(fs);
  fs.AddFile("/sys/fs/cgroup/memory/cvrun-o/memory.oom_control", "");
  fs.AddFile("/sys/fs/cgroup/memory/cvrun-o/memory.kmem.tcp.limit_in_bytes", "");
  Host host = ParseHost(kFullMountinfo, "0::/\n");
  Resources res;
  res.memory = MemoryResources{};
  res.memory->disable_oom_killer = true;
  res.memory->kernel_tcp = 4096000;
  ASSERT_TRUE(MakeV1(fs, host, "cvrun-o")->Create(res).ok());
  EXPECT_EQ(fs.files["/sys/fs/cgroup/memory/cvrun-o/memory.oom_control"], "1");
  EXPECT_EQ(fs.files["/sys/fs/cgroup/memory/cvrun-o/memory.kmem.tcp.limit_in_bytes"], "4096000");
}

// Device rules on a pure v2 host: an eBPF device program on the leaf, attached after the limits
// and before the directory is opened for CLONE_INTO_CGROUP (the init is checked from its start).
TEST(CgroupV2, DeviceRulesBecomeAProgramOnTheLeafBeforeTheInitJoins) {
  Host host = ParseHost(kV2Mountinfo, "0::/\n");
  sys::FakeSys fs;
  fs.AddDir("/sys/fs/cgroup");
  Resources res;
  res.devices = DeviceRules(DenyAllAllowKvm(), {});
  res.pids_limit = 5;
  auto m = MakeV2(fs, host, "/cvb/dev");
  auto r = m->Create(res);
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_EQ(fs.device_programs.size(), 1u);
  EXPECT_EQ(fs.device_programs.begin()->first, "/sys/fs/cgroup/cvb/dev");
  const auto& prog = fs.device_programs.begin()->second;
  auto expected = DeviceProgram(res.devices);
  ASSERT_EQ(prog.size(), expected.size());
  EXPECT_EQ(std::memcmp(prog.data(), expected.data(), prog.size() * sizeof(bpf_insn)), 0);
  ASSERT_GE(fs.calls.size(), 3u);
  EXPECT_EQ(fs.calls[fs.calls.size() - 3], "write /sys/fs/cgroup/cvb/dev/pids.max 5");
  EXPECT_EQ(fs.calls[fs.calls.size() - 2].rfind("bpf-attach /sys/fs/cgroup/cvb/dev ", 0), 0u);
  EXPECT_EQ(fs.calls.back(), "open /sys/fs/cgroup/cvb/dev");
  // No rules: no program (the parent's rules stay, as on v1).
  sys::FakeSys none;
  none.AddDir("/sys/fs/cgroup");
  ASSERT_TRUE(MakeV2(none, host, "/cvb/none")->Create(Resources{}).ok());
  EXPECT_TRUE(none.device_programs.empty());
}

TEST(CgroupV2, NetworkIsRefusedNotIgnored) {
  Host host = ParseHost(kV2Mountinfo, "0::/\n");
  sys::FakeSys fs;
  fs.AddDir("/sys/fs/cgroup");
  Resources net;
  net.network = NetworkResources{};
  net.network->class_id = 1;
  auto r = MakeV2(fs, host, "/cvb/net")->Create(net);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message().rfind("linux.resources.network: ", 0), 0u) << r.error().message();
  EXPECT_TRUE(fs.calls.empty());  // nothing made
}

// A hybrid host applies device rules in v1; its unified directory gets no program.
TEST(CgroupHybrid, DeviceRulesGoToV1NotToAProgram) {
  sys::FakeSys fs;
  AddFullTree(fs);
  fs.AddDir("/sys/fs/cgroup/unified");
  std::string mi = std::string(kFullMountinfo) +
                   "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
  Host host = ParseHost(mi, "0::/\n");
  ASSERT_EQ(host.mode, Host::Mode::kHybrid);
  Resources res;
  res.devices = DenyAllAllowKvm();
  ASSERT_TRUE(MakeHybrid(fs, host, "cvrun-hd")->Create(res).ok());
  EXPECT_TRUE(fs.device_programs.empty());
  EXPECT_EQ(fs.files["/sys/fs/cgroup/devices/cvrun-hd/devices.allow"], "c 10:232 rw");
}

TEST(CgroupV2, EnablesControllersThenWritesLimits) {
  sys::FakeSys fs;
  fs.AddDir("/sys/fs/cgroup");
  fs.AddFile("/sys/fs/cgroup/cgroup.subtree_control", "memory\n");
  Host host = ParseHost(kV2Mountinfo, "0::/\n");
  auto m = MakeV2(fs, host, "/cvb/z");
  Resources res;
  res.memory = MemoryResources{};
  res.memory->limit = 1 << 20;
  res.memory->swap = 2 << 20;
  res.pids_limit = 10;
  res.cpu = CpuResources{};
  res.cpu->shares = 1024;
  res.cpu->quota = 20000;
  res.unified["memory.high"] = "900000";
  ASSERT_TRUE(m->Create(res).ok());
  EXPECT_EQ(fs.calls, (std::vector<std::string>{
                          "mkdir /sys/fs/cgroup/cvb",
                          "write /sys/fs/cgroup/cgroup.subtree_control +pids +cpu",
                          "write /sys/fs/cgroup/cvb/cgroup.subtree_control +memory +pids +cpu",
                          "mkdir /sys/fs/cgroup/cvb/z",
                          "write /sys/fs/cgroup/cvb/z/memory.max 1048576",
                          "write /sys/fs/cgroup/cvb/z/memory.swap.max 1048576",
                          "write /sys/fs/cgroup/cvb/z/pids.max 10",
                          "write /sys/fs/cgroup/cvb/z/cpu.weight 39",
                          "write /sys/fs/cgroup/cvb/z/cpu.max 20000 100000",
                          "write /sys/fs/cgroup/cvb/z/memory.high 900000",
                          "open /sys/fs/cgroup/cvb/z",
                      }));
  EXPECT_EQ(m->created(), (std::vector<std::string>{"/sys/fs/cgroup/cvb", "/sys/fs/cgroup/cvb/z"}));
  // The fake gives no fd: the process joins by cgroup.procs.
  fs.calls.clear();
  ASSERT_TRUE(m->AddProcess(7).ok());
  EXPECT_EQ(fs.calls, (std::vector<std::string>{"write /sys/fs/cgroup/cvb/z/cgroup.procs 7"}));
}

TEST(CgroupV2, BusyParentGivesAHint) {
  sys::FakeSys fs;
  fs.AddDir("/sys/fs/cgroup/user");
  fs.FailWrite("/sys/fs/cgroup/user/cgroup.subtree_control", EBUSY);
  Host host = ParseHost(kV2Mountinfo, "0::/user\n");
  Resources res;
  res.pids_limit = 3;
  auto r = MakeV2(fs, host, "cvrun-a")->Create(res);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("absolute linux.cgroupsPath"), std::string::npos);
}

TEST(CgroupV2, SharesToWeight) {
  EXPECT_EQ(SharesToWeight(2), 1u);
  EXPECT_EQ(SharesToWeight(262144), 10000u);
  EXPECT_EQ(SharesToWeight(1024), 39u);
}

TEST(CgroupHybrid, LimitsInV1TrackingInUnified) {
  sys::FakeSys fs;
  AddV1Tree(fs);
  Host host = ParseHost(kHybridMountinfo, kSelfCgroup);
  auto m = MakeHybrid(fs, host, "cvrun-h");
  Resources res;
  res.memory = MemoryResources{};
  res.memory->limit = 1000;
  ASSERT_TRUE(m->Create(res).ok());
  EXPECT_EQ(m->leaves(), (std::vector<std::string>{
                             "/sys/fs/cgroup/memory/process_api/abc/cvrun-h",
                             "/sys/fs/cgroup/pids/cvrun-h", "/sys/fs/cgroup/cpu/cvrun-h",
                             "/sys/fs/cgroup/cpuacct/cvrun-h", "/sys/fs/cgroup/unified/cvrun-h"}));
  // No controller is enabled in the unified hierarchy and no limit is written there.
  for (const auto& call : fs.calls) EXPECT_EQ(call.find("unified/cgroup.subtree_control"), std::string::npos);
  EXPECT_EQ(fs.calls.back(), "open /sys/fs/cgroup/unified/cvrun-h");
}

TEST(CgroupOps, KillAllPrefersCgroupKill) {
  sys::FakeSys fs;
  fs.AddDir("/sys/fs/cgroup/unified/c");
  fs.AddFile("/sys/fs/cgroup/unified/c/cgroup.kill", "");
  fs.AddFile("/sys/fs/cgroup/unified/c/cgroup.procs", "5\n6\n");
  KillAll(fs, {"/sys/fs/cgroup/unified/c"}, SIGKILL);
  EXPECT_EQ(fs.calls, (std::vector<std::string>{"write /sys/fs/cgroup/unified/c/cgroup.kill 1"}));
  fs.calls.clear();
  KillAll(fs, {"/sys/fs/cgroup/unified/c"}, SIGTERM);
  EXPECT_EQ(fs.calls, (std::vector<std::string>{"kill 5 15", "kill 6 15"}));
  EXPECT_EQ(Pids(fs, {"/sys/fs/cgroup/unified/c"}), (std::vector<pid_t>{5, 6}));
}

TEST(CgroupOps, RemoveLeavesAParentAnotherContainerNowUses) {
  // Two tasks created at once under /ns: the first made /ns, the second's cgroup is in it.
  sys::FakeSys fs;
  fs.AddDir("/sys/fs/cgroup/memory");
  fs.AddDir("/sys/fs/cgroup/memory/ns");
  fs.AddDir("/sys/fs/cgroup/memory/ns/a");
  fs.AddDir("/sys/fs/cgroup/memory/ns/b");
  auto r = Remove(fs, {"/sys/fs/cgroup/memory/ns", "/sys/fs/cgroup/memory/ns/a"}, 20);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_FALSE(fs.dirs.count("/sys/fs/cgroup/memory/ns/a"));
  EXPECT_TRUE(fs.dirs.count("/sys/fs/cgroup/memory/ns/b"));
  // /ns stays (empty once b is gone, as runc leaves it too); a busy leaf is still an error.
  fs.AddDir("/sys/fs/cgroup/memory/ns/b/child");
  EXPECT_FALSE(Remove(fs, {"/sys/fs/cgroup/memory/ns/b"}, 20).ok());
}

TEST(CgroupOps, RemoveIsIdempotent) {
  sys::FakeSys fs;
  fs.AddDir("/sys/fs/cgroup/memory");
  ASSERT_TRUE(Remove(fs, {"/sys/fs/cgroup/memory/gone"}).ok());
}

}  // namespace
}  // namespace cvb::runtime::cgroup
