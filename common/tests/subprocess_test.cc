#include "cvb/common/subprocess.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>

#include "cvb/common/clock.h"

namespace cvb {
namespace {

TEST(RunTest, CapturesOutputAndExitCode) {
  auto r = cvb::Run({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->out, "out\n");
  EXPECT_EQ(r->err, "err\n");
  EXPECT_EQ(r->status.code, 3);
  EXPECT_FALSE(r->status.ok());
}

TEST(RunTest, TimesOutAndKills) {
  int64_t t0 = MonotonicNs();
  auto r = cvb::Run({"/bin/sleep", "10"}, std::chrono::milliseconds(200));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().err, ETIMEDOUT);
  EXPECT_LT(MonotonicNs() - t0, 5'000'000'000);
}

TEST(RunTest, MissingProgramNamesIt) {
  auto r = cvb::Run({"cvb-no-such-program"});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("cvb-no-such-program"), std::string::npos);
}

TEST(RunCheckedTest, FailureCarriesStderr) {
  auto r = RunChecked({"/bin/sh", "-c", "echo boom >&2; exit 1"});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("boom"), std::string::npos);
}

// A new session is the child's own (its session id is its pid); without it the child stays in
// ours. Field 6 of /proc/<pid>/stat is the session id.
TEST(SpawnTest, NewSessionLeavesTheCallersSession) {
  const std::vector<std::string> argv = {"sh", "-c", "cut -d' ' -f6 /proc/$$/stat; echo $$"};
  SpawnOptions own;
  own.new_session = true;
  auto r = cvb::Run(argv, std::chrono::seconds(10), own);
  ASSERT_TRUE(r.ok()) << r.error().message();
  std::string sid = r->out.substr(0, r->out.find('\n'));
  std::string pid = r->out.substr(r->out.find('\n') + 1);
  EXPECT_EQ(sid + "\n", pid);
  EXPECT_NE(std::stol(sid), static_cast<long>(::getsid(0)));

  auto same = cvb::Run(argv, std::chrono::seconds(10));
  ASSERT_TRUE(same.ok()) << same.error().message();
  EXPECT_EQ(std::stol(same->out), static_cast<long>(::getsid(0)));
}

TEST(ChildTest, DestructorKillsAndReaps) {
  pid_t pid;
  {
    auto c = Spawn({"/bin/sleep", "30"});
    ASSERT_TRUE(c);
    pid = c->pid();
  }
  EXPECT_NE(::kill(pid, 0), 0);  // gone, not a zombie of ours
}

TEST(ChildTest, StatusSurvivesReapOrphans) {
  auto c = Spawn({"/bin/sh", "-c", "exit 7"});
  ASSERT_TRUE(c);
  ::usleep(200000);
  ReapOrphans();  // reaps it first; the status must still reach its owner
  auto st = c->Wait(std::chrono::seconds(5));
  ASSERT_TRUE(st);
  EXPECT_EQ(st->code, 7);
}

TEST(ChildTest, TimedWaitTimesOutThenGetsTheStatus) {
  auto c = Spawn({"/bin/sh", "-c", "sleep 0.3; exit 5"});
  ASSERT_TRUE(c);
  auto early = c->Wait(std::chrono::milliseconds(20));
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().err, ETIMEDOUT);
  EXPECT_TRUE(c->running());
  auto st = c->Wait(std::chrono::seconds(10));
  ASSERT_TRUE(st);
  EXPECT_EQ(st->code, 5);
  EXPECT_FALSE(c->running());
}

TEST(ChildTest, TimedWaitSeesAReapByAnotherThread) {
  // The pidfd wakes the waiter; a subreaper loop may have reaped the child first.
  auto c = Spawn({"/bin/sh", "-c", "sleep 0.2; exit 9"});
  ASSERT_TRUE(c);
  std::thread reaper([] {
    for (int i = 0; i < 100; ++i) {
      ReapOrphans();
      ::usleep(5000);
    }
  });
  auto st = c->Wait(std::chrono::seconds(10));
  reaper.join();
  ASSERT_TRUE(st);
  EXPECT_EQ(st->code, 9);
}

TEST(WaitForExitTest, WaitsForChildAndTimesOut) {
  auto c = Spawn({"/bin/sleep", "0.2"});
  ASSERT_TRUE(c);
  pid_t pid = c->release();
  auto early = WaitForExit(pid, MonotonicNs() + 10'000'000);
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().err, ETIMEDOUT);
  auto st = WaitForExit(pid, MonotonicNs() + 5'000'000'000);
  ASSERT_TRUE(st);
  ASSERT_TRUE(st->has_value());
  EXPECT_EQ((*st)->code, 0);
}

// A status ReapOrphans recorded for a process nobody waited for stays in the table; when its pid
// comes round again (pid_max wraps many times in a sweep), waiting for the new process must not
// return the old one's status. The new process gets the old pid through ns_last_pid (root).
TEST(WaitForExitTest, AnOlderProcessesStatusUnderTheSamePidIsNotThisOnes) {
  auto old = Spawn({"/bin/sleep", "10"});
  ASSERT_TRUE(old);
  pid_t pid = old->release();
  ::kill(pid, SIGKILL);
  ::usleep(100000);
  ReapOrphans();  // the table now holds "killed by signal 9" for pid, unclaimed
  FILE* f = std::fopen("/proc/sys/kernel/ns_last_pid", "w");
  if (!f) GTEST_SKIP() << "cannot write /proc/sys/kernel/ns_last_pid (needs root): " << strerror(errno);
  std::fprintf(f, "%d", pid - 1);
  std::fclose(f);
  auto reuse = Spawn({"/bin/sh", "-c", "sleep 0.3; exit 4"});
  ASSERT_TRUE(reuse);
  if (reuse->pid() != pid) {
    GTEST_SKIP() << "another process took pid " << pid << " first (got " << reuse->pid() << ")";
  }
  pid_t again = reuse->release();
  auto st = WaitForExit(again, MonotonicNs() + 5'000'000'000);
  ASSERT_TRUE(st);
  ASSERT_TRUE(st->has_value());
  EXPECT_EQ((*st)->signal, 0) << "the old process's SIGKILL was returned for the new one";
  EXPECT_EQ((*st)->code, 4);
}

}  // namespace
}  // namespace cvb
