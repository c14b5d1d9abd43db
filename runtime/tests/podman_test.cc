// podman --runtime <cvrun> run --rm IMAGE /bin/true with a locally built image (no registry),
// podman configured through CONTAINERS_CONF (cgroupfs, file events, ulimits within this host's
// hard limits), not through /etc.
#include <unistd.h>

#include <gtest/gtest.h>

#include "cvb/common/file.h"
#include "test_env.h"

namespace cvb::runtime::testenv {
namespace {

TEST(Podman, RunRmTrue) {
  if (!IsRoot()) GTEST_SKIP() << "needs root (rootful podman)";
  if (FindProgram("podman").empty()) GTEST_SKIP() << "podman is not installed";
  std::string dir = TestDir() + "/podman";
  ASSERT_TRUE(MakeDirs(dir).ok());
  std::string conf = dir + "/containers.conf";
  ASSERT_TRUE(WriteFile(conf,
                        "[containers]\n"
                        "default_ulimits = [\"nofile=1024:1024\", \"nproc=4096:4096\"]\n"
                        "netns = \"none\"\n"
                        "[engine]\n"
                        "cgroup_manager = \"cgroupfs\"\n"
                        "events_logger = \"file\"\n")
                  .ok());
  std::vector<std::string> env = {"CONTAINERS_CONF=" + conf};
  SpawnOptions so;
  so.extra_env = env;
  std::string image = "localhost/cvrun-it-busybox:" + std::to_string(getpid());
  std::string tar = dir + "/rootfs.tar";
  auto packed = cvb::Run({"tar", "-C", SharedRootfs(), "-cf", tar, "."}, std::chrono::seconds(30), so);
  ASSERT_TRUE(packed.ok() && packed->status.ok());
  auto imported = cvb::Run({"podman", "import", tar, image}, std::chrono::seconds(60), so);
  ASSERT_TRUE(imported.ok());
  ASSERT_TRUE(imported->status.ok()) << imported->err;
  auto run = cvb::Run({"podman", "--runtime", CVRUN_BINARY, "run", "--rm", image, "/bin/true"},
                 std::chrono::seconds(60), so);
  ASSERT_TRUE(run.ok());
  EXPECT_TRUE(run->status.ok()) << run->err;
  auto echo = cvb::Run({"podman", "--runtime", CVRUN_BINARY, "run", "--rm", image, "/bin/sh", "-c",
                   "echo hello-from-cvrun; cat /proc/self/status | grep Seccomp:"},
                  std::chrono::seconds(60), so);
  ASSERT_TRUE(echo.ok());
  EXPECT_TRUE(echo->status.ok()) << echo->err;
  EXPECT_NE(echo->out.find("hello-from-cvrun"), std::string::npos);
  EXPECT_NE(echo->out.find("Seccomp:\t2"), std::string::npos) << echo->out;
  (void)cvb::Run({"podman", "rmi", "-f", image}, std::chrono::seconds(60), so);
  (void)RemoveTree(TestDir());
  // podman keeps its own cgroups (libpod_parent); ours (state under podman's root) are gone.
  auto mi = ReadFile("/proc/self/mountinfo");
  ASSERT_TRUE(mi.ok());
  EXPECT_EQ(mi->find("cvrun"), std::string::npos);
}

}  // namespace
}  // namespace cvb::runtime::testenv
