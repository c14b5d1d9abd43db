// `cvrun update` through FakeSys: the limits land in the directories the container already has,
// memory+swap are written in the order the kernel accepts, and what cannot be applied is refused
// naming the field (and writes nothing).
#include <gtest/gtest.h>

#include <algorithm>

#include "cgroup/manager.h"
#include "cvb/runtime/spec.h"
#include "sys/sys.h"

namespace cvb::runtime::cgroup {
namespace {

const char kUpdateHostMountinfo[] =
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "38 31 0:35 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
const char kSelf[] = "8:pids:/\n4:memory:/\n1:cpu:/\n0::/\n";

// What create left for a container (no cpuset: its config had no cpus/mems).
const std::vector<std::string> kLeaves = {
    "/sys/fs/cgroup/memory/cvrun-x",  "/sys/fs/cgroup/pids/cvrun-x",
    "/sys/fs/cgroup/freezer/cvrun-x", "/sys/fs/cgroup/cpu/cvrun-x",
    "/sys/fs/cgroup/cpuacct/cvrun-x", "/sys/fs/cgroup/unified/cvrun-x"};

struct Fixture {
  sys::FakeSys fs;
  Host host = ParseHost(kUpdateHostMountinfo, kSelf);
  Fixture() {
    for (const auto& l : kLeaves) fs.AddDir(l);
    fs.AddDir("/sys/fs/cgroup/cpuset");
    fs.AddFile("/sys/fs/cgroup/memory/cvrun-x/memory.limit_in_bytes", "67108864\n");
    fs.AddFile("/sys/fs/cgroup/memory/cvrun-x/memory.memsw.limit_in_bytes", "134217728\n");
  }
  Result<void> Update(const std::string& json) {
    auto res = ParseResourcesJson(json);
    if (!res.ok()) return res.error();
    auto m = OpenManager(fs, host, kLeaves);
    if (!m.ok()) return m.error();
    return (*m)->Update(*res);
  }
};

TEST(CgroupUpdate, WritesIntoTheExistingDirectories) {
  Fixture f;
  ASSERT_TRUE(
      f.Update(R"({"pids":{"limit":50},"cpu":{"shares":512,"quota":20000,"period":100000}})").ok());
  EXPECT_EQ(f.fs.calls,
            (std::vector<std::string>{"write /sys/fs/cgroup/pids/cvrun-x/pids.max 50",
                                      "write /sys/fs/cgroup/cpu/cvrun-x/cpu.shares 512",
                                      "write /sys/fs/cgroup/cpu/cvrun-x/cpu.cfs_period_us 100000",
                                      "write /sys/fs/cgroup/cpu/cvrun-x/cpu.cfs_quota_us 20000"}));
}

TEST(CgroupUpdate, RaisingMemoryAndSwapWritesSwapFirstLoweringMemoryFirst) {
  Fixture f;
  // podman update --memory 256m: {"memory":{"limit":L,"swap":2L}}, above the current memsw.
  ASSERT_TRUE(f.Update(R"({"memory":{"limit":268435456,"swap":536870912}})").ok());
  EXPECT_EQ(f.fs.calls,
            (std::vector<std::string>{
                "write /sys/fs/cgroup/memory/cvrun-x/memory.memsw.limit_in_bytes 536870912",
                "write /sys/fs/cgroup/memory/cvrun-x/memory.limit_in_bytes 268435456"}));
  f.fs.calls.clear();
  ASSERT_TRUE(f.Update(R"({"memory":{"limit":16777216,"swap":33554432}})").ok());
  EXPECT_EQ(f.fs.calls,
            (std::vector<std::string>{
                "write /sys/fs/cgroup/memory/cvrun-x/memory.limit_in_bytes 16777216",
                "write /sys/fs/cgroup/memory/cvrun-x/memory.memsw.limit_in_bytes 33554432"}));
}

// `update --memory -1` (docker update --memory -1 through the shim): runc lifts memory+swap
// too when swap is not given, before memory (the kernel keeps memory <= memory+swap).
TEST(CgroupUpdate, UnlimitedMemoryWithoutSwapLiftsSwapFirstAsRunc) {
  Fixture f;
  ASSERT_TRUE(f.Update(R"({"memory":{"limit":-1}})").ok());
  EXPECT_EQ(f.fs.calls,
            (std::vector<std::string>{
                "write /sys/fs/cgroup/memory/cvrun-x/memory.memsw.limit_in_bytes -1",
                "write /sys/fs/cgroup/memory/cvrun-x/memory.limit_in_bytes -1"}));
}

TEST(CgroupUpdate, RefusesWhatItCannotApplyNamingTheFieldAndWritesNothing) {
  struct Case {
    const char* json;
    const char* message;
  } cases[] = {
      {R"({"cpu":{"cpus":"0"}})",
       "linux.resources.cpu.cpus/mems: the container has no cpuset cgroup"},
      {R"({"blockIO":{"weight":500}})", "linux.resources.blockIO: the container has no blkio"},
      {R"({"devices":[{"allow":false,"access":"rwm"}]})",
       "linux.resources.devices: cvrun does not change the device rules"},
      {R"({"cpu":{"realtimeRuntime":1000}})",
       "linux.resources.cpu.realtimeRuntime: cvrun cannot apply this field"},
      {R"({"memory":{"checkBeforeUpdate":true}})",
       "linux.resources.memory.checkBeforeUpdate: cvrun cannot apply this field"},
      // An empty rdma map asks for nothing (runc reads it so); an entry is refused.
      {R"({"rdma":{"mlx5_1":{"hcaHandles":3}}})", "linux.resources.rdma: not supported by cvrun"},
      {R"({"unified":{"memory.high":"1"}})", "linux.resources.unified: needs cgroup v2"},
      {R"({"memory":{"limit":"lots"}})", "linux.resources.memory.limit: expected an integer"},
  };
  for (const auto& c : cases) {
    Fixture f;
    auto r = f.Update(c.json);
    ASSERT_FALSE(r.ok()) << c.json;
    EXPECT_EQ(r.error().message().rfind(c.message, 0), 0u) << r.error().message();
    EXPECT_TRUE(f.fs.calls.empty()) << c.json << " wrote " << f.fs.calls.front();
  }
}

TEST(CgroupUpdate, V2EnablesControllersAndWritesItsFiles) {
  sys::FakeSys fs;
  Host host = ParseHost("30 23 0:27 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n", "0::/\n");
  fs.AddDir("/sys/fs/cgroup/cvrun-x");
  fs.AddFile("/sys/fs/cgroup/cgroup.subtree_control", "memory\n");
  auto m = OpenManager(fs, host, {"/sys/fs/cgroup/cvrun-x"});
  ASSERT_TRUE(m.ok());
  auto res = ParseResourcesJson(R"({"memory":{"limit":1048576},"pids":{"limit":9}})");
  ASSERT_TRUE(res.ok());
  ASSERT_TRUE((*m)->Update(*res).ok());
  EXPECT_EQ(fs.calls, (std::vector<std::string>{"write /sys/fs/cgroup/cgroup.subtree_control +pids",
                                                "write /sys/fs/cgroup/cvrun-x/memory.max 1048576",
                                                "write /sys/fs/cgroup/cvrun-x/pids.max 9"}));
}

}  // namespace
}  // namespace cvb::runtime::cgroup
