// Zeros that runc reads as "not set" (runtime/src/resources_unset.h): Docker's config.json and
// the containerd shim's update carry them on every container, so cvrun must plan nothing for
// them — and still refuse, naming the field, a real setting it cannot apply.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cgroup/manager.h"
#include "cvb/runtime/spec.h"
#include "resources_unset.h"
#include "sys/sys.h"

namespace cvb::runtime {
namespace {

using nlohmann::json;

// linux.resources exactly as dockerd 20.10 wrote it for `docker run` (no resource flags) on this
// host, read from the bundle's config.json under containerd's state directory.
const char kDockerResources[] = R"({
  "devices": [
    {"allow": false, "access": "rwm"},
    {"allow": true, "type": "c", "major": 1, "minor": 5, "access": "rwm"},
    {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
    {"allow": true, "type": "c", "major": 1, "minor": 9, "access": "rwm"},
    {"allow": true, "type": "c", "major": 1, "minor": 8, "access": "rwm"},
    {"allow": true, "type": "c", "major": 5, "minor": 0, "access": "rwm"},
    {"allow": true, "type": "c", "major": 5, "minor": 1, "access": "rwm"},
    {"allow": false, "type": "c", "major": 10, "minor": 229, "access": "rwm"}
  ],
  "memory": {"disableOOMKiller": false},
  "cpu": {"shares": 0},
  "blockIO": {"weight": 0}
})";

std::string Config(const std::string& resources) {
  return R"({"ociVersion": "1.0.2", "process": {"args": ["/bin/sh"], "cwd": "/"},
             "root": {"path": "rootfs"},
             "linux": {"namespaces": [{"type": "mount"}], "resources": )" +
         resources + "}}";
}

TEST(ResourcesUnset, DockersDefaultResourcesParseToDeviceRulesOnly) {
  auto spec = ParseSpec(Config(kDockerResources));
  ASSERT_TRUE(spec.ok()) << spec.error().message();
  const Resources& r = spec->linux.resources;
  EXPECT_EQ(r.devices.size(), 8u);
  EXPECT_FALSE(r.block_io.has_value()) << "blockIO.weight 0 is no setting";
  EXPECT_FALSE(r.cpu.has_value()) << "cpu.shares 0 is no setting";
  EXPECT_FALSE(r.memory.has_value()) << "disableOOMKiller false is no setting";
}

TEST(ResourcesUnset, DropsEveryZeroRuncSkips) {
  json res = json::parse(R"({
    "memory": {"limit": 0, "reservation": 0, "swap": 0, "kernel": 0, "kernelTCP": 0,
               "swappiness": 18446744073709551615, "disableOOMKiller": false},
    "cpu": {"shares": 0, "quota": 0, "period": 0, "realtimeRuntime": 0, "realtimePeriod": 0,
            "cpus": "", "mems": ""},
    "pids": {"limit": 0},
    "blockIO": {"weight": 0, "leafWeight": 0,
                "weightDevice": [{"major": 8, "minor": 0, "weight": 0, "leafWeight": 0}]},
    "network": {"classID": 0},
    "rdma": {},
    "unified": {}
  })");
  DropUnsetResourceValues(res);
  EXPECT_EQ(res, json::object()) << res.dump();
}

TEST(ResourcesUnset, KeepsRealSettingsAndTheZerosRuncWrites) {
  json res = json::parse(R"({
    "memory": {"limit": -1, "swappiness": 0, "disableOOMKiller": true},
    "cpu": {"shares": 2, "quota": -1},
    "pids": {"limit": -1},
    "blockIO": {"weight": 500,
                "weightDevice": [{"major": 8, "minor": 0, "weight": 0, "leafWeight": 300},
                                 {"major": 8, "minor": 16, "weight": 0}],
                "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 0}]},
    "hugepageLimits": [{"pageSize": "2MB", "limit": 0}],
    "network": {"classID": 1048577, "priorities": [{"name": "eth0", "priority": 0}]}
  })");
  json want = res;
  want["blockIO"]["weightDevice"] = json::parse(R"([{"major": 8, "minor": 0, "leafWeight": 300}])");
  DropUnsetResourceValues(res);
  EXPECT_EQ(res, want) << res.dump();
}

// A zero next to a real value: only the zero goes.
TEST(ResourcesUnset, DropsTheZeroBesideARealValue) {
  auto spec = ParseSpec(Config(R"({"memory": {"limit": 67108864, "swap": 0},
                                   "cpu": {"shares": 0, "quota": 50000, "period": 100000}})"));
  ASSERT_TRUE(spec.ok()) << spec.error().message();
  const Resources& r = spec->linux.resources;
  ASSERT_TRUE(r.memory.has_value());
  EXPECT_EQ(r.memory->limit, 67108864);
  EXPECT_FALSE(r.memory->swap.has_value());
  ASSERT_TRUE(r.cpu.has_value());
  EXPECT_FALSE(r.cpu->shares.has_value());
  EXPECT_EQ(r.cpu->quota, 50000);
}

