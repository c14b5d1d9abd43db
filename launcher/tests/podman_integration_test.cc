// The podman launchers (podman.h) for real, as root where podman is installed: two idle
// instances whose host processes include their conmon, and nothing left once the launcher is
// gone; a cvbench killed with its podman containers running is cleaned up by the next one's
// leftover reaper.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cvb/common/file.h"
#include "cvb/common/subprocess.h"
#include "cvb/image/image.h"
#include "cvb/launcher/launcher.h"
#include "cvb/launcher/leftovers.h"
#include "cvb/launcher/oci.h"
#include "cvb/launcher/podman.h"

namespace cvb::launcher {
namespace {

using std::chrono::seconds;

std::string Comm(pid_t pid) {
  return Trim(ReadFile("/proc/" + std::to_string(pid) + "/comm").value_or_empty());
}

// What is left on the host of containers whose names start with `prefix`: processes naming them
// (conmon carries the name, -n), cgroup directories (the cgroup parent carries the prefix's
// stem), mounts under `dir`.
std::vector<std::string> LeftBehind(const std::string& prefix, const std::string& dir) {
  std::vector<std::string> left;
  for (const auto& e : ListDirectory("/proc")) {
    if (e.empty() || e[0] < '0' || e[0] > '9') continue;
    auto cmdline = ReadFile("/proc/" + e + "/cmdline");
    if (cmdline && cmdline->find(prefix) != std::string::npos)
      left.push_back("process " + e + " " + Comm(std::atoi(e.c_str())));
  }
  auto found =
      cvb::Run({"find", "/sys/fs/cgroup", "-maxdepth", "3", "-type", "d", "-name", prefix + "*"});
  if (found)
    for (const auto& path : Split(found->out, '\n'))
      // The private tmpfs on /sys/fs/cgroup/unified (EnterOciHostConditions) is no cgroup.
      if (path.rfind("/sys/fs/cgroup/unified/", 0) != 0) left.push_back("cgroup " + path);
  if (auto mi = ReadFile("/proc/self/mountinfo"))
    for (const auto& line : Split(*mi, '\n'))
      if (line.find(dir) != std::string::npos) left.push_back("mount " + line);
  return left;
}

class PodmanLauncherTest : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() {
    if (::geteuid() != 0) return;
    auto c = EnterOciHostConditions();
    ASSERT_TRUE(c) << c.error().message();
    ASSERT_TRUE(BecomeSubreaper());
  }

  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (rootful podman)";
    if (FindProgram("podman").empty()) GTEST_SKIP() << "podman is not installed";
    runtime_ = PodmanRuntimeOf(GetParam());
    ASSERT_FALSE(runtime_.empty());
    char tmpl[] = "/run/cvbpt-XXXXXX";  // short: podman limits its runroot to 50 characters
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    auto image = image::BuildImage();
    ASSERT_TRUE(image) << image.error().message();
    image_ = *image;
    RegisterProcessLaunchers(registry_);
  }

  void TearDown() override {
    if (!root_.empty()) (void)RemoveTree(root_);
    ReapOrphans();
  }

  std::string runtime_, root_;
  image::Image image_;
  Registry registry_;
};

