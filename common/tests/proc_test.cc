#include "cvb/common/proc.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>
#include <unistd.h>

#include "cvb/common/file.h"
#include "cvb/common/subprocess.h"

namespace cvb {
namespace {

TEST(ProcessGoneTest, AZombieIsGoneARunningProcessIsNot) {
  EXPECT_FALSE(ProcessGone(::getpid()));
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  // Not reaped yet: a zombie, which kill(pid, 0) still finds.
  for (int i = 0; i < 200 && !ProcessGone(child); ++i) ::usleep(10000);
  EXPECT_TRUE(ProcessGone(child));
  EXPECT_EQ(::kill(child, 0), 0);
  ASSERT_EQ(::waitpid(child, nullptr, 0), child);
  EXPECT_TRUE(ProcessGone(child));
}

TEST(SmapsRollupTest, ParsesPssAndUss) {
  const char* text =
      "00400000-7ffd1e7b1000 ---p 00000000 00:00 0                          [rollup]\n"
      "Rss:                1000 kB\n"
      "Pss:                 600 kB\n"
      "Pss_Anon:            100 kB\n"
      "Shared_Clean:        500 kB\n"
      "Private_Clean:        50 kB\n"
      "Private_Dirty:       150 kB\n"
      "Swap:                  4 kB\n";
  auto m = ParseSmapsRollup(text);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->rss, 1000u * 1024);
  EXPECT_EQ(m->pss, 600u * 1024);  // not Pss_Anon
  EXPECT_EQ(m->uss, 200u * 1024);
  EXPECT_EQ(m->swap, 4u * 1024);
}

TEST(SmapsRollupTest, RejectsTextWithoutPss) { EXPECT_FALSE(ParseSmapsRollup("Rss: 1 kB\n")); }

TEST(SmapsRollupTest, ReadsOwnProcess) {
  auto m = ReadProcessMemory(::getpid());
  ASSERT_TRUE(m);
  EXPECT_GT(m->pss, 0u);
  EXPECT_GE(m->rss, m->uss);
}

TEST(MeminfoTest, ParsesEveryField) {
  auto m = ParseMeminfo(
      "MemTotal:       24683620 kB\nSUnreclaim:        29228 kB\nHugePages_Total:       0\n"
      "Percpu:              760 kB\nbroken line\n");
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->at("MemTotal"), 24683620ull * 1024);
  EXPECT_EQ(m->at("SUnreclaim"), 29228ull * 1024);
  EXPECT_EQ(m->at("Percpu"), 760ull * 1024);
  EXPECT_EQ(m->at("HugePages_Total"), 0u);  // a count, not kB
  EXPECT_EQ(m->count("broken line"), 0u);
  EXPECT_FALSE(ParseMeminfo("Slab: 1 kB\n"));  // not meminfo: no MemTotal
  auto live = ReadMeminfoAll();
  ASSERT_TRUE(live);
  EXPECT_GT(live->at("MemTotal"), 0u);
  EXPECT_TRUE(live->count("SUnreclaim"));
}

TEST(ProcStatusTest, PageTablesAndThreads) {
  auto k = ParseProcStatus("Name:\tcat\nVmPTE:\t      48 kB\nThreads:\t3\n");
  ASSERT_TRUE(k) << k.error().message();
  EXPECT_EQ(k->page_tables, 48u * 1024);
  EXPECT_EQ(k->threads, 3u);
  EXPECT_FALSE(ParseProcStatus("Name:\tcat\n"));
  auto self = ReadProcessesKernelMemory({::getpid(), 999999999});  // the second does not exist
  EXPECT_EQ(self.processes, 1);
  EXPECT_GE(self.threads, 1u);
  EXPECT_GT(self.page_tables, 0u);
}

TEST(MeminfoTest, FindsField) {
  auto v = ParseMeminfoField("MemTotal: 100 kB\nMemAvailable:  42 kB\n", "MemAvailable");
  ASSERT_TRUE(v);
  EXPECT_EQ(*v, 42u * 1024);
  EXPECT_FALSE(ParseMeminfoField("MemTotal: 1 kB\n", "MemAvailable"));
  EXPECT_TRUE(ReadMeminfo("MemAvailable"));
}

TEST(ProcessTreeTest, IncludesGrandchildren) {
  // sh -> sleep: the tree of sh has both.
  auto child = Spawn({"/bin/sh", "-c", "sleep 5 & wait"});
  ASSERT_TRUE(child);
  std::vector<pid_t> tree;
  // Until the forked shell has become sleep: between fork and exec it is still named sh, a
  // window that a loaded machine makes long.
  for (int i = 0; i < 500; ++i) {
    ::usleep(10000);
    tree = ProcessTree(child->pid());
    if (tree.size() >= 2 && ProcessName(tree[1]).value_or_empty() == "sleep") break;
  }
  EXPECT_EQ(tree.front(), child->pid());
  ASSERT_EQ(tree.size(), 2u);
  EXPECT_EQ(ParentPid(tree[1]).value_or(-1), child->pid());
  EXPECT_EQ(ProcessName(tree[1]).value_or_empty(), "sleep");
  ::kill(tree[1], SIGKILL);
}