// What cvrun cannot apply is still refused with the field named (a non-zero value is a setting).
TEST(ResourcesUnset, StillRefusesRealSettingsNamingTheField) {
  auto message = [](const std::string& resources) {
    auto spec = ParseSpec(Config(resources));
    return spec.ok() ? std::string("ok") : spec.error().message();
  };
  EXPECT_EQ(message(R"({"cpu": {"realtimeRuntime": 950000}})"),
            "linux.resources.cpu.realtimeRuntime: cvrun cannot apply this field");
  EXPECT_EQ(message(R"({"blockIO": {"weight": 5}})"),
            "linux.resources.blockIO.weight: must be in [10, 1000]");
  EXPECT_EQ(message(R"({"memory": {"kernel": 1048576}})"),
            "linux.resources.memory.kernel: kernel memory limits are not supported");
  EXPECT_EQ(message(R"({"memory": {"swappiness": 200}})"),
            "linux.resources.memory.swappiness: must be in [0, 100]");
  EXPECT_EQ(message(R"({"rdma": {"mlx5_1": {"hcaHandles": 3}}})"),
            "linux.resources.rdma: not supported by cvrun");
}

// This host's v1 layout with blkio but without blkio.weight (no CFQ/BFQ).
const char kMountinfo[] =
    "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
    "37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
    "38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n";

Result<std::vector<std::string>> CreateCalls(const std::string& resources) {
  sys::FakeSys fs;
  for (const char* c : {"cpu,cpuacct", "memory", "devices", "freezer", "blkio", "pids"})
    fs.AddDir(std::string("/sys/fs/cgroup/") + c);
  auto spec = ParseSpec(Config(resources));
  if (!spec.ok()) return spec.error();
  cgroup::Host host = cgroup::ParseHost(kMountinfo, "0::/\n");
  auto created = cgroup::MakeV1(fs, host, "cvrun-d")->Create(spec->linux.resources);
  if (!created.ok()) return created.error();
  return fs.calls;
}

// Docker's config makes the hierarchies every container gets, writes its device rules and
// nothing for the zeros: no blkio directory, no blkio.weight (which this host lacks), no
// memory.oom_control, no cpu.shares.
TEST(ResourcesUnset, DockersConfigPlansNoBlkioAndNoZeroWrites) {
  auto calls = CreateCalls(kDockerResources);
  ASSERT_TRUE(calls.ok()) << calls.error().message();
  for (const auto& call : *calls) {
    EXPECT_EQ(call.find("blkio"), std::string::npos) << call;
    EXPECT_EQ(call.find("oom_control"), std::string::npos) << call;
    EXPECT_EQ(call.find("cpu.shares"), std::string::npos) << call;
  }
  EXPECT_EQ(calls->front(), "mkdir /sys/fs/cgroup/memory/cvrun-d");
}

// The same host refuses a real weight, naming it (before this fix Docker's weight 0 got here).
TEST(ResourcesUnset, ARealBlkioWeightIsRefusedOnAHostWithoutIt) {
  auto calls = CreateCalls(R"({"blockIO": {"weight": 500}})");
  ASSERT_FALSE(calls.ok());
  EXPECT_EQ(calls.error().message(),
            "linux.resources.blockIO.weight: this host's blkio cgroup has no blkio.weight");
}

// `docker update --memory` through the shim: `runc update --resources -` gets the whole object,
// zeros included, for a container that has no blkio cgroup. Only the memory limit is written.
TEST(ResourcesUnset, AnUpdateWithDockersZerosWritesOnlyTheRealLimit) {
  sys::FakeSys fs;
  const std::vector<std::string> leaves = {
      "/sys/fs/cgroup/memory/cvrun-x", "/sys/fs/cgroup/pids/cvrun-x",
      "/sys/fs/cgroup/freezer/cvrun-x", "/sys/fs/cgroup/cpu,cpuacct/cvrun-x"};
  for (const auto& l : leaves) fs.AddDir(l);
  fs.AddDir("/sys/fs/cgroup/blkio");
  auto res = ParseResourcesJson(R"({"memory": {"limit": 104857600, "swap": 0, "reservation": 0,
                                                "kernel": 0, "kernelTCP": 0,
                                                "disableOOMKiller": false},
                                     "cpu": {"shares": 0, "quota": 0, "period": 0,
                                             "realtimeRuntime": 0, "realtimePeriod": 0,
                                             "cpus": "", "mems": ""},
                                     "pids": {"limit": 0},
                                     "blockIO": {"weight": 0}})");
  ASSERT_TRUE(res.ok()) << res.error().message();
  cgroup::Host host = cgroup::ParseHost(kMountinfo, "0::/\n");
  auto m = cgroup::OpenManager(fs, host, leaves);
  ASSERT_TRUE(m.ok()) << m.error().message();
  auto updated = (*m)->Update(*res);
  ASSERT_TRUE(updated.ok()) << updated.error().message();
  EXPECT_EQ(fs.calls, (std::vector<std::string>{
                          "write /sys/fs/cgroup/memory/cvrun-x/memory.limit_in_bytes 104857600"}));
}

}  // namespace
}  // namespace cvb::runtime
