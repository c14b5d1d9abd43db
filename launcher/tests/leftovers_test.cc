// Leftovers of a dead cvbench on fake roots (temporary directories): what is found, what is
// removed, and that a live owner's things are never touched. The real thing (a SIGKILLed
// cvbench with running containers) is bench/tests/leftovers_integration_test.cc.
#include "cvb/launcher/leftovers.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cvb/common/file.h"

namespace cvb::launcher {
namespace {

pid_t DeadPid() {
  pid_t p = ::fork();
  if (p == 0) ::_exit(0);
  ::waitpid(p, nullptr, 0);
  return p;
}

class LeftoversTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cvb-leftovers-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    base_ = tmpl;
    roots_.work_root = base_ + "/work";
    roots_.netns_root = base_ + "/netns";
    roots_.cgroup_root = base_ + "/cgroup";  // empty: no hierarchy to walk
    roots_.scratch_roots = {base_ + "/scratch"};
    for (const auto& d :
         {roots_.work_root, roots_.netns_root, roots_.cgroup_root, roots_.scratch_roots[0]})
      ASSERT_TRUE(MakeDirs(d));
  }
  void TearDown() override { (void)RemoveTree(base_); }

  // What a sweep of `owner` leaves: its work dir with one bundle, a scratch dir, a netns file.
  void Leave(pid_t owner, int netns_index) {
    std::string o = std::to_string(owner);
    ASSERT_TRUE(MakeDirs(roots_.work_root + "/" + o + "/run/cvb-nosuchrt-" + o + "-0"));
    ASSERT_TRUE(MakeDirs(roots_.scratch_roots[0] + "/cvb-crun-" + o + "-3/upper"));
    ASSERT_TRUE(
        WriteFile(roots_.netns_root + "/cvb-n" + std::to_string(netns_index) + "-p" + o, ""));
  }

  std::string base_;
  LeftoverRoots roots_;
};

TEST_F(LeftoversTest, RemovesWhatADeadOwnerLeftAndSaysSo) {
  pid_t dead = DeadPid();
  Leave(dead, 9001);
  auto owners = DeadSweepOwners(roots_);
  ASSERT_EQ(owners.size(), 1u);
  EXPECT_EQ(owners[0], dead);
  auto removed = ReapDeadSweeps(roots_);
  std::string all;
  for (const auto& l : removed) all += l + "\n";
  std::string o = std::to_string(dead);
  EXPECT_NE(all.find("removed network namespace"), std::string::npos) << all;
  EXPECT_NE(all.find("removed scratch directory"), std::string::npos) << all;
  EXPECT_NE(all.find("removed work directory"), std::string::npos) << all;
  EXPECT_FALSE(PathExists(roots_.work_root + "/" + o));
  EXPECT_FALSE(PathExists(roots_.scratch_roots[0] + "/cvb-crun-" + o + "-3"));
  EXPECT_FALSE(PathExists(roots_.netns_root + "/cvb-n9001-p" + o));
  EXPECT_TRUE(DeadSweepOwners(roots_).empty());
}

TEST_F(LeftoversTest, ALiveOwnerIsLeftAlone) {
  pid_t self = ::getpid();
  Leave(self, 9002);
  EXPECT_TRUE(DeadSweepOwners(roots_).empty());
  EXPECT_TRUE(ReapDeadSweeps(roots_).empty());
  std::string o = std::to_string(self);
  EXPECT_TRUE(PathExists(roots_.work_root + "/" + o));
  EXPECT_TRUE(PathExists(roots_.scratch_roots[0] + "/cvb-crun-" + o + "-3"));
  EXPECT_TRUE(PathExists(roots_.netns_root + "/cvb-n9002-p" + o));
}

TEST_F(LeftoversTest, NamesOfOthersAreNotOurs) {
  pid_t dead = DeadPid();
  std::string o = std::to_string(dead);
  Leave(dead, 9003);
  // Similar names that do not carry the dead owner's pid as a whole field.
  ASSERT_TRUE(MakeDirs(roots_.scratch_roots[0] + "/cvb-crun-" + o + "9-1"));
  ASSERT_TRUE(MakeDirs(roots_.scratch_roots[0] + "/other-" + o + "-1"));
  ASSERT_TRUE(WriteFile(roots_.netns_root + "/somebody-else", ""));
  (void)ReapDeadSweeps(roots_);
  EXPECT_TRUE(PathExists(roots_.scratch_roots[0] + "/cvb-crun-" + o + "9-1"));
  EXPECT_TRUE(PathExists(roots_.scratch_roots[0] + "/other-" + o + "-1"));
  EXPECT_TRUE(PathExists(roots_.netns_root + "/somebody-else"));
}

}  // namespace
}  // namespace cvb::launcher