TEST(ProcViewTest, StatusFieldCapabilitiesAndSeccomp) {
  std::string status = "Name:\tsh\nCapEff:\t0000000020000420\nCapBnd:\t000001ffffffffff\nSeccomp:\t2\n";
  EXPECT_EQ(StatusField(status, "CapEff"), "0000000020000420");
  EXPECT_EQ(StatusField(status, "Seccomp"), "2");
  EXPECT_EQ(StatusField(status, "Seccomp_filters"), "");  // absent, and no prefix match
  EXPECT_EQ(StatusField(status, "Cap"), "");
  // CAP_KILL (5), CAP_NET_BIND_SERVICE (10), CAP_AUDIT_WRITE (29); not CAP_SYS_ADMIN (21).
  EXPECT_TRUE(HasCapability("0000000020000420", 5));
  EXPECT_FALSE(HasCapability("0000000020000420", 21));
  EXPECT_TRUE(HasCapability("000001ffffffffff", 21));
  EXPECT_FALSE(HasCapability("", 21));
  EXPECT_EQ(CountCapabilities("0000000020000420"), 3);
  EXPECT_EQ(CountCapabilities("000001ffffffffff"), 41);
}

TEST(ProcViewTest, OpenFdsSeesAnInheritedFileAndNotItsOwnDirectory) {
  int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  auto fds = OpenFds("self");
  ::close(fd);
  bool found = false;
  for (const auto& [n, target] : fds) {
    if (n == fd) found = target == "/dev/null";
    EXPECT_FALSE(target.size() > 3 && target.compare(target.size() - 3, 3, "/fd") == 0)
        << "its own /proc/self/fd directory: fd " << n << " " << target;
  }
  EXPECT_TRUE(found);
}

TEST(ProcViewTest, NetDevNamesAndCmdlineArgs) {
  std::string dev =
      "Inter-|   Receive                            |  Transmit\n"
      " face |bytes    packets errs drop fifo frame|bytes\n"
      "    lo:  1234 5 0 0 0 0 0\n"
      "cvbi12345678h: 0 0 0 0 0 0 0\n";
  EXPECT_EQ(ParseNetDevNames(dev), (std::vector<std::string>{"lo", "cvbi12345678h"}));
  std::string cmd("cvb-workload\0idle\0cvb-iso-proc-abc\0", 35);
  EXPECT_TRUE(CmdlineHasArg(cmd, "cvb-iso-proc-abc"));
  EXPECT_FALSE(CmdlineHasArg(cmd, "cvb-iso-proc-ab"));  // exact element only
  EXPECT_FALSE(CmdlineHasArg(std::string("x\0--process=cvb-iso-proc-abc\0", 29), "cvb-iso-proc-abc"));
  EXPECT_FALSE(VisiblePids().empty());
}

TEST(ProcTextTest, StatusFields) {
  auto f = ParseStatusFields("Name:\tsh\nCapEff:\t00000000a80425fb\nSeccomp:\t2\nNoNewPrivs:\t1\n");
  EXPECT_EQ(f["Name"], "sh");
  EXPECT_EQ(f["CapEff"], "00000000a80425fb");
  EXPECT_EQ(f["Seccomp"], "2");
  EXPECT_EQ(f.count("Seccomp_filters"), 0u);
}

TEST(ProcTextTest, LimitsSoftSlashHard) {
  const char* text =
      "Limit                     Soft Limit           Hard Limit           Units     \n"
      "Max cpu time              unlimited            unlimited            seconds   \n"
      "Max open files            1024                 1048576              files     \n"
      "Max realtime timeout      unlimited            unlimited            us        \n";
  auto l = ParseLimits(text);
  EXPECT_EQ(l["open_files"], "1024/1048576");
  EXPECT_EQ(l["cpu_time"], "unlimited/unlimited");
  EXPECT_EQ(l["realtime_timeout"], "unlimited/unlimited");
  EXPECT_EQ(l.size(), 3u);
  // The real file parses to the same names.
  auto own = ParseLimits(ReadFile("/proc/self/limits").value_or_empty());
  EXPECT_TRUE(own.count("open_files"));
  EXPECT_TRUE(own.count("processes"));
}

TEST(ProcTextTest, CompactLinesAndCount) {
  EXPECT_EQ(CompactLines("         0          0 4294967295\n"), "0 0 4294967295");
  EXPECT_EQ(CompactLines("c 1:3 rwm\nc *:* m\n\nb *:* m\n"), "c 1:3 rwm;c *:* m;b *:* m");
  EXPECT_EQ(CountLines("a\nb\n\nc\n"), 3u);
  EXPECT_EQ(CountLines(""), 0u);
}

}  // namespace
}  // namespace cvb
