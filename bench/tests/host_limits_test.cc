#include "host_limits.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

namespace cvb::bench {
namespace {

std::vector<HostLimit> Limits() {
  HostLimit nofile{"RLIMIT_NOFILE (soft)", 1024};
  nofile.hard = 4096;
  return {nofile,
          {"kernel.pid_max", 32768},
          {"kernel.threads-max", 100000},
          {"user.max_net_namespaces", 500},
          {"user.max_cgroup_namespaces", 10},
          {"pids.max of /sys/fs/cgroup/pids/x", 0, /*unlimited=*/true}};
}

TEST(HostLimits, AStepWithinEveryLimitPasses) {
  EXPECT_TRUE(CheckFleetLimits(100, Limits(), {100, 1000}).ok());
}

TEST(HostLimits, OpenFilesBeyondTheSoftLimitStopTheStepNamingIt) {
  auto r = CheckFleetLimits(480, Limits(), {100, 1000});  // 100 + 2 * 480 > 1024
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("RLIMIT_NOFILE (soft) = 1024 < 1060"), std::string::npos)
      << r.error().message();
  EXPECT_NE(r.error().message().find("hard limit 4096"), std::string::npos);
}

TEST(HostLimits, NamespacesAndTasksStopTheStepNamingTheLimit) {
  auto ns = CheckFleetLimits(501, Limits(), {0, 0});
  ASSERT_FALSE(ns.ok());
  EXPECT_NE(ns.error().message().find("user.max_net_namespaces = 500"), std::string::npos)
      << ns.error().message();
  auto tasks = CheckFleetLimits(100, Limits(), {0, 32500});  // 32500 + 4 * 100 > 32768
  ASSERT_FALSE(tasks.ok());
  EXPECT_NE(tasks.error().message().find("kernel.pid_max = 32768"), std::string::npos)
      << tasks.error().message();
  // cgroup namespaces are not unshared by the bundles (fingerprint ns.cgroup: host).
  EXPECT_TRUE(CheckFleetLimits(100, Limits(), {0, 0}).ok());
}

TEST(HostLimits, PidsMaxCountsItsSubtreeOnly) {
  auto limits = Limits();
  limits.back() = {"pids.max of /sys/fs/cgroup/pids/x", 1000, false};
  limits.back().in_use = 700;
  auto r = CheckFleetLimits(100, limits, {0, 20000});  // 700 + 400 > 1000
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("pids.max of /sys/fs/cgroup/pids/x = 1000 < 1100"),
            std::string::npos)
      << r.error().message();
  EXPECT_TRUE(CheckFleetLimits(50, limits, {0, 20000}).ok());
}

TEST(HostLimits, AFailedStartNamesTheLimitsBehindItsError) {
  auto limits = Limits();
  EXPECT_EQ(LimitsBehind("crun: create: Too many open files", limits),
            "; limits behind EMFILE: RLIMIT_NOFILE (soft) = 1024");
  std::string eagain = LimitsBehind("fork: Resource temporarily unavailable", limits);
  EXPECT_NE(eagain.find("kernel.pid_max = 32768"), std::string::npos) << eagain;
  EXPECT_NE(eagain.find("pids.max of /sys/fs/cgroup/pids/x = unlimited"), std::string::npos);
  EXPECT_NE(LimitsBehind("unshare: No space left on device", limits).find("user.max_net"),
            std::string::npos);
  EXPECT_EQ(LimitsBehind("exit status 1: bad config", limits), "");
}

TEST(HostLimits, SoftLimitsGoUpToTheHardOnesAndSaySo) {
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  if (saved.rlim_max < 64) GTEST_SKIP() << "hard RLIMIT_NOFILE below 64";
  rlimit low = saved;
  low.rlim_cur = 64;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  auto raised = RaiseOwnSoftLimits();
  rlimit now{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &now), 0);
  EXPECT_EQ(now.rlim_cur, saved.rlim_max);
  bool said = false;
  for (const auto& r : raised) said |= r.rfind("RLIMIT_NOFILE 64 -> ", 0) == 0;
  EXPECT_TRUE(said);
  // Nothing left to raise: nothing said.
  for (const auto& r : RaiseOwnSoftLimits()) EXPECT_EQ(r.find("RLIMIT_NOFILE"), std::string::npos);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
  EXPECT_NE(DescribeLimits(ReadFleetLimits()).find("RLIMIT_NOFILE (soft) = "), std::string::npos);
}

}  // namespace
}  // namespace cvb::bench
