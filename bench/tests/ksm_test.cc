// KSM control on a fake sysfs directory: values set and restored, a settle that waits for full
// scans and stops moving, a bounded wait, and a kernel without KSM refused.
#include "ksm.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include "cvb/common/file.h"

namespace cvb::bench {
namespace {

class FakeKsm : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cvb-ksm-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    Put("run", "0");
    Put("pages_to_scan", "100");
    Put("sleep_millisecs", "20");
    Put("merge_across_nodes", "1");
    Put("pages_shared", "0");
    Put("pages_sharing", "0");
    Put("pages_unshared", "0");
    Put("full_scans", "7");
  }
  void TearDown() override { (void)RemoveTree(dir_); }
  void Put(const std::string& key, const std::string& value) {
    ASSERT_TRUE(WriteFile(dir_ + "/" + key, value + "\n").ok());
  }
  std::string Get(const std::string& key) { return Trim(ReadFile(dir_ + "/" + key).value()); }
  std::string dir_;
};

TEST_F(FakeKsm, OnSetsTheRateAndRunAndRestoresTheHostsValues) {
  KsmSysfs sysfs(dir_, dir_ + "/cvbench-ksm.lock");
  {
    auto scoped = ScopedKsm::Apply(sysfs, KsmRequest{true, 4000, 10});
    ASSERT_TRUE(scoped.ok()) << scoped.error().message();
    EXPECT_EQ(Get("run"), "1");
    EXPECT_EQ(Get("pages_to_scan"), "4000");
    EXPECT_EQ(Get("sleep_millisecs"), "10");
    EXPECT_EQ(Get("merge_across_nodes"), "1");  // never touched
    EXPECT_EQ((*scoped)->saved().at("run"), "0");
  }
  EXPECT_EQ(Get("run"), "0");
  EXPECT_EQ(Get("pages_to_scan"), "100");
  EXPECT_EQ(Get("sleep_millisecs"), "20");
}

TEST_F(FakeKsm, OffOnAHostThatRunsKsmStopsItAndStartsItAgain) {
  Put("run", "1");
  KsmSysfs sysfs(dir_, dir_ + "/cvbench-ksm.lock");
  {
    auto scoped = ScopedKsm::Apply(sysfs, KsmRequest{false});
    ASSERT_TRUE(scoped.ok());
    EXPECT_EQ(Get("run"), "0");
    EXPECT_EQ(Get("pages_to_scan"), "100");  // the rate is only set for on
  }
  EXPECT_EQ(Get("run"), "1");
}

TEST_F(FakeKsm, ValuesAlreadyAsAskedAreNotRecordedAsChanged) {
  KsmSysfs sysfs(dir_, dir_ + "/cvbench-ksm.lock");
  auto scoped = ScopedKsm::Apply(sysfs, KsmRequest{false});
  ASSERT_TRUE(scoped.ok());
  EXPECT_TRUE((*scoped)->saved().empty());
}

TEST_F(FakeKsm, AFailedSetRestoresWhatWasAlreadyChanged) {
  // run cannot be written (a directory in its place): pages_to_scan and sleep_millisecs, set
  // before it, are given back.
  ASSERT_EQ(::unlink((dir_ + "/run").c_str()), 0);
  ASSERT_TRUE(MakeDirs(dir_ + "/run").ok());
  KsmSysfs sysfs(dir_, dir_ + "/cvbench-ksm.lock");
  auto scoped = ScopedKsm::Apply(sysfs, KsmRequest{true, 4000, 10});
  ASSERT_FALSE(scoped.ok());
  EXPECT_NE(scoped.error().message().find("run"), std::string::npos) << scoped.error().message();
  EXPECT_EQ(Get("pages_to_scan"), "100");
  EXPECT_EQ(Get("sleep_millisecs"), "20");
}

TEST_F(FakeKsm, ASecondScopeWhileOneHoldsKsmIsRefusedNamingTheLockAndItsHolder) {
  // Two scopes at once stand for two runs at once (a flock conflicts between open files, in one
  // process as in two): the second must neither change KSM nor restore the first's values.
  std::string lock = dir_ + "/cvbench-ksm.lock";
  KsmSysfs sysfs(dir_, lock);
  {
    auto first = ScopedKsm::Apply(sysfs, KsmRequest{true, 4000, 10});
    ASSERT_TRUE(first.ok()) << first.error().message();
    EXPECT_EQ(Trim(ReadFile(lock).value_or_empty()), std::to_string(::getpid()));
    auto second = ScopedKsm::Apply(sysfs, KsmRequest{false});
    ASSERT_FALSE(second.ok()) << "a second scope changed KSM while the first held it";
    const std::string msg = second.error().message();
    EXPECT_NE(msg.find(lock), std::string::npos) << msg;
    EXPECT_NE(msg.find("pid " + std::to_string(::getpid())), std::string::npos) << msg;
    EXPECT_EQ(Get("run"), "1");  // still the first scope's setting
    EXPECT_EQ(Get("pages_to_scan"), "4000");
  }
  // The first restored the host's values and released the lock: a later scope may start.
  EXPECT_EQ(Get("run"), "0");
  EXPECT_EQ(Get("pages_to_scan"), "100");
  auto later = ScopedKsm::Apply(sysfs, KsmRequest{true});
  ASSERT_TRUE(later.ok()) << later.error().message();
  EXPECT_EQ(Get("run"), "1");
}

