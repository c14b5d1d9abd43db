// Real launches of the real image: native always; crun, runc and runsc as root where installed.
// Every test checks that the instance left nothing behind.
#include <dirent.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "cvb/common/file.h"
#include "cvb/common/subprocess.h"
#include "cvb/image/image.h"
#include "cvb/launcher/fingerprint.h"
#include "cvb/launcher/launcher.h"
#include "cvb/launcher/oci.h"

namespace cvb::launcher {
namespace {

using std::chrono::seconds;

// cgroup directories (any v1 controller or v2) whose name contains needle.
std::vector<std::string> CgroupsNamed(const std::string& needle) {
  std::vector<std::string> found;
  auto out = cvb::Run({"find", "/sys/fs/cgroup", "-maxdepth", "5", "-type", "d", "-name",
                  "*" + needle + "*"});
  if (!out) return found;
  for (const auto& path : Split(out->out, '\n')) {
    // The sweep's private tmpfs at /sys/fs/cgroup/unified is not a cgroup: crun's mkdirs there
    // vanish with the namespace (checked below against the host's view).
    if (path.rfind("/sys/fs/cgroup/unified/", 0) != 0) found.push_back(path);
  }
  return found;
}

class LauncherIntegrationTest : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() {
    // As cvbench does: one process-wide condition for all runtimes, set while single-threaded.
    if (::geteuid() == 0) {
      auto c = EnterOciHostConditions();
      ASSERT_TRUE(c) << c.error().message();
    }
    ASSERT_TRUE(BecomeSubreaper());
  }

  void SetUp() override {
    name_ = GetParam();
    if (name_ != "native") {
      if (::geteuid() != 0) GTEST_SKIP() << name_ << " needs root";
      // cvrun is the one beside this executable, as the registry finds it.
      std::string binary = name_ == "cvrun" ? image::SelfExeDir() + "/cvrun" : name_;
      if (FindProgram(binary).empty()) GTEST_SKIP() << binary << " is not installed";
    }
    char tmpl[] = "/run/cvb-launcher-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    work_ = tmpl;
    auto image = image::BuildImage();
    ASSERT_TRUE(image) << image.error().message();
    image_ = *image;
    registry_ = Registry();
    RegisterProcessLaunchers(registry_);
    auto l = registry_.Make({name_, work_, "", {}});
    ASSERT_TRUE(l) << l.error().message();
    launcher_ = std::move(*l);
    ASSERT_TRUE(launcher_->Check());
    ASSERT_TRUE(launcher_->Prepare(image_));
  }

  void TearDown() override {
    launcher_.reset();
    // Also nothing in the host's /sys/fs/cgroup tmpfs below its cgroup2 mount (where crun in v1
    // mode makes directories): the private tmpfs on it must have caught them.
    auto hidden = cvb::Run({"unshare", "-m", "sh", "-c",
                            "umount /sys/fs/cgroup/unified && ls /sys/fs/cgroup/unified"});
    if (hidden && hidden->status.ok()) {
      EXPECT_EQ(hidden->out.find("cvb-" + name_ + "-" + std::to_string(::getpid()) + "-"),
                std::string::npos)
          << "left in the host's /sys/fs/cgroup/unified";
    }
    if (!work_.empty()) {
      // Nothing of any container remains: no cgroup, no state, no process naming it.
      auto left = CgroupsNamed("cvb-" + name_ + "-" + std::to_string(::getpid()));
      EXPECT_TRUE(left.empty()) << "left behind: " << JoinArgv(left);
      auto state = cvb::Run({"find", work_ + "/state", "-mindepth", "2"});
      if (state) {
        EXPECT_EQ(state->out, "") << "state left behind";
      }
      auto run = cvb::Run({"find", work_ + "/run", "-mindepth", "1"});
      if (run) {
        EXPECT_EQ(run->out, "") << "bundles left behind";
      }
      ASSERT_TRUE(RemoveTree(work_));
    }
  }