TEST_P(PodmanLauncherTest, TwoInstancesCountTheirConmonAndLeaveNothing) {
  std::string work = root_ + "/" + std::to_string(::getpid());
  std::string prefix = "cvb-podman-" + runtime_ + "-" + std::to_string(::getpid());
  {
    auto made = registry_.Make({GetParam(), work, "", {}});
    ASSERT_TRUE(made) << made.error().message();
    auto launcher = std::move(*made);
    auto checked = launcher->Check();
    if (!checked && checked.error().err == ENOENT) GTEST_SKIP() << checked.error().message();
    ASSERT_TRUE(checked) << checked.error().message();
    auto prepared = launcher->Prepare(image_);
    ASSERT_TRUE(prepared) << prepared.error().message();
    EXPECT_TRUE(PathExists(PodmanStoreDir(work, runtime_) + "/root"));
    std::vector<std::unique_ptr<Instance>> instances;
    WorkloadRequest idle;
    idle.mode = "idle";
    for (int i = 0; i < 2; ++i) {
      auto inst = launcher->Start(idle);
      ASSERT_TRUE(inst) << inst.error().message();
      auto ready = (*inst)->WaitReady(seconds(60));
      ASSERT_TRUE(ready) << ready.error().message();
      instances.push_back(std::move(*inst));
    }
    std::vector<pid_t> seen;
    for (auto& inst : instances) {
      auto pids = inst->HostPids();
      int conmons = 0, workloads = 0;
      for (pid_t p : pids) {
        EXPECT_EQ(std::find(seen.begin(), seen.end(), p), seen.end())
            << "process " << p << " counted for two instances";
        seen.push_back(p);
        if (Comm(p) == "conmon") ++conmons;
        if (Comm(p) == "cvb-workload") ++workloads;
      }
      EXPECT_EQ(conmons, 1) << "the instance's conmon is not among its processes";
      EXPECT_EQ(workloads, 1);
      EXPECT_GT(inst->HostMemory().pss, 0u);
      EXPECT_TRUE(inst->CgroupMemoryBytes().has_value());
    }
    // One stopped as a measurement would, one left running for the launcher's cleanup.
    ASSERT_TRUE(instances[0]->Stop(seconds(10)));
    EXPECT_TRUE(instances[0]->HostPids().empty());
    ASSERT_TRUE(instances[0]->Teardown());
    instances.clear();  // the second one's destructor removes it
  }                     // the launcher's destructor: rm -a, rmi, its cgroup parent, the store
  auto left = LeftBehind(prefix, work);
  EXPECT_TRUE(left.empty()) << JoinArgv(left);
  EXPECT_FALSE(PathExists(PodmanStoreDir(work, runtime_))) << "the podman store is still there";
}

// A cvbench SIGKILLed with a podman container running (its launcher never cleans up): the next
// cvbench's reaper removes the container, its conmon, the cgroups and the store, and says so.
TEST_P(PodmanLauncherTest, ADeadSweepsContainersAreReaped) {
  int ready_pipe[2];
  ASSERT_EQ(::pipe(ready_pipe), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(ready_pipe[0]);
    auto made = registry_.Make({GetParam(), root_ + "/" + std::to_string(::getpid()), "", {}});
    if (!made || !(*made)->Check() || !(*made)->Prepare(image_)) ::_exit(2);
    WorkloadRequest idle;
    idle.mode = "idle";
    auto inst = (*made)->Start(idle);
    if (!inst || !(*inst)->WaitReady(seconds(60))) ::_exit(3);
    (void)!::write(ready_pipe[1], "R", 1);
    for (;;) ::pause();  // killed below, like an OOM-killed cvbench
  }
  ::close(ready_pipe[1]);
  char byte = 0;
  ssize_t got = ::read(ready_pipe[0], &byte, 1);
  ::close(ready_pipe[0]);
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  std::string prefix = "cvb-podman-" + runtime_ + "-" + std::to_string(child);
  bool left_something = !LeftBehind(prefix, root_).empty();
  // Reaped whatever happened to the child (a failed start leaves its store and cgroups too).
  LeftoverRoots roots;
  roots.work_root = root_;
  roots.scratch_roots = {};
  auto removed = ReapDeadSweeps(roots);
  EXPECT_EQ(got, 1) << "the child sweep could not start its container (exit " << WEXITSTATUS(status)
                    << ")";
  EXPECT_TRUE(left_something) << "the dead sweep left nothing to reap";
  std::string all = JoinArgv(removed);
  EXPECT_NE(all.find("removed podman container " + prefix + "-"), std::string::npos) << all;
  EXPECT_EQ(all.find("could not"), std::string::npos) << all;
  ReapOrphans();
  auto left = LeftBehind(prefix, root_);
  EXPECT_TRUE(left.empty()) << JoinArgv(left);
  EXPECT_FALSE(PathExists(root_ + "/" + std::to_string(child)));
}

std::string ParamName(const ::testing::TestParamInfo<std::string>& info) {
  return PodmanRuntimeOf(info.param);
}

INSTANTIATE_TEST_SUITE_P(Runtimes, PodmanLauncherTest,
                         ::testing::Values("podman/runtime:crun", "podman/runtime:cvrun"),
                         ParamName);

}  // namespace
}  // namespace cvb::launcher
