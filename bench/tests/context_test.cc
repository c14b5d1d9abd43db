// The context readers on fake /sys trees and a fake program: each value the context can take,
// including the ones that say something is absent.
#include "context.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "cvb/common/file.h"

namespace cvb::bench {
namespace {

class ContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cvb-context-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { (void)RemoveTree(root_); }
  void Put(const std::string& rel, const std::string& text) {
    std::string path = root_ + "/" + rel;
    ASSERT_TRUE(MakeDirs(path.substr(0, path.rfind('/'))));
    ASSERT_TRUE(WriteFile(path, text));
  }
  std::string root_;
};

TEST_F(ContextTest, GovernorIsNoneWithoutCpufreq) {
  ASSERT_TRUE(MakeDirs(root_ + "/devices/system/cpu/cpu0"));
  ASSERT_TRUE(MakeDirs(root_ + "/devices/system/cpu/cpufreq"));  // not a CPU
  EXPECT_EQ(ReadCpuGovernor(root_), "none (no cpufreq)");
  EXPECT_EQ(ReadCpuGovernor(root_ + "/missing"), "none (no cpufreq)");
}

TEST_F(ContextTest, GovernorIsOneValueWhenAllCpusAgree) {
  Put("devices/system/cpu/cpu0/cpufreq/scaling_governor", "performance\n");
  Put("devices/system/cpu/cpu1/cpufreq/scaling_governor", "performance\n");
  EXPECT_EQ(ReadCpuGovernor(root_), "performance");
}

TEST_F(ContextTest, GovernorListsEachCpuInOrderWhenTheyDiffer) {
  Put("devices/system/cpu/cpu10/cpufreq/scaling_governor", "powersave\n");
  Put("devices/system/cpu/cpu2/cpufreq/scaling_governor", "performance\n");
  ASSERT_TRUE(MakeDirs(root_ + "/devices/system/cpu/cpu3"));  // offline or no cpufreq: skipped
  EXPECT_EQ(ReadCpuGovernor(root_), "cpu2=performance,cpu10=powersave");
}

TEST_F(ContextTest, ThpReadsTheBracketedChoice) {
  Put("kernel/mm/transparent_hugepage/enabled", "always [madvise] never\n");
  Put("kernel/mm/transparent_hugepage/defrag", "always defer defer+madvise [madvise] never\n");
  EXPECT_EQ(ReadThpSetting("enabled", root_), "madvise");
  EXPECT_EQ(ReadThpSetting("defrag", root_), "madvise");
  Put("kernel/mm/transparent_hugepage/enabled", "[always] madvise never\n");
  EXPECT_EQ(ReadThpSetting("enabled", root_), "always");
}

TEST_F(ContextTest, ThpSaysAbsentOrGivesUnbracketedText) {
  EXPECT_EQ(ReadThpSetting("enabled", root_), "absent");
  Put("kernel/mm/transparent_hugepage/enabled", "never\n");
  EXPECT_EQ(ReadThpSetting("enabled", root_), "never");
}

TEST_F(ContextTest, ProgramVersionIsTheFirstNonEmptyLine) {
  Put("fake-qemu", "#!/bin/sh\necho\necho 'QEMU emulator version 9.9.9 (test)'\necho Copyright\n");
  ASSERT_EQ(::chmod((root_ + "/fake-qemu").c_str(), 0755), 0);
  EXPECT_EQ(ProgramVersionLine(root_ + "/fake-qemu"), "QEMU emulator version 9.9.9 (test)");
}

TEST_F(ContextTest, ProgramVersionSaysWhenAbsentOrFailing) {
  EXPECT_EQ(ProgramVersionLine("cvb-no-such-program"), "absent (cvb-no-such-program not found)");
  Put("fails", "#!/bin/sh\nexit 3\n");
  ASSERT_EQ(::chmod((root_ + "/fails").c_str(), 0755), 0);
  EXPECT_EQ(ProgramVersionLine(root_ + "/fails"), "unknown (" + root_ + "/fails --version failed)");
}

TEST(BuildContextTest, BuildTypeAndCompilerAreCompiledIn) {
  // CMakeLists.txt always sets a build type; the tests are built by the same compiler.
  EXPECT_NE(BuildType(), "unset");
  EXPECT_FALSE(BuildType().empty());
  std::string c = CompilerDescription();
#if defined(__clang__)
  EXPECT_EQ(c.rfind("Clang ", 0), 0u) << c;
  EXPECT_NE(c.find(std::to_string(__clang_major__) + "."), std::string::npos) << c;
#elif defined(__GNUC__)
  EXPECT_EQ(c, "GNU " + std::to_string(__GNUC__) + "." + std::to_string(__GNUC_MINOR__) + "." +
                   std::to_string(__GNUC_PATCHLEVEL__));
#endif
}

TEST(BuildContextTest, HostContextCarriesTheNewKeys) {
  auto c = HostContext();
  for (const char* key : {"cpu_governor", "thp_enabled", "thp_defrag", "build_type", "compiler",
                          "qemu_version", "libvirt_version"}) {
    ASSERT_TRUE(c.count(key)) << key;
    EXPECT_FALSE(c[key].empty()) << key;
  }
}

}  // namespace
}  // namespace cvb::bench