  std::string name_;
  std::string work_;
  image::Image image_;
  Registry registry_;
  std::unique_ptr<Launcher> launcher_;
};

TEST_P(LauncherIntegrationTest, ReadyWorkloadRunsToExitWithPhases) {
  auto inst = launcher_->Start({});
  ASSERT_TRUE(inst) << inst.error().message();
  auto ready = (*inst)->WaitReady(seconds(30));
  ASSERT_TRUE(ready) << ready.error().message();
  auto st = (*inst)->WaitExit(seconds(30));
  ASSERT_TRUE(st) << st.error().message();
  EXPECT_TRUE(st->ok()) << st->describe();
  ASSERT_TRUE((*inst)->Teardown());
  auto c = (*inst)->timeline().Counters();
  for (const char* k : {"create_ms", "ready_ms", "exit_ms", "teardown_ms"})
    EXPECT_TRUE(c.count(k)) << k;
  EXPECT_LE(c["create_ms"], c["ready_ms"]);
  EXPECT_LE(c["ready_ms"], c["exit_ms"]);
  ASSERT_TRUE((*inst)->ready_message());
  EXPECT_EQ((*inst)->ready_message()->Get("mode"), "ready");
}

TEST_P(LauncherIntegrationTest, IdleWorkloadHasMemoryAndStops) {
  WorkloadRequest req;
  req.mode = "idle";
  auto inst = launcher_->Start(req);
  ASSERT_TRUE(inst) << inst.error().message();
  ASSERT_TRUE((*inst)->WaitReady(seconds(30)));
  auto pids = (*inst)->HostPids();
  ASSERT_FALSE(pids.empty());
  // runsc's gofer lives outside the sandbox's process tree and is counted; the other runtimes
  // leave nothing outside the container's tree, and nothing else is counted for them.
  if (name_ == "runsc")
    EXPECT_GT(pids.size(), ProcessTree(pids.front()).size()) << "runsc's helpers are not counted";
  else
    EXPECT_EQ(pids.size(), ProcessTree(pids.front()).size());
  auto mem = (*inst)->HostMemory();
  EXPECT_GT(mem.pss, 0u);
  if (name_ == "crun" || name_ == "runc") {
    auto cg = (*inst)->CgroupMemoryBytes();
    ASSERT_TRUE(cg) << "no memory cgroup for " << name_;
    EXPECT_GT(*cg, 0u);
    // v1 kmem on this kind of host (hybrid): the container's cgroup holds kernel objects too
    // (its processes' stacks, page tables, slab).
    if (PathExists("/sys/fs/cgroup/memory/memory.kmem.usage_in_bytes")) {
      auto kmem = (*inst)->CgroupKmemBytes();
      ASSERT_TRUE(kmem) << "no kmem figure for " << name_;
      EXPECT_GT(*kmem, 0u);
      EXPECT_LE(*kmem, *cg);
    }
  }
  ASSERT_TRUE((*inst)->Stop(seconds(10)));
  ASSERT_TRUE((*inst)->Teardown());
  for (pid_t p : pids) EXPECT_NE(::kill(p, 0), 0) << "process " << p << " still alive";
}

TEST_P(LauncherIntegrationTest, DestructorTearsDownARunningInstance) {
  WorkloadRequest req;
  req.mode = "idle";
  std::vector<pid_t> pids;
  {
    auto inst = launcher_->Start(req);
    ASSERT_TRUE(inst) << inst.error().message();
    ASSERT_TRUE((*inst)->WaitReady(seconds(30)));
    pids = (*inst)->HostPids();
  }
  ReapOrphans();
  for (pid_t p : pids) EXPECT_NE(::kill(p, 0), 0) << "process " << p << " still alive";
}

TEST_P(LauncherIntegrationTest, UnknownModeFailsBeforeReadyWithOutput) {
  WorkloadRequest req;
  req.mode = "no-such-mode";
  auto inst = launcher_->Start(req);
  ASSERT_TRUE(inst) << inst.error().message();
  auto ready = (*inst)->WaitReady(seconds(30));
  ASSERT_FALSE(ready);
  EXPECT_NE(ready.error().message().find("READY"), std::string::npos);
  ASSERT_TRUE((*inst)->Teardown());
}

INSTANTIATE_TEST_SUITE_P(Launchers, LauncherIntegrationTest,
                         ::testing::Values("native", "crun", "runc", "runsc"),
                         [](const auto& param_info) { return param_info.param; });

// The fingerprint of real instances: what the host reads of the workload's process and what
// the workload reports of itself, for the baseline and for containers.
class FingerprintIntegrationTest : public LauncherIntegrationTest {};

TEST_P(FingerprintIntegrationTest, ShowsWhatTheInstanceGot) {
  auto fp = TakeFingerprint(*launcher_, seconds(60));
  ASSERT_TRUE(fp) << fp.error().message();
  Fingerprint& f = *fp;
  std::string all;
  for (const auto& [k, v] : f) all += k + "=" + v + "\n";
  // Both views are there, whatever the launcher.
  for (const char* k : {"host_view", "ns.net", "ns.mnt", "cap.eff", "seccomp", "mounts",
                        "net.interfaces", "self.kernel", "self.cap_eff", "self.net"})
    EXPECT_TRUE(f.count(k)) << k << " missing in\n" << all;
  if (name_ == "native") {
    for (const char* ns : {"ns.net", "ns.mnt", "ns.pid", "ns.uts", "ns.ipc"})
      EXPECT_EQ(f[ns], "host") << ns;
    EXPECT_EQ(f["self.cap_eff"], f["cap.eff"]);
    return;
  }
  if (name_ == "runsc") {
    // The host sees the sandbox; the workload's own view is gVisor's.
    EXPECT_NE(f["host_view"].find("sandbox"), std::string::npos) << f["host_view"];
    EXPECT_EQ(f["ns.net"], "own");
    return;
  }
  for (const char* ns : {"ns.net", "ns.mnt", "ns.pid", "ns.uts", "ns.ipc"})
    EXPECT_EQ(f[ns], "own") << ns << "\n" << all;
  // The bundle's 1 GiB memory limit (oci.cc) is in force in a memory cgroup of its own.
  EXPECT_EQ(f["cgroup.memory"], "own") << all;
  EXPECT_EQ(f["limit.memory"], "1073741824") << all;
  // The default profile (docker-default): Docker's capability set, seen alike from both sides,
  // its seccomp filter in force, no_new_privs off as dockerd leaves it.
  EXPECT_EQ(f["self.cap_eff"], f["cap.eff"]);
  EXPECT_EQ(f["cap.eff"], "00000000a80425fb") << "Docker's 14 default capabilities";
  EXPECT_EQ(f["seccomp"], "2 (filter)") << all;
  EXPECT_EQ(f["no_new_privs"], "0");
  EXPECT_EQ(f["net.interfaces"], "lo");
  EXPECT_EQ(f["self.net"], std::string("lo:") + (f["net.lo"] == "up" ? "up" : "down"))
      << "host and workload disagree on lo";
}

INSTANTIATE_TEST_SUITE_P(Launchers, FingerprintIntegrationTest,
                         ::testing::Values("native", "cvrun", "crun", "runc", "runsc"),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
}  // namespace cvb::launcher