TEST_F(FakeKsm, ALockPathThatIsASymlinkIsNotFollowed) {
  std::string target = dir_ + "/elsewhere";
  ASSERT_EQ(::symlink(target.c_str(), (dir_ + "/cvbench-ksm.lock").c_str()), 0);
  KsmSysfs sysfs(dir_, dir_ + "/cvbench-ksm.lock");
  auto scoped = ScopedKsm::Apply(sysfs, KsmRequest{true});
  ASSERT_FALSE(scoped.ok());
  EXPECT_NE(scoped.error().message().find("cvbench-ksm.lock"), std::string::npos);
  EXPECT_FALSE(PathExists(target));
  EXPECT_EQ(Get("run"), "0");
}

TEST(Ksm, AKernelWithoutKsmIsRefusedNamingTheFile) {
  KsmSysfs sysfs("/tmp/cvb-ksm-test-does-not-exist");
  EXPECT_FALSE(sysfs.Available());
  auto scoped = ScopedKsm::Apply(sysfs, KsmRequest{true});
  ASSERT_FALSE(scoped.ok());
  EXPECT_NE(scoped.error().message().find("/tmp/cvb-ksm-test-does-not-exist/run"),
            std::string::npos);
}

TEST_F(FakeKsm, CountersAreReadAndGarbageIsAnErrorNamingTheFile) {
  Put("pages_sharing", "1234");
  KsmSysfs sysfs(dir_, dir_ + "/cvbench-ksm.lock");
  auto c = sysfs.Counters();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->pages_sharing, 1234u);
  EXPECT_EQ(c->full_scans, 7u);
  Put("pages_shared", "x1");
  auto bad = sysfs.Counters();
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("pages_shared"), std::string::npos);
}

TEST_F(FakeKsm, SettledAfterTwoFullScansThatNoLongerMoveSharing) {
  KsmSysfs sysfs(dir_, dir_ + "/cvbench-ksm.lock");
  // Each poll is one full scan; sharing grows 0 -> 5000 -> 9000 -> 9100 -> 9150 and stays.
  std::vector<uint64_t> sharing{5000, 9000, 9100, 9150, 9150, 9150};
  size_t step = 0;
  auto fake_sleep = [&](int) {
    uint64_t v = sharing[std::min(step, sharing.size() - 1)];
    Put("pages_sharing", std::to_string(v));
    Put("full_scans", std::to_string(8 + step));
    ++step;
  };
  KsmSettled s = WaitKsmSettled(sysfs, 60'000, 500, 256, fake_sleep);
  EXPECT_TRUE(s.stable);
  // 9000 -> 9100 (third scan) is the first scan-to-scan move below 256 pages.
  EXPECT_EQ(s.counters.pages_sharing, 9100u);
  EXPECT_EQ(s.waited_ms, 1500);
}

TEST_F(FakeKsm, NoFullScanWithinTheBoundIsNotSettled) {
  KsmSysfs sysfs(dir_, dir_ + "/cvbench-ksm.lock");
  // ksmd never finishes a scan (sharing keeps growing within one scan): the bound stops it.
  uint64_t v = 0;
  auto fake_sleep = [&](int) { Put("pages_sharing", std::to_string(v += 1000)); };
  KsmSettled s = WaitKsmSettled(sysfs, 3'000, 500, 256, fake_sleep);
  EXPECT_FALSE(s.stable);
  EXPECT_EQ(s.waited_ms, 3000);
  EXPECT_EQ(s.counters.pages_sharing, 6000u);
}

TEST_F(FakeKsm, SharingThatKeepsMovingAcrossScansIsNotSettled) {
  KsmSysfs sysfs(dir_, dir_ + "/cvbench-ksm.lock");
  uint64_t scans = 7, v = 0;
  auto fake_sleep = [&](int) {
    Put("full_scans", std::to_string(++scans));
    Put("pages_sharing", std::to_string(v += 1000));
  };
  KsmSettled s = WaitKsmSettled(sysfs, 5'000, 500, 256, fake_sleep);
  EXPECT_FALSE(s.stable);
  EXPECT_EQ(s.waited_ms, 5000);
}

TEST(Ksm, ModesParseAndGarbageIsRefused) {
  auto both = ParseKsmModes("off,on");
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(*both, (std::vector<bool>{false, true}));
  EXPECT_EQ(*ParseKsmModes("on"), std::vector<bool>{true});
  auto bad = ParseKsmModes("off,yes");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("'yes'"), std::string::npos);
  EXPECT_FALSE(ParseKsmModes("").ok());
}

}  // namespace
}  // namespace cvb::bench
