// The pause/resume protocol through FakeSys: which file gets which value, and that a freeze
// waits until the kernel reports it (a fake that answers FREEZING a few times).
#include "cgroup/freezer.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "sys/sys.h"

namespace cvb::runtime::cgroup {
namespace {

const std::vector<std::string> kHybridLeaves = {"/sys/fs/cgroup/memory/cvrun-x",
                                                "/sys/fs/cgroup/freezer/cvrun-x",
                                                "/sys/fs/cgroup/unified/cvrun-x"};

// A v1 freezer that stays FREEZING for `freezing_reads` reads after each FROZEN write, as the
// kernel does while tasks are still on their way into the refrigerator.
class SlowFreezer : public sys::FakeSys {
 public:
  int freezing_reads = 0;
  int pending = 0;
  bool armed = false;
  Result<void> WriteFile(const std::string& path, std::string_view data) override {
    auto r = FakeSys::WriteFile(path, data);
    if (path.ends_with("/freezer.state") && data == "FROZEN" && !armed) {
      armed = true;
      pending = freezing_reads;
    }
    return r;
  }
  Result<std::string> ReadFile(const std::string& path) override {
    if (path.ends_with("/freezer.state") && pending > 0) {
      --pending;
      return std::string("FREEZING\n");
    }
    return FakeSys::ReadFile(path);
  }
  void SleepMs(int ms) override { slept += ms; }
  int slept = 0;
};

void AddHybrid(sys::FakeSys& fs) {
  for (const auto& leaf : kHybridLeaves) fs.AddDir(leaf);
  fs.AddFile("/sys/fs/cgroup/freezer/cvrun-x/freezer.state", "THAWED\n");
  // The unified directory has cgroup.freeze too: a hybrid host must not use it.
  fs.AddFile("/sys/fs/cgroup/unified/cvrun-x/cgroup.freeze", "0\n");
  fs.AddFile("/sys/fs/cgroup/unified/cvrun-x/cgroup.events", "populated 1\nfrozen 0\n");
}

TEST(Freezer, HybridUsesTheV1Freezer) {
  sys::FakeSys fs;
  AddHybrid(fs);
  auto f = FindFreezer(fs, kHybridLeaves, "hybrid");
  ASSERT_TRUE(f.ok()) << f.error().message();
  EXPECT_EQ(f->dir, "/sys/fs/cgroup/freezer/cvrun-x");
  EXPECT_FALSE(f->v2);
  auto v1 = FindFreezer(fs, kHybridLeaves, "v1");
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(v1->dir, f->dir);
}

TEST(Freezer, MissingFreezerIsAnErrorNamingTheFile) {
  sys::FakeSys fs;
  fs.AddDir("/sys/fs/cgroup/memory/cvrun-x");
  auto f = FindFreezer(fs, {"/sys/fs/cgroup/memory/cvrun-x"}, "v1");
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.error().message().find("freezer.state"), std::string::npos);
}

TEST(Freezer, V1FreezeWaitsUntilFrozenAndRewritesTheRequest) {
  SlowFreezer fs;
  AddHybrid(fs);
  fs.freezing_reads = 3;
  Freezer f{"/sys/fs/cgroup/freezer/cvrun-x", false};
  ASSERT_TRUE(Freeze(fs, f).ok());
  auto writes = std::count(fs.calls.begin(), fs.calls.end(),
                           "write /sys/fs/cgroup/freezer/cvrun-x/freezer.state FROZEN");
  EXPECT_EQ(writes, 4);  // the first write and one per FREEZING answer
  EXPECT_EQ(fs.slept, 3);
  EXPECT_EQ(*ReadFreezerState(fs, f), FreezerState::kFrozen);
  ASSERT_TRUE(Thaw(fs, f).ok());
  EXPECT_EQ(fs.calls.back(), "write /sys/fs/cgroup/freezer/cvrun-x/freezer.state THAWED");
  EXPECT_EQ(*ReadFreezerState(fs, f), FreezerState::kThawed);
}

TEST(Freezer, V1FreezeThatNeverCompletesIsUndoneAndFails) {
  SlowFreezer fs;
  AddHybrid(fs);
  fs.freezing_reads = 1000000;
  Freezer f{"/sys/fs/cgroup/freezer/cvrun-x", false};
  auto r = Freeze(fs, f, /*timeout_ms=*/20);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("did not reach frozen"), std::string::npos)
      << r.error().message();
  EXPECT_EQ(fs.calls.back(), "write /sys/fs/cgroup/freezer/cvrun-x/freezer.state THAWED");
}

// cgroup v2: cgroup.freeze is the request, cgroup.events' "frozen" the answer.
class V2Freezer : public sys::FakeSys {
 public:
  int lag = 0;  // reads of cgroup.events before it follows cgroup.freeze
  Result<std::string> ReadFile(const std::string& path) override {
    if (path.ends_with("/cgroup.events")) {
      std::string want = Trim(files[dir + "/cgroup.freeze"]);
      if (lag > 0) {
        --lag;
        want = want == "1" ? "0" : "1";
      }
      return "populated 1\nfrozen " + want + "\n";
    }
    return FakeSys::ReadFile(path);
  }
  static std::string Trim(const std::string& s) { return s.substr(0, s.find('\n')); }
  std::string dir = "/sys/fs/cgroup/cvrun-x";
};

TEST(Freezer, V2WritesCgroupFreezeAndWaitsForEvents) {
  V2Freezer fs;
  fs.AddDir(fs.dir);
  fs.AddFile(fs.dir + "/cgroup.freeze", "0\n");
  auto f = FindFreezer(fs, {fs.dir}, "v2");
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->v2);
  fs.lag = 2;
  ASSERT_TRUE(Freeze(fs, *f).ok());
  EXPECT_EQ(fs.files[fs.dir + "/cgroup.freeze"], "1");
  // One request, then polling the answer.
  EXPECT_EQ(std::count(fs.calls.begin(), fs.calls.end(), "write " + fs.dir + "/cgroup.freeze 1"),
            1);
  EXPECT_EQ(*ReadFreezerState(fs, *f), FreezerState::kFrozen);
  fs.lag = 1;
  EXPECT_EQ(*ReadFreezerState(fs, *f), FreezerState::kFreezing);
  ASSERT_TRUE(Thaw(fs, *f).ok());
  EXPECT_EQ(fs.files[fs.dir + "/cgroup.freeze"], "0");
  EXPECT_EQ(*ReadFreezerState(fs, *f), FreezerState::kThawed);
}

TEST(Freezer, ThawIfFrozenLeavesAThawedFreezerAlone) {
  sys::FakeSys fs;
  AddHybrid(fs);
  ThawIfFrozen(fs, kHybridLeaves, "hybrid");
  EXPECT_TRUE(fs.calls.empty());
  fs.files["/sys/fs/cgroup/freezer/cvrun-x/freezer.state"] = "FROZEN\n";
  ThawIfFrozen(fs, kHybridLeaves, "hybrid");
  EXPECT_EQ(fs.files["/sys/fs/cgroup/freezer/cvrun-x/freezer.state"], "THAWED");
}

}  // namespace
}  // namespace cvb::runtime::cgroup
